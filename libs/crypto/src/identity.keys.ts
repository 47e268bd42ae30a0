import { generateKeyPairSync } from 'node:crypto';
import { assertBytes, concatBytes } from './bytes.util';
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SECRET_KEY_BYTES,
  ED25519_SEED_BYTES,
  X25519_KEY_BYTES,
} from './crypto.constants';
import { ed25519PublicKeyFromSeed, rawPrivateKey, rawPublicKey, x25519PublicKeyFromSecret } from './node-keys.util';

/** An Ed25519 key pair (RFC 8032); `secretKey` uses tweetnacl's layout, seed || public key (64 bytes). */
export interface SigningKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** An X25519 key pair (RFC 7748); both keys are 32 bytes. */
export interface EncryptionKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** A participant's long-term keys: Ed25519 to sign what it sends, X25519 to receive sealed messages. */
export interface Identity {
  signing: SigningKeyPair;
  encryption: EncryptionKeyPair;
}

/** The shareable half of an `Identity`. */
export interface PublicIdentity {
  signingPublicKey: Uint8Array;
  encryptionPublicKey: Uint8Array;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, index) => byte === b[index]);
}

/**
 * Checks an Ed25519 secret key in tweetnacl layout: 64 bytes, and its second half is the public key
 * of its first half. tweetnacl signs with whatever public key the secret key carries, and signing
 * one message under two different public halves leaks the private scalar, so a mismatch is refused
 * before any signing. Throws `TypeError` naming `name`.
 */
export function assertEd25519SecretKey(secretKey: unknown, name: string): asserts secretKey is Uint8Array {
  assertBytes(secretKey, name, ED25519_SECRET_KEY_BYTES);
  const derived = ed25519PublicKeyFromSeed(secretKey.subarray(0, ED25519_SEED_BYTES));
  if (!bytesEqual(derived, secretKey.subarray(ED25519_SEED_BYTES))) throw secretKeyMismatchError(name);
}

/** The `TypeError` for an Ed25519 secret key whose public half does not belong to its seed. */
export function secretKeyMismatchError(name: string): TypeError {
  return new TypeError(`${name}: its last 32 bytes are not the public key of its first 32 bytes (the seed)`);
}

/**
 * Checks that `pair` is a well-formed Ed25519 key pair whose public key belongs to its secret key.
 * Throws `TypeError` naming `name` and the bad field.
 */
export function assertSigningKeyPair(pair: unknown, name: string): asserts pair is SigningKeyPair {
  if (typeof pair !== 'object' || pair === null) throw new TypeError(`${name} must be an object, got ${pair === null ? 'null' : typeof pair}`);
  const { publicKey, secretKey } = pair as Partial<SigningKeyPair>;
  assertBytes(publicKey, `${name}.publicKey`, ED25519_PUBLIC_KEY_BYTES);
  assertEd25519SecretKey(secretKey, `${name}.secretKey`);
  if (!bytesEqual(publicKey, secretKey.subarray(ED25519_SEED_BYTES))) {
    throw new TypeError(`${name}.publicKey does not match ${name}.secretKey`);
  }
}

/**
 * Checks that `pair` is a well-formed X25519 key pair whose public key is X25519(secretKey, 9).
 * Throws `TypeError` naming `name` and the bad field.
 */
export function assertEncryptionKeyPair(pair: unknown, name: string): asserts pair is EncryptionKeyPair {
  if (typeof pair !== 'object' || pair === null) throw new TypeError(`${name} must be an object, got ${pair === null ? 'null' : typeof pair}`);
  const { publicKey, secretKey } = pair as Partial<EncryptionKeyPair>;
  assertBytes(publicKey, `${name}.publicKey`, X25519_KEY_BYTES);
  assertBytes(secretKey, `${name}.secretKey`, X25519_KEY_BYTES);
  if (!bytesEqual(publicKey, x25519PublicKeyFromSecret(secretKey))) {
    throw new TypeError(`${name}.publicKey does not match ${name}.secretKey`);
  }
}

/** Checks a whole `Identity` (both key pairs, each public key matching its secret key); `TypeError` otherwise. */
export function assertIdentity(identity: unknown, name = 'identity'): asserts identity is Identity {
  if (typeof identity !== 'object' || identity === null) {
    throw new TypeError(`${name} must be an object, got ${identity === null ? 'null' : typeof identity}`);
  }
  const { signing, encryption } = identity as Partial<Identity>;
  assertSigningKeyPair(signing, `${name}.signing`);
  assertEncryptionKeyPair(encryption, `${name}.encryption`);
}

/**
 * Builds an identity from its two 32-byte secrets, deriving the public keys with node:crypto.
 * @param signingSeed - Ed25519 seed (RFC 8032 §5.1.5)
 * @param encryptionSecretKey - X25519 secret scalar (RFC 7748 §5; clamped when used, not here)
 */
export function identityFromSecrets(signingSeed: Uint8Array, encryptionSecretKey: Uint8Array): Identity {
  assertBytes(signingSeed, 'signingSeed', ED25519_SEED_BYTES);
  assertBytes(encryptionSecretKey, 'encryptionSecretKey', X25519_KEY_BYTES);
  const signingPublicKey = ed25519PublicKeyFromSeed(signingSeed);
  return {
    signing: { publicKey: signingPublicKey, secretKey: concatBytes(signingSeed, signingPublicKey) },
    encryption: {
      publicKey: x25519PublicKeyFromSecret(encryptionSecretKey),
      secretKey: new Uint8Array(encryptionSecretKey),
    },
  };
}

/**
 * Generates a fresh identity from the operating system's CSPRNG (node:crypto key generation):
 * an Ed25519 signing pair (secret key in tweetnacl layout, 64 bytes) and an X25519 encryption pair.
 */
export function generateIdentity(): Identity {
  const signing = generateKeyPairSync('ed25519');
  const encryption = generateKeyPairSync('x25519');
  const signingPublicKey = rawPublicKey(signing.publicKey);
  return {
    signing: {
      publicKey: signingPublicKey,
      secretKey: concatBytes(rawPrivateKey(signing.privateKey), signingPublicKey),
    },
    encryption: { publicKey: rawPublicKey(encryption.publicKey), secretKey: rawPrivateKey(encryption.privateKey) },
  };
}

/**
 * The public half of an identity, as copies (mutating the result never touches the identity).
 * Throws `TypeError` if the identity is malformed.
 */
export function publicIdentity(identity: Identity): PublicIdentity {
  if (typeof identity !== 'object' || identity === null) {
    throw new TypeError(`identity must be an object, got ${identity === null ? 'null' : typeof identity}`);
  }
  assertBytes(identity.signing?.publicKey, 'identity.signing.publicKey', ED25519_PUBLIC_KEY_BYTES);
  assertBytes(identity.encryption?.publicKey, 'identity.encryption.publicKey', X25519_KEY_BYTES);
  return {
    signingPublicKey: new Uint8Array(identity.signing.publicKey),
    encryptionPublicKey: new Uint8Array(identity.encryption.publicKey),
  };
}
