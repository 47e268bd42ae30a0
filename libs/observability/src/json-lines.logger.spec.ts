import { JsonLinesLogger, MemoryLogger } from './json-lines.logger';

describe('JsonLinesLogger', () => {
  it('writes one parseable JSON object per line with level, component and fields', () => {
    const lines: string[] = [];
    const logger = new JsonLinesLogger('node', (line) => lines.push(line));

    logger.warn('message.rejected', { code: 'REPLAYED', nodeId: 'abc' });

    expect(lines).toHaveLength(1);
    expect(lines[0].endsWith('\n')).toBe(true);
    const parsed = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(parsed).toMatchObject({ level: 'warn', component: 'node', event: 'message.rejected', code: 'REPLAYED', nodeId: 'abc' });
    expect(Number.isNaN(Date.parse(parsed['t'] as string))).toBe(false);
  });

  it('MemoryLogger keeps lines in order for assertions', () => {
    const logger = new MemoryLogger();
    logger.info('a');
    logger.error('b', { x: 1 });
    expect(logger.lines.map((l) => `${l.level}:${l.event}`)).toEqual(['info:a', 'error:b']);
  });
});
