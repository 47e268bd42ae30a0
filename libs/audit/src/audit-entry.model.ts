import { defaultSigner, fromBase64, sha256Hex, toBase64, type SigningKeyPair } from '@medfed/crypto';
import { canonicalJson, isPlainObject } from './canonical-json.util';

/** The format tag every entry carries; a new tag means a new, incompatible layout. */
export const AUDIT_FORMAT = 'medfed-audit/1';

/** The `prevHash` of entry 0: 64 hex zeros. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

/** Every event an audit entry can name. Adding one is compatible; renaming one is a new `AUDIT_FORMAT`. */
export const AUDIT_EVENTS = [
  'node.started',
  'node.stopped',
  'coordinator.started',
  'coordinator.stopped',
  'config.loaded',
  'policy.changed',
  'enrolment',
  'manifest.approved',
  'manifest.revoked',
  'manifest.declined',
  'task.refused',
  'round.joined',
  'message.sent',
  'message.received',
  'receipt.stored',
  'privacy.spent',
  'input.rejected',
  'model.saved',
  'model.evaluated',
  'statistics.sent',
  'contribution.accepted',
  'receipt.issued',
] as const;

/** One of {@link AUDIT_EVENTS}. */
export type AuditEventName = (typeof AUDIT_EVENTS)[number];

/** A JSON value allowed in `details`: ids, counts, sizes, hashes, codes — never data (see `assertSafeDetails`). */
export type AuditValue = string | number | boolean | null | AuditValue[] | { [k: string]: AuditValue };

/**
 * One line of the audit log. `hash` is the SHA-256 (hex) of the canonical JSON (RFC 8785: sorted keys, no
 * whitespace) of every field except `hash` and `sig`; `sig` is Ed25519 (RFC 8032, base64) over the 32 bytes
 * of that hash; `prevHash` is the previous entry's `hash`, chaining the entries.
 */
export interface AuditEntry {
  format: typeof AUDIT_FORMAT;
  /** 0, 1, 2… without gaps. */
  seq: number;
  /** ISO 8601 UTC time, as `Date.prototype.toISOString` writes it. */
  at: string;
  event: AuditEventName;
  details: Record<string, AuditValue>;
  /** `AUDIT_GENESIS_HASH` for seq 0. */
  prevHash: string;
  /** Base64 Ed25519 public key of the writer. */
  signer: string;
  hash: string;
  sig: string;
}

/** The log could not be written (or the details were refused): the caller must stop sending. */
export class AuditWriteError extends Error {
  override readonly name = 'AuditWriteError';
}

/** The log file could not be read at all (missing, unreadable) or a line is not an entry. */
export class AuditReadError extends Error {
  override readonly name = 'AuditReadError';
}

/** The fields an entry's hash covers. */
export type AuditEntryBody = Omit<AuditEntry, 'hash' | 'sig'>;

/** SHA-256 hex of the canonical JSON of `body` (only the body fields are read, so a whole entry may be passed). */
export function auditEntryHash(body: AuditEntryBody): string {
  const { format, seq, at, event, details, prevHash, signer } = body;
  return sha256Hex(new TextEncoder().encode(canonicalJson({ format, seq, at, event, details, prevHash, signer })));
}

/** Hashes and signs `body` with `signing`, returning the complete entry. */
export function sealAuditEntry(body: AuditEntryBody, signing: SigningKeyPair): AuditEntry {
  const hash = auditEntryHash(body);
  const sig = toBase64(defaultSigner.sign(Buffer.from(hash, 'hex'), signing.secretKey));
  return { ...body, hash, sig };
}

/** The exact line (without its newline) an entry is stored as: its canonical JSON. */
export function auditEntryLine(entry: AuditEntry): string {
  return canonicalJson(entry);
}

/** Whether `entry.sig` is a valid Ed25519 signature by `entry.signer` over `entry.hash`. Never throws. */
export function auditSignatureValid(entry: AuditEntry): boolean {
  try {
    return defaultSigner.verify(Buffer.from(entry.hash, 'hex'), fromBase64(entry.sig, 64), fromBase64(entry.signer, 32));
  } catch (error) {
    // Non-canonical base64 or a wrong length is as bad as a wrong signature; the shape check reports it first.
    if (error instanceof TypeError) return false;
    throw error;
  }
}

const FIELDS = ['at', 'details', 'event', 'format', 'hash', 'prevHash', 'seq', 'sig', 'signer'];
const HEX64 = /^[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const EVENT_SET: ReadonlySet<string> = new Set(AUDIT_EVENTS);

function isBase64Of(text: unknown, bytes: number): boolean {
  if (typeof text !== 'string') return false;
  try {
    fromBase64(text, bytes);
    return true;
  } catch (error) {
    if (error instanceof TypeError) return false;
    throw error;
  }
}

/**
 * Parses one stored line into an entry, checking its shape only (fields, types, formats) — not its hash,
 * signature or place in the chain. Returns the reason text when the line is not an entry.
 */
export function parseAuditLine(line: string): { entry: AuditEntry } | { malformed: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    return { malformed: `not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { malformed: 'not a JSON object' };
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  const missing = FIELDS.filter((field) => !(field in record));
  if (missing.length > 0) return { malformed: `missing field(s) ${missing.join(', ')}` };
  const extra = keys.filter((key) => !FIELDS.includes(key));
  if (extra.length > 0) return { malformed: `unexpected field(s) ${extra.join(', ')}` };
  if (record['format'] !== AUDIT_FORMAT) return { malformed: `format is not ${AUDIT_FORMAT}` };
  if (!Number.isSafeInteger(record['seq']) || (record['seq'] as number) < 0) return { malformed: 'seq is not a non-negative integer' };
  if (typeof record['at'] !== 'string' || !ISO_TIME.test(record['at']) || Number.isNaN(Date.parse(record['at']))) {
    return { malformed: 'at is not an ISO 8601 UTC time' };
  }
  if (typeof record['event'] !== 'string' || !EVENT_SET.has(record['event'])) return { malformed: 'event is not a known audit event' };
  const details = record['details'];
  if (typeof details !== 'object' || details === null || Array.isArray(details) || !isPlainObject(details)) {
    return { malformed: 'details is not an object' };
  }
  for (const field of ['prevHash', 'hash']) {
    if (typeof record[field] !== 'string' || !HEX64.test(record[field] as string)) return { malformed: `${field} is not 64 lowercase hex characters` };
  }
  if (!isBase64Of(record['signer'], 32)) return { malformed: 'signer is not a base64 32-byte key' };
  if (!isBase64Of(record['sig'], 64)) return { malformed: 'sig is not a base64 64-byte signature' };
  try {
    canonicalJson(details, 'details');
  } catch (error) {
    // JSON.parse accepts 1e999 (Infinity), which no entry can hold: report it rather than throw later.
    if (error instanceof TypeError) return { malformed: error.message };
    throw error;
  }
  return { entry: record as unknown as AuditEntry };
}
