import { createCipheriv, createDecipheriv } from 'node:crypto';
import { toPlainBytes } from './bytes.util';

/** Poly1305 tag length of ChaCha20-Poly1305 (RFC 8439). */
export const CHACHA_POLY_TAG_BYTES = 16;

/** ChaCha20-Poly1305 (RFC 8439) encryption with node:crypto: the ciphertext and its tag. */
export function chachaPolySeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): { body: Buffer; tag: Buffer } {
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: CHACHA_POLY_TAG_BYTES });
  cipher.setAAD(aad, { plaintextLength: plaintext.length });
  // A stream cipher: final() adds nothing, but is what makes the tag available.
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { body, tag: cipher.getAuthTag() };
}

/** Opens ChaCha20-Poly1305; null on a tag mismatch (tampered bytes, wrong key or wrong aad). */
export function chachaPolyOpen(key: Uint8Array, nonce: Uint8Array, body: Uint8Array, tag: Uint8Array, aad: Uint8Array): Uint8Array | null {
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: CHACHA_POLY_TAG_BYTES });
  decipher.setAuthTag(tag);
  decipher.setAAD(aad, { plaintextLength: body.length });
  const plaintext = decipher.update(body);
  try {
    decipher.final();
  } catch {
    // Never hand out unauthenticated plaintext.
    plaintext.fill(0);
    return null;
  }
  return toPlainBytes(plaintext);
}
