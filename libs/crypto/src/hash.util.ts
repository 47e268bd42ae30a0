import { createHash } from 'node:crypto';
import { assertBytes, toPlainBytes } from './bytes.util';
import { ED25519_PUBLIC_KEY_BYTES } from './crypto.constants';

/** How many leading digest bytes a key fingerprint keeps. */
const FINGERPRINT_BYTES = 8;

function digest(parts: Uint8Array[]): Buffer {
  parts.forEach((part, index) => assertBytes(part, `parts[${index}]`));
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

/**
 * SHA-256 (FIPS 180-4) of the concatenation of `parts`, hashed incrementally without copying them
 * together. Note the concatenation is not length-prefixed: callers hashing several variable-length
 * fields must frame them themselves.
 * @param parts - zero or more byte arrays
 * @returns the 32-byte digest (`SHA256_BYTES`)
 */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  return toPlainBytes(digest(parts));
}

/** Like `sha256`, as 64 lowercase hex characters. */
export function sha256Hex(...parts: Uint8Array[]): string {
  return digest(parts).toString('hex');
}

/**
 * A short, human-comparable name for a public key: the first 8 bytes of its SHA-256 as 16 lowercase
 * hex characters. For logs and prompts; never a substitute for comparing whole keys.
 * @param publicKey - a 32-byte Ed25519 or X25519 public key
 */
export function keyFingerprint(publicKey: Uint8Array): string {
  assertBytes(publicKey, 'publicKey', ED25519_PUBLIC_KEY_BYTES);
  return digest([publicKey]).subarray(0, FINGERPRINT_BYTES).toString('hex');
}
