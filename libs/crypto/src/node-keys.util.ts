import { createPrivateKey, createPublicKey, KeyObject } from 'node:crypto';
import { fromBase64Url, toBase64Url } from './bytes.util';
import { ED25519_PUBLIC_KEY_BYTES, ED25519_SEED_BYTES, X25519_KEY_BYTES } from './crypto.constants';

// Raw key bytes reach node:crypto as JWK (RFC 8037 "OKP" keys): importing a private key from JWK
// takes about 30 µs where the equivalent PKCS#8 DER takes about 370 µs on Node 20, and for a private
// key Node derives the public half from `d` itself and ignores the `x` we must supply.

type OkpCurve = 'Ed25519' | 'X25519';

function importPrivate(curve: OkpCurve, secret: Uint8Array): KeyObject {
  // `x` is required by the JWK parser but unused for private keys; any valid-length value will do.
  return createPrivateKey({
    key: { kty: 'OKP', crv: curve, d: toBase64Url(secret), x: toBase64Url(new Uint8Array(32)) },
    format: 'jwk',
  });
}

function importPublic(curve: OkpCurve, publicKey: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: curve, x: toBase64Url(publicKey) }, format: 'jwk' });
}

/** The raw 32-byte public key of a node:crypto Ed25519 or X25519 key object. */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const { x } = key.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new TypeError('key object has no public component');
  return fromBase64Url(x);
}

/** The raw 32-byte private key (Ed25519 seed or X25519 scalar) of a node:crypto private key object. */
export function rawPrivateKey(key: KeyObject): Uint8Array {
  const { d } = key.export({ format: 'jwk' });
  if (typeof d !== 'string') throw new TypeError('key object has no private component');
  return fromBase64Url(d);
}

/** node:crypto key object for an Ed25519 seed (caller has checked it is `ED25519_SEED_BYTES` long). */
export function ed25519PrivateKeyObject(seed: Uint8Array): KeyObject {
  return importPrivate('Ed25519', seed.subarray(0, ED25519_SEED_BYTES));
}

/** node:crypto key object for a raw Ed25519 public key (32 bytes, checked by the caller). */
export function ed25519PublicKeyObject(publicKey: Uint8Array): KeyObject {
  return importPublic('Ed25519', publicKey);
}

/** The Ed25519 public key belonging to a 32-byte seed (RFC 8032 §5.1.5), via node:crypto. */
export function ed25519PublicKeyFromSeed(seed: Uint8Array): Uint8Array {
  const publicKey = rawPublicKey(ed25519PrivateKeyObject(seed));
  if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES) throw new TypeError('unexpected Ed25519 public key length');
  return publicKey;
}

/** node:crypto key object for a raw X25519 secret scalar (32 bytes, checked by the caller). */
export function x25519PrivateKeyObject(secretKey: Uint8Array): KeyObject {
  return importPrivate('X25519', secretKey);
}

/** node:crypto key object for a raw X25519 public key (32 bytes, checked by the caller). */
export function x25519PublicKeyObject(publicKey: Uint8Array): KeyObject {
  return importPublic('X25519', publicKey);
}

/** The X25519 public key X25519(secretKey, 9) (RFC 7748 §6.1), via node:crypto. */
export function x25519PublicKeyFromSecret(secretKey: Uint8Array): Uint8Array {
  const publicKey = rawPublicKey(x25519PrivateKeyObject(secretKey));
  if (publicKey.length !== X25519_KEY_BYTES) throw new TypeError('unexpected X25519 public key length');
  return publicKey;
}
