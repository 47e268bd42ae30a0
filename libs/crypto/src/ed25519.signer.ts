import { sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import nacl from 'tweetnacl';
import { assertBytes, constantTimeEqual, toPlainBytes } from './bytes.util';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SECRET_KEY_BYTES, ED25519_SEED_BYTES, ED25519_SIGNATURE_BYTES } from './crypto.constants';
import { assertEd25519SecretKey, secretKeyMismatchError } from './identity.keys';
import { ed25519PrivateKeyObject, ed25519PublicKeyObject, rawPublicKey } from './node-keys.util';

/**
 * Ed25519 signatures (RFC 8032 §5.1, pure Ed25519, no context or pre-hash). Implementations are
 * interchangeable: Ed25519 is deterministic, so every implementation gives the same bytes.
 * Sign large payloads as their SHA-256 digest: signing cost then does not grow with the payload.
 */
export interface Signer {
  /**
   * Signs `message`.
   * @param message - any bytes
   * @param secretKey - 64 bytes, seed || public key (tweetnacl layout); `TypeError` if the halves disagree
   * @returns the 64-byte signature (`ED25519_SIGNATURE_BYTES`)
   */
  sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /**
   * Checks `signature` on `message` under `publicKey`. Returns `false`, never throws, for a bad
   * signature, a wrong key or a public key that is not a curve point; throws `TypeError` only for
   * arguments of the wrong type or length.
   */
  verify(message: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean;
}

function assertVerifyArguments(message: unknown, signature: unknown, publicKey: unknown): void {
  assertBytes(message, 'message');
  assertBytes(signature, 'signature', ED25519_SIGNATURE_BYTES);
  assertBytes(publicKey, 'publicKey', ED25519_PUBLIC_KEY_BYTES);
}

/**
 * Ed25519 through node:crypto (OpenSSL): about 100× faster than tweetnacl on the machines this
 * project targets. Raw keys are imported as JWK on each call.
 */
export const nodeSigner: Signer = {
  sign(message, secretKey) {
    assertBytes(message, 'message');
    assertBytes(secretKey, 'secretKey', ED25519_SECRET_KEY_BYTES);
    // One import serves both the consistency check (as in assertEd25519SecretKey) and the signing.
    const privateKey = ed25519PrivateKeyObject(secretKey);
    if (!constantTimeEqual(rawPublicKey(privateKey), secretKey.subarray(ED25519_SEED_BYTES))) {
      throw secretKeyMismatchError('secretKey');
    }
    return toPlainBytes(nodeSign(null, message, privateKey));
  },
  verify(message, signature, publicKey) {
    assertVerifyArguments(message, signature, publicKey);
    try {
      return nodeVerify(null, message, ed25519PublicKeyObject(publicKey), signature);
    } catch {
      // OpenSSL reports some malformed keys and signatures by throwing; to a caller they are just invalid.
      return false;
    }
  },
};

/** The order L of the Ed25519 base point, 2^252 + 27742317777372353535851937790883648493 (RFC 8032 §5.1). */
const GROUP_ORDER = (1n << 252n) + 27742317777372353535851937790883648493n;

/** Whether the little-endian scalar S (second half of a signature) is below L, as RFC 8032 §5.1.7 requires. */
function isCanonicalS(signature: Uint8Array): boolean {
  let s = 0n;
  for (let index = ED25519_SIGNATURE_BYTES - 1; index >= ED25519_SIGNATURE_BYTES / 2; index -= 1) {
    s = (s << 8n) | BigInt(signature[index]);
  }
  return s < GROUP_ORDER;
}

/**
 * Ed25519 through tweetnacl 1.0.3 (pure JavaScript): the reference implementation. tweetnacl alone
 * accepts a signature whose S is not below L (so S + L verifies too: a malleable signature); this
 * signer rejects it first, as RFC 8032 §5.1.7 and OpenSSL do.
 */
export const tweetnaclSigner: Signer = {
  sign(message, secretKey) {
    assertBytes(message, 'message');
    assertEd25519SecretKey(secretKey, 'secretKey');
    return nacl.sign.detached(message, secretKey);
  },
  verify(message, signature, publicKey) {
    assertVerifyArguments(message, signature, publicKey);
    return isCanonicalS(signature) && nacl.sign.detached.verify(message, signature, publicKey);
  },
};

/** The signer to use unless there is a reason not to: `nodeSigner`. */
export const defaultSigner: Signer = nodeSigner;
