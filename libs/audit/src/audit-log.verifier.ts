import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { TextDecoder } from 'node:util';
import {
  AUDIT_GENESIS_HASH,
  AuditReadError,
  auditEntryHash,
  auditEntryLine,
  auditSignatureValid,
  parseAuditLine,
  type AuditEntry,
} from './audit-entry.model';

/** Why verification stopped. See the lib's README for how each is told apart. */
export type VerifyReason = 'edited' | 'reordered' | 'deleted' | 'truncated' | 'wrong-key' | 'bad-signature' | 'malformed' | 'chain-broken';

/** The first bad entry: its seq (the seq that belongs at that place in the chain), its 1-based line, why. */
export interface VerifyProblem {
  seq: number | null;
  line: number;
  reason: VerifyReason;
  message: string;
}

/** What `verifyAuditLog` found. `entries` counts the entries verified good before the first problem. */
export interface VerifyResult {
  ok: boolean;
  entries: number;
  firstProblem: VerifyProblem | null;
  /** The key every verified entry is signed by (base64); null for an empty log. */
  signer: string | null;
  /** Hash of the last verified entry; null if none verified. Note it with `entries - 1` to detect a later truncation. */
  lastHash: string | null;
}

/** Options of `verifyAuditLog`. */
export interface VerifyOptions {
  /** Base64 Ed25519 public key every entry must be signed by; by default the first entry's signer. */
  expectedSigner?: string;
  /** A seq and hash vouched for elsewhere (a receipt, an earlier export): the log must still hold exactly that entry. */
  lastReceipt?: { seq: number; hash: string };
}

interface RawLine {
  text: string | null;
  terminated: boolean;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function splitLines(bytes: Buffer): RawLine[] {
  const lines: RawLine[] = [];
  let start = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(0x0a, start);
    const stop = end < 0 ? bytes.length : end;
    let text: string | null;
    try {
      text = strictUtf8.decode(bytes.subarray(start, stop));
    } catch (error) {
      // Invalid UTF-8 cannot have been written by the log; the line is reported as malformed.
      // Checked by code, not instanceof: the error comes from Node's own realm, which differs from jest's.
      if ((error as NodeJS.ErrnoException).code !== 'ERR_ENCODING_INVALID_ENCODED_DATA') throw error;
      text = null;
    }
    lines.push({ text, terminated: end >= 0 });
    start = stop + 1;
  }
  return lines;
}

function readBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new AuditReadError(`cannot read audit log ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

/** A well-formed entry's claimed seq and hash, for telling a reordering from a deletion. */
function peek(line: RawLine): { seq: number; hash: string } | null {
  if (line.text === null) return null;
  const parsed = parseAuditLine(line.text);
  return 'entry' in parsed ? { seq: parsed.entry.seq, hash: parsed.entry.hash } : null;
}

interface Walk {
  verified: AuditEntry[];
  problem: VerifyProblem | null;
  signer: string | null;
}

function walk(lines: RawLine[], options: VerifyOptions): Walk {
  const verified: AuditEntry[] = [];
  let signer = options.expectedSigner ?? null;
  let prevHash = AUDIT_GENESIS_HASH;
  const stop = (index: number, reason: VerifyReason, message: string): Walk => ({
    verified,
    problem: { seq: verified.length, line: index + 1, reason, message },
    signer: verified.length > 0 ? signer : (options.expectedSigner ?? null),
  });
  for (let index = 0; index < lines.length; index += 1) {
    const expected = verified.length;
    const raw = lines[index];
    if (!raw.terminated) {
      return stop(index, 'truncated', `line ${index + 1} is cut short (no newline): a write was interrupted or the tail was cut; reopening the log repairs a crash`);
    }
    if (raw.text === null) return stop(index, 'malformed', `line ${index + 1} is not valid UTF-8`);
    const parsed = parseAuditLine(raw.text);
    if ('malformed' in parsed) return stop(index, 'malformed', `line ${index + 1}: ${parsed.malformed}`);
    const entry = parsed.entry;
    if (auditEntryLine(entry) !== raw.text) return stop(index, 'edited', `line ${index + 1} is not in the form the log writes (its bytes were changed)`);
    if (auditEntryHash(entry) !== entry.hash) return stop(index, 'edited', `line ${index + 1}: the content does not match its hash`);
    if (!auditSignatureValid(entry)) return stop(index, 'bad-signature', `line ${index + 1}: the signature is not valid for the key it names`);
    if (signer === null) signer = entry.signer;
    if (entry.signer !== signer) {
      const pinned = options.expectedSigner !== undefined ? 'the expected key' : "the first entry's key";
      return stop(index, 'wrong-key', `line ${index + 1} is validly signed, but by a key other than ${pinned}`);
    }
    if (entry.seq !== expected) {
      const laterIndex = lines.findIndex((line, i) => i > index && peek(line)?.seq === expected);
      if (entry.seq < expected || laterIndex >= 0) {
        const where = laterIndex >= 0 ? `; seq ${expected} is on line ${laterIndex + 1}` : '';
        return stop(index, 'reordered', `line ${index + 1} holds seq ${entry.seq} where seq ${expected} belongs${where}`);
      }
      const missing = entry.seq - expected === 1 ? `entry ${expected} is` : `entries ${expected}–${entry.seq - 1} are`;
      return stop(index, 'deleted', `${missing} missing (line ${index + 1} holds seq ${entry.seq})`);
    }
    if (entry.prevHash !== prevHash) {
      const later = lines.findIndex((line, i) => i > index && peek(line)?.hash === entry.prevHash);
      if (later >= 0) return stop(index, 'reordered', `line ${index + 1} points back to the entry on line ${later + 1}, which comes after it`);
      return stop(index, 'chain-broken', `line ${index + 1} does not point back to the entry before it (prevHash mismatch)`);
    }
    verified.push(entry);
    prevHash = entry.hash;
  }
  return { verified, problem: null, signer };
}

function checkReceipt(walked: Walk, lineCount: number, receipt: { seq: number; hash: string }): VerifyProblem | null {
  const { verified } = walked;
  if (verified.length < receipt.seq + 1) {
    return {
      seq: verified.length,
      line: lineCount + 1,
      reason: 'truncated',
      message: `the log ends after ${verified.length} entries, but entry ${receipt.seq} was vouched for: entries ${verified.length}–${receipt.seq} are gone`,
    };
  }
  if (verified[receipt.seq].hash !== receipt.hash) {
    return {
      seq: receipt.seq,
      line: receipt.seq + 1,
      reason: 'truncated',
      message: `entry ${receipt.seq} is not the one vouched for (hash differs): the log was cut and written again from there`,
    };
  }
  return null;
}

function verifyLines(lines: RawLine[], options: VerifyOptions): { result: VerifyResult; verified: AuditEntry[] } {
  const walked = walk(lines, options);
  let problem = walked.problem;
  if (problem === null && options.lastReceipt) problem = checkReceipt(walked, lines.length, options.lastReceipt);
  const last = walked.verified[walked.verified.length - 1];
  return {
    verified: walked.verified,
    result: { ok: problem === null, entries: walked.verified.length, firstProblem: problem, signer: walked.signer, lastHash: last ? last.hash : null },
  };
}

/**
 * Checks a whole audit log: every line's form, hash and signature, one signing key throughout, consecutive
 * seqs and an unbroken hash chain; with `lastReceipt`, also that the log still reaches the vouched-for entry.
 * Stops at and names the FIRST bad entry. Throws `AuditReadError` only if the file cannot be read.
 * @param path - the JSON Lines file
 * @param options - `expectedSigner` pins the key; `lastReceipt` detects a cut tail
 */
export function verifyAuditLog(path: string, options: VerifyOptions = {}): VerifyResult {
  return verifyLines(splitLines(readBytes(path)), options).result;
}

/**
 * Parses every entry of a log without checking hashes, signatures or the chain (use `verifyAuditLog` for
 * that). A last line cut short by a crash is skipped, as reopening the log would cut it; any other line
 * that is not an entry throws `AuditReadError` naming its line number.
 * @param path - the JSON Lines file
 */
export function readAuditLog(path: string): AuditEntry[] {
  const lines = splitLines(readBytes(path));
  const entries: AuditEntry[] = [];
  lines.forEach((line, index) => {
    if (!line.terminated) return;
    const parsed = line.text === null ? { malformed: 'not valid UTF-8' } : parseAuditLine(line.text);
    if ('malformed' in parsed) throw new AuditReadError(`audit log ${path}, line ${index + 1}: ${parsed.malformed}`);
    entries.push(parsed.entry);
  });
  return entries;
}

/**
 * Writes a verified copy of the log to `outPath` (JSON Lines that `verifyAuditLog` accepts on its own) and
 * returns the source's verification result. If the source has a problem, only the entries before it are
 * written and `ok` is false: the copy then holds exactly what could be verified. The copy is written to a
 * temporary file, synced, then renamed, so `outPath` is never half written.
 * @param path - the audit log
 * @param outPath - where to write the copy (replaced if it exists)
 * @param options - as for `verifyAuditLog`
 */
export function exportAuditLog(path: string, outPath: string, options: VerifyOptions = {}): VerifyResult {
  const { result, verified } = verifyLines(splitLines(readBytes(path)), options);
  const temporary = `${outPath}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    const text = verified.map((entry) => auditEntryLine(entry) + '\n').join('');
    const bytes = Buffer.from(text, 'utf8');
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, outPath);
  return result;
}
