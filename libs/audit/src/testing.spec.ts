import { AuditWriteError } from './audit-entry.model';
import { FailingAuditSink, MemoryAuditSink } from './testing';

describe('audit test doubles', () => {
  it('MemoryAuditSink chains entries and applies the same guard as AuditLog', () => {
    const sink = new MemoryAuditSink();
    const first = sink.append('node.started', {});
    const second = sink.append('node.stopped', {});
    expect(second.prevHash).toBe(first.hash);
    expect(sink.events()).toEqual(['node.started', 'node.stopped']);
    expect(() => sink.append('message.sent', { rows: 1 })).toThrow(AuditWriteError);
  });

  it('FailingAuditSink always throws AuditWriteError and counts attempts', () => {
    const sink = new FailingAuditSink();
    expect(() => sink.append('message.sent', {})).toThrow(AuditWriteError);
    expect(sink.attempts).toBe(1);
  });
});
