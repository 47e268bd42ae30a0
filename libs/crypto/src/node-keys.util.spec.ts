import ed25519Vectors from '../test-vectors/rfc8032-ed25519.json';
import x25519Vectors from '../test-vectors/rfc7748-x25519.json';
import { fromHex, toHex } from './bytes.util';
import { ed25519PublicKeyFromSeed, x25519PublicKeyFromSecret } from './node-keys.util';

describe('node:crypto key import from raw bytes', () => {
  it.each(ed25519Vectors.vectors.map((vector) => [vector.name, vector] as const))(
    'derives the RFC 8032 §7.1 %s public key from its seed',
    (_, vector) => {
      expect(toHex(ed25519PublicKeyFromSeed(fromHex(vector.secretKey)))).toBe(vector.publicKey);
    },
  );

  it('derives the RFC 7748 §6.1 X25519 public keys of Alice and Bob', () => {
    const dh = x25519Vectors.diffieHellman;
    expect(toHex(x25519PublicKeyFromSecret(fromHex(dh.alicePrivate)))).toBe(dh.alicePublic);
    expect(toHex(x25519PublicKeyFromSecret(fromHex(dh.bobPrivate)))).toBe(dh.bobPublic);
  });

  it('reads keys from views with a byte offset', () => {
    const seed = fromHex(ed25519Vectors.vectors[0].secretKey);
    const backing = new Uint8Array(40);
    backing.set(seed, 5);
    expect(toHex(ed25519PublicKeyFromSeed(backing.subarray(5, 37)))).toBe(ed25519Vectors.vectors[0].publicKey);
  });
});
