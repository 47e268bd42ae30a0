import {
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  KeyObject,
  randomBytes as nodeRandomBytes,
} from 'node:crypto';
import nacl from 'tweetnacl';
import { assertBytes, concatBytes } from './bytes.util';
import { chachaPolyOpen, chachaPolySeal } from './chacha20-poly1305.util';
import { X25519_KEY_BYTES } from './crypto.constants';
import { EncryptionKeyPair } from './identity.keys';
import { rawPublicKey, x25519PrivateKeyObject, x25519PublicKeyObject } from './node-keys.util';

/**
 * Anonymous-sender public-key encryption with associated data: anyone holding the recipient's
 * X25519 public key can seal; only the recipient can open, and only with the same `aad`. The
 * ciphertext says nothing about who sealed it — a signature over the payload authenticates the sender.
 */
export interface Sealer {
  /**
   * Encrypts `plaintext` to `recipientPublicKey`, binding `aad` (which is not encrypted or included).
   * Throws `TypeError` for arguments of the wrong type or length, or for a low-order public key
   * (one that would give an all-zero shared secret).
   */
  seal(plaintext: Uint8Array, recipientPublicKey: Uint8Array, aad: Uint8Array): Uint8Array;
  /**
   * Decrypts what `seal` produced for `recipient` with the same `aad`. Returns `null` on any failure —
   * tampered, truncated, another sealer's format, wrong key, wrong aad — and throws `TypeError`
   * only for arguments of the wrong type or length.
   */
  open(sealed: Uint8Array, recipient: EncryptionKeyPair, aad: Uint8Array): Uint8Array | null;
}

/** First byte of `nodeSealer` output: X25519 + HKDF-SHA256 + ChaCha20-Poly1305, layout v1. */
export const NODE_SEAL_VERSION = 0x01;
/** First byte of `tweetnaclSealer` output: NaCl box (X25519 + XSalsa20-Poly1305), aad in the nonce. */
export const NACL_SEAL_VERSION = 0x02;

/** HKDF `info` string (RFC 5869) that separates this key derivation from every other use of the secret. */
const HKDF_INFO = new TextEncoder().encode('medfed/seal/v1');
const CHACHA_KEY_BYTES = 32;
/** ChaCha20-Poly1305 nonce length (RFC 8439 §2.8). */
export const CHACHA_NONCE_BYTES = 12;
/** Poly1305 tag length (RFC 8439 §2.8). */
export const POLY1305_TAG_BYTES = 16;
const VERSION_BYTES = 1;
const NODE_HEADER_BYTES = VERSION_BYTES + X25519_KEY_BYTES + CHACHA_NONCE_BYTES;
/** Bytes `nodeSealer` adds to a plaintext: version, ephemeral key, nonce and tag. */
export const NODE_SEAL_OVERHEAD = NODE_HEADER_BYTES + POLY1305_TAG_BYTES;
const NACL_HEADER_BYTES = VERSION_BYTES + X25519_KEY_BYTES;
/** Bytes `tweetnaclSealer` adds to a plaintext: version, ephemeral key and the box's Poly1305 tag. */
export const NACL_SEAL_OVERHEAD = NACL_HEADER_BYTES + nacl.box.overheadLength;

function assertRecipient(recipient: unknown): asserts recipient is EncryptionKeyPair {
  if (typeof recipient !== 'object' || recipient === null) {
    throw new TypeError(`recipient must be an EncryptionKeyPair, got ${recipient === null ? 'null' : typeof recipient}`);
  }
  const { publicKey, secretKey } = recipient as Partial<EncryptionKeyPair>;
  assertBytes(publicKey, 'recipient.publicKey', X25519_KEY_BYTES);
  assertBytes(secretKey, 'recipient.secretKey', X25519_KEY_BYTES);
}

function lowOrderKeyError(cause?: unknown): TypeError {
  return new TypeError('recipientPublicKey is a low-order X25519 point (the shared secret would be all zero)', { cause });
}

/** HKDF-SHA256(shared, salt = ephemeralPublic || recipientPublic, info "medfed/seal/v1") → 32-byte key. */
function deriveChachaKey(shared: Uint8Array, ephemeralPublic: Uint8Array, recipientPublic: Uint8Array): Buffer {
  const salt = concatBytes(ephemeralPublic, recipientPublic);
  return Buffer.from(hkdfSync('sha256', shared, salt, HKDF_INFO, CHACHA_KEY_BYTES));
}

/**
 * Sealing with node:crypto: a fresh ephemeral X25519 key per message, its Diffie-Hellman secret with
 * the recipient's key run through HKDF-SHA256 (RFC 5869; salt = ephemeral public || recipient public,
 * info "medfed/seal/v1"), then ChaCha20-Poly1305 (RFC 8439) with a random 96-bit nonce and `aad`.
 * Output: version 0x01 || ephemeral public (32) || nonce (12) || ciphertext || tag (16).
 */
