import { type Cipher, createCipheriv, diffieHellman, generateKeyPairSync, hkdfSync, randomBytes as nodeRandomBytes } from 'node:crypto';
import { assertBytes, toPlainBytes } from './bytes.util';
import { chachaPolyOpen, chachaPolySeal } from './chacha20-poly1305.util';
import { X25519_KEY_BYTES } from './crypto.constants';
import type { EncryptionKeyPair } from './identity.keys';
import { rawPrivateKey, rawPublicKey, x25519PrivateKeyObject, x25519PublicKeyFromSecret, x25519PublicKeyObject } from './node-keys.util';

// Primitives for secure aggregation (Bonawitz et al., "Practical Secure Aggregation for
// Privacy-Preserving Machine Learning", CCS 2017, §4): key agreement (KA), a PRG to expand agreed
// seeds into masks, and authenticated encryption (AE) of the secret shares. They live here because
// only libs/crypto may touch cipher code.

/** Length in bytes of an HKDF-SHA256 key made for {@link aeadSeal} (ChaCha20-Poly1305, RFC 8439 §2.8). */
export const AEAD_KEY_BYTES = 32;
const AEAD_NONCE_BYTES = 12;
const AEAD_TAG_BYTES = 16;
/** Bytes {@link aeadSeal} adds to a plaintext: a 12-byte random nonce and a 16-byte Poly1305 tag. */
export const AEAD_OVERHEAD = AEAD_NONCE_BYTES + AEAD_TAG_BYTES;
/** Most 32-bit words {@link expandMask} produces in one call (1 GiB of keystream). */
export const MAX_MASK_WORDS = 2 ** 28;
const PRG_INFO_PREFIX = new TextEncoder().encode('medfed/secagg/prg/v1|');
const AES_256_KEY_BYTES = 32;
const AES_BLOCK_BYTES = 16;
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A fresh X25519 key pair (RFC 7748) from the operating system's CSPRNG via node:crypto. */
export function generateX25519KeyPair(): EncryptionKeyPair {
  const pair = generateKeyPairSync('x25519');
  return { publicKey: rawPublicKey(pair.publicKey), secretKey: rawPrivateKey(pair.privateKey) };
}

/**
 * The X25519 key pair whose secret scalar is `secretKey` (clamped when used, RFC 7748 §5), so a caller
 * with its own randomness source (a seeded test generator) gets reproducible keys.
 * @param secretKey - 32 random bytes; copied
 */
export function x25519KeyPairFromSecret(secretKey: Uint8Array): EncryptionKeyPair {
  assertBytes(secretKey, 'secretKey', X25519_KEY_BYTES);
  return { publicKey: x25519PublicKeyFromSecret(secretKey), secretKey: new Uint8Array(secretKey) };
}

/**
 * Raw X25519 Diffie-Hellman (RFC 7748 §6.1): the 32-byte shared secret of `secretKey` and `publicKey`.
 * Not a key by itself — run it through {@link hkdfSha256} (or {@link expandMask}, which does).
 * @throws TypeError for wrong lengths, or a low-order `publicKey` (an all-zero secret).
 */
export function x25519SharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  assertBytes(secretKey, 'secretKey', X25519_KEY_BYTES);
  assertBytes(publicKey, 'publicKey', X25519_KEY_BYTES);
  try {
    return toPlainBytes(diffieHellman({ privateKey: x25519PrivateKeyObject(secretKey), publicKey: x25519PublicKeyObject(publicKey) }));
  } catch (error) {
    // OpenSSL refuses exactly one X25519 case: an all-zero result, i.e. a low-order peer key.
    throw new TypeError('publicKey is a low-order X25519 point (the shared secret would be all zero)', { cause: error });
  }
}

/**
 * HKDF with SHA-256 (RFC 5869), via node:crypto.
 * @param ikm - input keying material
 * @param salt - optional salt (may be empty)
 * @param info - context that separates this derivation from every other use of `ikm`
 * @param length - output bytes, 1..8160
 */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  assertBytes(ikm, 'ikm');
  assertBytes(salt, 'salt');
  assertBytes(info, 'info');
  if (!Number.isSafeInteger(length) || length < 1 || length > 255 * 32) {
    throw new TypeError(`length must be an integer in [1, 8160], got ${length}`);
  }
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length));
}

/**
 * The PRG of secure aggregation: expands a seed into `words` pseudo-random 32-bit words.
 * key = HKDF-SHA256(ikm = seed, salt = empty, info = "medfed/secagg/prg/v1|" || context, 32 bytes);
 * output = AES-256-CTR(key, IV = 0^128) keystream, read as little-endian u32 words. Different
 * `context`s give independent streams from one seed, so one agreed secret can mask many rounds.
 * @param seed - the secret seed (a self-mask seed or an X25519 shared secret); any length ≥ 16 bytes
 * @param words - how many words, 0..{@link MAX_MASK_WORDS}
 * @param context - domain separation (study, round, pair); public
 */
