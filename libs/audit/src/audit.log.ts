import { closeSync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readSync, writeSync, existsSync, fsyncSync } from 'node:fs';
import { dirname } from 'node:path';
import { toBase64, type Identity, type SigningKeyPair } from '@medfed/crypto';
import {
  AUDIT_EVENTS,
  AUDIT_FORMAT,
  AUDIT_GENESIS_HASH,
  AuditWriteError,
  auditEntryHash,
  auditEntryLine,
  auditSignatureValid,
  parseAuditLine,
  sealAuditEntry,
  type AuditEntry,
  type AuditEventName,
  type AuditValue,
} from './audit-entry.model';
import { canonicalJson } from './canonical-json.util';
import { assertSafeDetails } from './safe-details.guard';

/** Anything that records audit events; `AuditLog` is the real one, `MemoryAuditSink` (testing) the double. */
export interface AuditSink {
  /** Records one event; throws `AuditWriteError` when it cannot, and the caller must then stop sending. */
  append(event: AuditEventName, details: Record<string, AuditValue>): AuditEntry;
}

/** Options of `AuditLog.open`. */
export interface AuditLogOptions {
  /** The clock for `at`; `() => new Date()` by default. */
  now?: () => Date;
}

const EVENT_SET: ReadonlySet<string> = new Set(AUDIT_EVENTS);
const NEWLINE = 0x0a;
const TAIL_CHUNK_BYTES = 64 * 1024;

function describeError(error: unknown): string {
  if (error instanceof Error) return (error as NodeJS.ErrnoException).code ?? error.message;
  return String(error);
}

interface Tail {
  /** Bytes up to and including the last newline. */
  completeBytes: number;
  /** The last complete line, without its newline; null if the file has none. */
  lastLine: string | null;
}

/** Reads backwards from the end until it has the last complete line, so opening a long log stays cheap. */
function readTail(fd: number, size: number): Tail {
  let start = size;
  let buffer = Buffer.alloc(0);
  let lastNewline = -1;
  while (start > 0) {
    const chunkStart = Math.max(0, start - TAIL_CHUNK_BYTES);
    const chunk = Buffer.alloc(start - chunkStart);
    readSync(fd, chunk, 0, chunk.length, chunkStart);
    buffer = Buffer.concat([chunk, buffer]);
    start = chunkStart;
    // Positions are relative to `buffer`, which always ends at `size`.
    if (lastNewline < 0) lastNewline = buffer.lastIndexOf(NEWLINE);
    else lastNewline += chunk.length;
    if (lastNewline >= 0) {
      const previous = lastNewline === 0 ? -1 : buffer.lastIndexOf(NEWLINE, lastNewline - 1);
      if (previous >= 0 || start === 0) {
        return { completeBytes: start + lastNewline + 1, lastLine: buffer.subarray(previous + 1, lastNewline).toString('utf8') };
      }
    }
  }
  return { completeBytes: 0, lastLine: null };
}

/**
 * The audit log: append-only, hash-chained, Ed25519-signed entries in one JSON Lines file, one writer per
 * file. Each `append` writes one line and calls fdatasync before returning, so an entry that was returned
 * survives a crash or power loss; a refused or failed append throws `AuditWriteError` and the caller must
 * stop sending. Opening an existing file continues its chain after checking its last entry (shape, hash,
 * signature, and that this identity signed it); a last line cut short by a killed process is truncated away
 * and its length recorded as `details.repairedBytes` of the next entry.
 */
export class AuditLog implements AuditSink {
  private nextSeq: number;
  private headHash: string;
  private size: number;
  private pendingRepairBytes: number;

  private constructor(
    /** The log file. */
    readonly path: string,
    private fd: number | null,
    private readonly signing: SigningKeyPair,
    private readonly signer: string,
    private readonly now: () => Date,
    state: { nextSeq: number; headHash: string; size: number; repairedBytes: number },
  ) {
    this.nextSeq = state.nextSeq;
    this.headHash = state.headHash;
    this.size = state.size;
    this.pendingRepairBytes = state.repairedBytes;
  }

  /**
   * Opens (creating it and its directory if needed) the log at `path` for appending, signed by `identity`.
   * Throws `AuditWriteError` if the file cannot be opened, if its last complete entry is not a valid entry
   * signed by `identity`'s key (a tampered or foreign log is never continued), or if the key pair is inconsistent.
   * @param path - the JSON Lines file
   * @param identity - the node's or coordinator's identity; only its Ed25519 pair is used
   * @param options - `now`, the clock (tests)
   */
  static open(path: string, identity: Identity, options: AuditLogOptions = {}): AuditLog {
    const signing = identity.signing;
    if (!signing || signing.publicKey?.length !== 32 || signing.secretKey?.length !== 64) {
      throw new AuditWriteError('audit identity must hold an Ed25519 key pair (32-byte public, 64-byte secret key)');
    }
    if (!Buffer.from(signing.secretKey.subarray(32)).equals(Buffer.from(signing.publicKey))) {
      throw new AuditWriteError('audit identity: the public key does not belong to the secret key');
    }
    const signer = toBase64(signing.publicKey);
    let fd: number;
    let created: boolean;
    try {
      mkdirSync(dirname(path), { recursive: true });
      created = !existsSync(path);
      // a+: O_APPEND, so every write lands at the end whatever the file position; reads for the tail.
      fd = openSync(path, 'a+', 0o600);
    } catch (error) {
      throw new AuditWriteError(`cannot open audit log ${path}: ${describeError(error)}`);
    }
    try {
      if (created) AuditLog.syncDirectory(dirname(path));
      const state = AuditLog.recover(fd, path, signer);
      return new AuditLog(path, fd, signing, signer, options.now ?? (() => new Date()), state);
    } catch (error) {
      closeSync(fd);
      if (error instanceof AuditWriteError) throw error;
      throw new AuditWriteError(`cannot open audit log ${path}: ${describeError(error)}`);
    }
  }