export const nodeSealer: Sealer = {
  seal(plaintext, recipientPublicKey, aad) {
    assertBytes(plaintext, 'plaintext');
    assertBytes(recipientPublicKey, 'recipientPublicKey', X25519_KEY_BYTES);
    assertBytes(aad, 'aad');
    const recipientKey = x25519PublicKeyObject(recipientPublicKey);
    const ephemeral = generateKeyPairSync('x25519');
    const ephemeralPublic = rawPublicKey(ephemeral.publicKey);
    let shared: Buffer;
    try {
      shared = diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipientKey });
    } catch (error) {
      // OpenSSL refuses exactly one X25519 case: an all-zero result, i.e. a low-order peer key.
      throw lowOrderKeyError(error);
    }
    const key = deriveChachaKey(shared, ephemeralPublic, recipientPublicKey);
    shared.fill(0);
    const nonce = nodeRandomBytes(CHACHA_NONCE_BYTES);
    const { body, tag } = chachaPolySeal(key, nonce, plaintext, aad);
    key.fill(0);
    const sealed = new Uint8Array(NODE_SEAL_OVERHEAD + body.length);
    sealed[0] = NODE_SEAL_VERSION;
    sealed.set(ephemeralPublic, VERSION_BYTES);
    sealed.set(nonce, VERSION_BYTES + X25519_KEY_BYTES);
    sealed.set(body, NODE_HEADER_BYTES);
    sealed.set(tag, sealed.length - POLY1305_TAG_BYTES);
    return sealed;
  },

  open(sealed, recipient, aad) {
    assertBytes(sealed, 'sealed');
    assertRecipient(recipient);
    assertBytes(aad, 'aad');
    if (sealed.length < NODE_SEAL_OVERHEAD || sealed[0] !== NODE_SEAL_VERSION) return null;
    const ephemeralPublic = sealed.subarray(VERSION_BYTES, VERSION_BYTES + X25519_KEY_BYTES);
    const nonce = sealed.subarray(VERSION_BYTES + X25519_KEY_BYTES, NODE_HEADER_BYTES);
    const body = sealed.subarray(NODE_HEADER_BYTES, sealed.length - POLY1305_TAG_BYTES);
    const tag = sealed.subarray(sealed.length - POLY1305_TAG_BYTES);
    let ephemeralKey: KeyObject;
    let shared: Buffer;
    try {
      ephemeralKey = x25519PublicKeyObject(ephemeralPublic);
      shared = diffieHellman({ privateKey: x25519PrivateKeyObject(recipient.secretKey), publicKey: ephemeralKey });
    } catch {
      // A low-order ephemeral key (all-zero secret) can only come from a forger: not ours to open.
      return null;
    }
    const key = deriveChachaKey(shared, ephemeralPublic, recipient.publicKey);
    shared.fill(0);
    const opened = chachaPolyOpen(key, nonce, body, tag, aad);
    key.fill(0);
    return opened;
  },
};

function isAllZero(bytes: Uint8Array): boolean {
  return bytes.every((byte) => byte === 0);
}

/** NaCl box has no associated data, so `aad` is bound through the nonce: SHA-512(eph || recipient || aad)[0..24]. */
function naclNonce(ephemeralPublic: Uint8Array, recipientPublic: Uint8Array, aad: Uint8Array): Uint8Array {
  return nacl.hash(concatBytes(ephemeralPublic, recipientPublic, aad)).subarray(0, nacl.box.nonceLength);
}

/** NaCl box precomputation, refusing the all-zero X25519 result that a low-order point yields. */
function naclSharedKey(publicKey: Uint8Array, secretKey: Uint8Array): Uint8Array | null {
  const shared = nacl.scalarMult(secretKey, publicKey);
  const lowOrder = isAllZero(shared);
  shared.fill(0);
  return lowOrder ? null : nacl.box.before(publicKey, secretKey);
}

/**
 * Sealing with tweetnacl 1.0.3 (pure JavaScript), the reference: NaCl box (X25519, XSalsa20-Poly1305)
 * from a fresh ephemeral key, with `aad` bound through the nonce, the first 24 bytes of
 * SHA-512(ephemeral public || recipient public || aad) — the ephemeral key is never reused, so a
 * derived nonce is safe. Output: version 0x02 || ephemeral public (32) || box (tag 16 || ciphertext).
 * Not interchangeable with `nodeSealer`: each opens only its own format.
 */
export const tweetnaclSealer: Sealer = {
  seal(plaintext, recipientPublicKey, aad) {
    assertBytes(plaintext, 'plaintext');
    assertBytes(recipientPublicKey, 'recipientPublicKey', X25519_KEY_BYTES);
    assertBytes(aad, 'aad');
    const ephemeral = nacl.box.keyPair();
    const key = naclSharedKey(recipientPublicKey, ephemeral.secretKey);
    ephemeral.secretKey.fill(0);
    if (key === null) throw lowOrderKeyError();
    const box = nacl.box.after(plaintext, naclNonce(ephemeral.publicKey, recipientPublicKey, aad), key);
    key.fill(0);
    const sealed = new Uint8Array(NACL_HEADER_BYTES + box.length);
    sealed[0] = NACL_SEAL_VERSION;
    sealed.set(ephemeral.publicKey, VERSION_BYTES);
    sealed.set(box, NACL_HEADER_BYTES);
    return sealed;
  },

  open(sealed, recipient, aad) {
    assertBytes(sealed, 'sealed');
    assertRecipient(recipient);
    assertBytes(aad, 'aad');
    if (sealed.length < NACL_SEAL_OVERHEAD || sealed[0] !== NACL_SEAL_VERSION) return null;
    const ephemeralPublic = sealed.subarray(VERSION_BYTES, NACL_HEADER_BYTES);
    const key = naclSharedKey(ephemeralPublic, recipient.secretKey);
    if (key === null) return null;
    const plaintext = nacl.box.open.after(
      sealed.subarray(NACL_HEADER_BYTES),
      naclNonce(ephemeralPublic, recipient.publicKey, aad),
      key,
    );
    key.fill(0);
    return plaintext;
  },
};

/** The sealer to use unless there is a reason not to: `nodeSealer`. */
export const defaultSealer: Sealer = nodeSealer;
