/**
 * Structured logging for the coordinator and the nodes. Every line is an event name plus plain fields; callers
 * pass ids, counts, sizes and codes only — never payload contents — so the log is safe to ship.
 */
export interface Logger {
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

/** Writes one JSON object per line to a stream (stdout by default). */
export class JsonLinesLogger implements Logger {
  constructor(
    private readonly component: string,
    private readonly write: (line: string) => void = (line) => process.stdout.write(line),
  ) {}

  info(event: string, fields: Record<string, unknown> = {}): void {
    this.emit('info', event, fields);
  }

  warn(event: string, fields: Record<string, unknown> = {}): void {
    this.emit('warn', event, fields);
  }

  error(event: string, fields: Record<string, unknown> = {}): void {
    this.emit('error', event, fields);
  }

  private emit(level: string, event: string, fields: Record<string, unknown>): void {
    this.write(JSON.stringify({ t: new Date().toISOString(), level, component: this.component, event, ...fields }) + '\n');
  }
}

/** Discards everything; for tests that assert on state rather than on log lines. */
export class SilentLogger implements Logger {
  info(): void {
    // Silence is the point of this logger.
  }
  warn(): void {
    // Silence is the point of this logger.
  }
  error(): void {
    // Silence is the point of this logger.
  }
}

/** Keeps every line in memory so tests can assert what was logged. */
export class MemoryLogger implements Logger {
  readonly lines: { level: string; event: string; fields: Record<string, unknown> }[] = [];
  info(event: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'info', event, fields });
  }
  warn(event: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'warn', event, fields });
  }
  error(event: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level: 'error', event, fields });
  }
}