export function expandMask(seed: Uint8Array, words: number, context: Uint8Array): Uint32Array {
  assertBytes(seed, 'seed');
  assertBytes(context, 'context');
  if (seed.length < 16) throw new TypeError(`seed must be at least 16 bytes, got ${seed.length} bytes`);
  if (!Number.isSafeInteger(words) || words < 0 || words > MAX_MASK_WORDS) {
    throw new TypeError(`words must be an integer in [0, ${MAX_MASK_WORDS}], got ${words}`);
  }
  const cipher = prgCipher(seed, context);
  // CTR keystream = encryption of zeros; the key is used for this one stream only.
  const stream = Buffer.concat([cipher.update(Buffer.alloc(4 * words)), cipher.final()]);
  const out = new Uint32Array(words);
  if (HOST_IS_LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(stream);
  } else {
    for (let i = 0; i < words; i++) out[i] = stream.readUInt32LE(4 * i);
  }
  stream.fill(0);
  return out;
}

/** The PRG's AES-256-CTR cipher (IV 0) under HKDF-SHA256(seed, "medfed/secagg/prg/v1|" ‖ context); the key is used for this one stream only. */
function prgCipher(seed: Uint8Array, context: Uint8Array): Cipher {
  const info = new Uint8Array(PRG_INFO_PREFIX.length + context.length);
  info.set(PRG_INFO_PREFIX);
  info.set(context, PRG_INFO_PREFIX.length);
  const key = Buffer.from(hkdfSync('sha256', seed, new Uint8Array(0), info, AES_256_KEY_BYTES));
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(AES_BLOCK_BYTES));
  key.fill(0);
  return cipher;
}

/** Keystream bytes produced per step of {@link addMask}: small enough to stay in cache. */
const MASK_CHUNK_BYTES = 64 * 1024;
const ZERO_CHUNK = Buffer.alloc(MASK_CHUNK_BYTES);

/**
 * acc ← acc + sign · {@link expandMask}(seed, acc.length, context) (mod 2^32), without building the
 * whole mask: the keystream is produced and added 64 KiB at a time, so masking a 1M-word update costs
 * no 4 MB allocation per peer. Gives exactly what adding the expandMask output would.
 * @param acc - the words to mask, modified in place; at most {@link MAX_MASK_WORDS}
 * @param seed - as in {@link expandMask}
 * @param context - as in {@link expandMask}
 * @param sign - 1 adds the mask, −1 subtracts it
 */
export function addMask(acc: Uint32Array, seed: Uint8Array, context: Uint8Array, sign: 1 | -1): void {
  assertBytes(seed, 'seed');
  assertBytes(context, 'context');
  if (!(acc instanceof Uint32Array) || acc.length > MAX_MASK_WORDS) throw new TypeError(`acc must be a Uint32Array of at most ${MAX_MASK_WORDS} words`);
  if (seed.length < 16) throw new TypeError(`seed must be at least 16 bytes, got ${seed.length} bytes`);
  const cipher = prgCipher(seed, context);
  const chunkWords = MASK_CHUNK_BYTES / 4;
  const words = new Uint32Array(chunkWords);
  const wordBytes = new Uint8Array(words.buffer);
  for (let start = 0; start < acc.length; start += chunkWords) {
    const n = Math.min(chunkWords, acc.length - start);
    const stream = cipher.update(n === chunkWords ? ZERO_CHUNK : ZERO_CHUNK.subarray(0, 4 * n));
    if (HOST_IS_LITTLE_ENDIAN) wordBytes.set(stream);
    else for (let i = 0; i < n; i++) words[i] = stream.readUInt32LE(4 * i);
    stream.fill(0);
    // Storing into a Uint32Array reduces modulo 2^32.
    if (sign === 1) for (let i = 0; i < n; i++) acc[start + i] += words[i];
    else for (let i = 0; i < n; i++) acc[start + i] -= words[i];
  }
  cipher.final();
  words.fill(0);
}

/**
 * Authenticated encryption under a symmetric key: ChaCha20-Poly1305 (RFC 8439) with a random 96-bit
 * nonce. Output: nonce (12) || ciphertext || tag (16). The AE scheme of Bonawitz et al. §4 for the
 * encrypted secret shares; derive `key` with {@link hkdfSha256} from an {@link x25519SharedSecret}.
 * @param key - 32 bytes
 * @param plaintext - any bytes
 * @param aad - associated data, authenticated but not encrypted or included
 */
export function aeadSeal(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  assertBytes(key, 'key', AEAD_KEY_BYTES);
  assertBytes(plaintext, 'plaintext');
  assertBytes(aad, 'aad');
  const nonce = nodeRandomBytes(AEAD_NONCE_BYTES);
  const { body, tag } = chachaPolySeal(key, nonce, plaintext, aad);
  const sealed = new Uint8Array(AEAD_OVERHEAD + body.length);
  sealed.set(nonce);
  sealed.set(body, AEAD_NONCE_BYTES);
  sealed.set(tag, AEAD_NONCE_BYTES + body.length);
  return sealed;
}

/**
 * Opens what {@link aeadSeal} produced with the same `key` and `aad`. Returns `null` on any failure
 * (tampered, truncated, wrong key or aad); throws `TypeError` only for arguments of the wrong type or length.
 */
export function aeadOpen(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null {
  assertBytes(key, 'key', AEAD_KEY_BYTES);
  assertBytes(sealed, 'sealed');
  assertBytes(aad, 'aad');
  if (sealed.length < AEAD_OVERHEAD) return null;
  const nonce = sealed.subarray(0, AEAD_NONCE_BYTES);
  const body = sealed.subarray(AEAD_NONCE_BYTES, sealed.length - AEAD_TAG_BYTES);
  return chachaPolyOpen(key, nonce, body, sealed.subarray(sealed.length - AEAD_TAG_BYTES), aad);
}