  /** Makes a newly created file's directory entry durable (Linux/macOS; Windows cannot open directories). */
  private static syncDirectory(directory: string): void {
    if (process.platform === 'win32') return;
    const dirFd = openSync(directory, 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }

  private static recover(fd: number, path: string, signer: string): { nextSeq: number; headHash: string; size: number; repairedBytes: number } {
    const size = fstatSync(fd).size;
    if (size === 0) return { nextSeq: 0, headHash: AUDIT_GENESIS_HASH, size: 0, repairedBytes: 0 };
    const tail = readTail(fd, size);
    let nextSeq = 0;
    let headHash = AUDIT_GENESIS_HASH;
    if (tail.lastLine !== null) {
      const parsed = parseAuditLine(tail.lastLine);
      if ('malformed' in parsed) throw new AuditWriteError(`audit log ${path}: last entry is malformed (${parsed.malformed}); run verify`);
      const last = parsed.entry;
      if (auditEntryLine(last) !== tail.lastLine || auditEntryHash(last) !== last.hash) {
        throw new AuditWriteError(`audit log ${path}: last entry (seq ${last.seq}) was edited; run verify`);
      }
      if (!auditSignatureValid(last)) throw new AuditWriteError(`audit log ${path}: last entry (seq ${last.seq}) has a bad signature; run verify`);
      if (last.signer !== signer) {
        throw new AuditWriteError(`audit log ${path} is signed by another key; start a new log file for this identity`);
      }
      nextSeq = last.seq + 1;
      headHash = last.hash;
    }
    const repairedBytes = size - tail.completeBytes;
    if (repairedBytes > 0) {
      // The cut-short line was never acknowledged (append returns only after the newline is synced), so nothing acted on it.
      ftruncateSync(fd, tail.completeBytes);
      fdatasyncSync(fd);
    }
    return { nextSeq, headHash, size: tail.completeBytes, repairedBytes };
  }

  /** Number of entries in the log (the next entry's seq). */
  get length(): number {
    return this.nextSeq;
  }

  /** Hash of the last entry; `AUDIT_GENESIS_HASH` for an empty log. */
  get lastHash(): string {
    return this.headHash;
  }

  /**
   * Appends one signed entry and syncs it to disk before returning it. Throws `AuditWriteError` when the
   * log is closed, the event is unknown, the details are refused by `assertSafeDetails`, or the write or
   * sync fails (the partial line is then cut off again).
   * @param event - one of `AUDIT_EVENTS`
   * @param details - ids, counts, sizes, hashes, codes (copied; later changes by the caller do not matter)
   */
  append(event: AuditEventName, details: Record<string, AuditValue>): AuditEntry {
    if (this.fd === null) throw new AuditWriteError(`audit log ${this.path} is closed`);
    if (!EVENT_SET.has(event)) throw new AuditWriteError(`unknown audit event "${String(event).slice(0, 64)}"`);
    assertSafeDetails(details);
    const copy = JSON.parse(canonicalJson(details, 'details')) as Record<string, AuditValue>;
    if (this.pendingRepairBytes > 0) copy['repairedBytes'] = this.pendingRepairBytes;
    const entry = sealAuditEntry(
      { format: AUDIT_FORMAT, seq: this.nextSeq, at: this.now().toISOString(), event, details: copy, prevHash: this.headHash, signer: this.signer },
      this.signing,
    );
    const line = Buffer.from(auditEntryLine(entry) + '\n', 'utf8');
    try {
      let written = 0;
      while (written < line.length) written += writeSync(this.fd, line, written, line.length - written);
      fdatasyncSync(this.fd);
    } catch (error) {
      this.rollBack();
      throw new AuditWriteError(`cannot write audit entry ${entry.seq} to ${this.path}: ${describeError(error)}`);
    }
    this.size += line.length;
    this.nextSeq += 1;
    this.headHash = entry.hash;
    this.pendingRepairBytes = 0;
    return entry;
  }

  /** Cuts a partly written line off so the file ends at the last good entry; if even that fails, the log refuses further appends. */
  private rollBack(): void {
    if (this.fd === null) return;
    try {
      ftruncateSync(this.fd, this.size);
    } catch (error) {
      // The file may now end in a partial line; reopening repairs that, but this handle must not write after it.
      closeSync(this.fd);
      this.fd = null;
      throw new AuditWriteError(`audit log ${this.path} could not be rolled back (${describeError(error)}); reopen it`);
    }
  }

  /** Closes the file; further appends throw `AuditWriteError`. Calling it twice is harmless. */
  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }
}
