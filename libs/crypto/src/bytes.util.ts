import { randomBytes as nodeRandomBytes, timingSafeEqual } from 'node:crypto';
import { types } from 'node:util';

/**
 * Describes a value for an error message without revealing it: byte arrays may hold key material,
 * so only their type and length are ever printed.
 */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (types.isUint8Array(value)) return `${value.length} bytes`;
  if (typeof value === 'object') return value.constructor?.name ?? 'object';
  return typeof value;
}

/**
 * Throws a `TypeError` naming `name` unless `value` is a `Uint8Array` (a `Buffer` is one) of
 * `expectedBytes` bytes, when given. Runs before any cryptography so bad input never reaches a cipher.
 * @param value - the argument to check
 * @param name - the argument's name, used in the message
 * @param expectedBytes - the exact length required; any length when omitted
 */
export function assertBytes(value: unknown, name: string, expectedBytes?: number): asserts value is Uint8Array {
  // util.types works across realms (jest runs specs in a separate VM context, where
  // `instanceof Uint8Array` is false for a Buffer made by Node itself).
  if (!types.isUint8Array(value)) {
    throw new TypeError(`${name} must be a Uint8Array, got ${describeValue(value)}`);
  }
  if (expectedBytes !== undefined && value.length !== expectedBytes) {
    throw new TypeError(`${name} must be ${expectedBytes} bytes, got ${value.length} bytes`);
  }
}

/**
 * Returns the bytes of a Node `Buffer` as a plain `Uint8Array`, copying only when the buffer is a
 * slice of a larger (possibly pooled) allocation so callers never see unrelated memory.
 */
export function toPlainBytes(buffer: Uint8Array): Uint8Array {
  if (buffer.byteOffset === 0 && buffer.buffer.byteLength === buffer.length) {
    return new Uint8Array(buffer.buffer, 0, buffer.length);
  }
  return new Uint8Array(buffer);
}

/** Concatenates byte arrays into one new `Uint8Array`. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/**
 * Returns `n` cryptographically secure random bytes from the operating system (node:crypto).
 * @param n - how many bytes; a non-negative safe integer, else `TypeError`
 */
export function randomBytes(n: number): Uint8Array {
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new TypeError(`n must be a non-negative integer, got ${typeof n === 'number' ? n : typeof n}`);
  }
  return toPlainBytes(nodeRandomBytes(n));
}

/**
 * Encodes bytes as standard padded base64 (RFC 4648 §4).
 * @param bytes - any `Uint8Array`
 */
export function toBase64(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64');
}

/**
 * Decodes standard padded base64 (RFC 4648 §4), strictly: anything `toBase64` would not have
 * produced (whitespace, missing or extra padding, URL-safe letters, non-zero padding bits) throws a
 * `TypeError`, so one key has exactly one text form. The message never repeats the text, which may be
 * a secret key.
 * @param text - the base64 text
 * @param expectedBytes - when given, the decoded length must equal it, else `TypeError`
 */
export function fromBase64(text: string, expectedBytes?: number): Uint8Array {
  if (typeof text !== 'string') {
    throw new TypeError(`text must be a base64 string, got ${describeValue(text)}`);
  }
  // Node's decoder skips characters it does not know; re-encoding and comparing is what makes it strict.
  const decoded = Buffer.from(text, 'base64');
  if (decoded.toString('base64') !== text) {
    throw new TypeError(`text is not canonical padded base64 (${text.length} characters)`);
  }
  if (expectedBytes !== undefined && decoded.length !== expectedBytes) {
    throw new TypeError(`text must decode to ${expectedBytes} bytes, got ${decoded.length} bytes`);
  }
  return toPlainBytes(decoded);
}

/**
 * Compares two byte arrays in time that depends only on their lengths (node:crypto `timingSafeEqual`).
 * Arrays of different lengths are unequal; lengths are not treated as secret.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  assertBytes(a, 'a');
  assertBytes(b, 'b');
  if (a.length !== b.length) return false;
  return timingSafeEqual(a, b);
}

/** Parses lowercase or uppercase hex into bytes; for test vectors and fixtures. */
export function fromHex(hex: string): Uint8Array {
  if (typeof hex !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(hex)) {
    throw new TypeError(`hex must be an even-length hex string (${typeof hex === 'string' ? hex.length : typeof hex})`);
  }
  return toPlainBytes(Buffer.from(hex, 'hex'));
}

/** Encodes bytes as lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  assertBytes(bytes, 'bytes');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

/** Encodes bytes as unpadded base64url (RFC 4648 §5), the encoding JWK (RFC 7517) uses. */
export function toBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('base64url');
}

/** Decodes base64url produced by node:crypto's JWK export (trusted input, so not strict). */
export function fromBase64Url(text: string): Uint8Array {
  return toPlainBytes(Buffer.from(text, 'base64url'));
}
