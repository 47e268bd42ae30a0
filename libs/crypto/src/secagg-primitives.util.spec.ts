import { createCipheriv, hkdfSync } from 'node:crypto';
import x25519Vectors from '../test-vectors/rfc7748-x25519.json';
import { fromHex, toHex } from './bytes.util';
import {
  AEAD_OVERHEAD,
  aeadOpen,
  aeadSeal,
  addMask,
  expandMask,
  generateX25519KeyPair,
  hkdfSha256,
  x25519KeyPairFromSecret,
  x25519SharedSecret,
} from './secagg-primitives.util';

const text = (value: string) => new TextEncoder().encode(value);

describe('x25519SharedSecret / key pairs (RFC 7748)', () => {
  it('§6.1: Alice and Bob reach the published shared secret', () => {
    // Arrange
    const dh = x25519Vectors.diffieHellman;
    const alice = x25519KeyPairFromSecret(fromHex(dh.alicePrivate));
    const bob = x25519KeyPairFromSecret(fromHex(dh.bobPrivate));
    // Act
    const fromAlice = x25519SharedSecret(alice.secretKey, bob.publicKey);
    const fromBob = x25519SharedSecret(bob.secretKey, alice.publicKey);
    // Assert
    expect(toHex(alice.publicKey)).toBe(dh.alicePublic);
    expect(toHex(bob.publicKey)).toBe(dh.bobPublic);
    expect(toHex(fromAlice)).toBe(dh.shared);
    expect(toHex(fromBob)).toBe(dh.shared);
  });

  it('generateX25519KeyPair gives fresh pairs that agree with each other', () => {
    const a = generateX25519KeyPair();
    const b = generateX25519KeyPair();
    expect(toHex(a.publicKey)).not.toBe(toHex(b.publicKey));
    expect(toHex(x25519KeyPairFromSecret(a.secretKey).publicKey)).toBe(toHex(a.publicKey));
    expect(toHex(x25519SharedSecret(a.secretKey, b.publicKey))).toBe(toHex(x25519SharedSecret(b.secretKey, a.publicKey)));
  });

  it('refuses a low-order public key and wrong lengths', () => {
    const a = generateX25519KeyPair();
    expect(() => x25519SharedSecret(a.secretKey, new Uint8Array(32))).toThrow(/low-order/);
    expect(() => x25519SharedSecret(a.secretKey, new Uint8Array(31))).toThrow(TypeError);
  });
});

describe('hkdfSha256 (RFC 5869)', () => {
  it('appendix A.1 test case 1', () => {
    const okm = hkdfSha256(fromHex('0b'.repeat(22)), fromHex('000102030405060708090a0b0c'), fromHex('f0f1f2f3f4f5f6f7f8f9'), 42);
    expect(toHex(okm)).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });
});

describe('expandMask', () => {
  const seed = fromHex('00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff');

  it('is AES-256-CTR (IV 0) under HKDF(seed, "medfed/secagg/prg/v1|" || context), read little-endian', () => {
    // Arrange: an independent reference built directly on node:crypto.
    const context = text('study-1/round-2/pair');
    const key = Buffer.from(hkdfSync('sha256', seed, new Uint8Array(0), text(`medfed/secagg/prg/v1|study-1/round-2/pair`), 32));
    const stream = createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(4 * 37));
    // Act
    const words = expandMask(seed, 37, context);
    // Assert
    expect(words).toHaveLength(37);
    for (let i = 0; i < 37; i++) expect(words[i]).toBe(stream.readUInt32LE(4 * i));
  });

  it('is deterministic, and a prefix of a longer expansion; other contexts give other streams', () => {
    const a = expandMask(seed, 1000, text('a'));
    expect(Array.from(expandMask(seed, 1000, text('a')))).toEqual(Array.from(a));
    expect(Array.from(expandMask(seed, 10, text('a')))).toEqual(Array.from(a.subarray(0, 10)));
    const b = expandMask(seed, 1000, text('b'));
    expect(a.filter((word, i) => word === b[i]).length).toBeLessThan(3);
  });

  it('refuses short seeds and bad word counts', () => {
    expect(() => expandMask(new Uint8Array(8), 1, text('a'))).toThrow(TypeError);
    expect(() => expandMask(seed, -1, text('a'))).toThrow(TypeError);
    expect(() => expandMask(seed, 1.5, text('a'))).toThrow(TypeError);
    expect(expandMask(seed, 0, text('a'))).toHaveLength(0);
  });
});

describe('addMask', () => {
  const seed = new Uint8Array(32).fill(7);
  const context = new TextEncoder().encode('pair/a/b');

  it.each([1, 16384, 16385, 40001])('adds and subtracts exactly the expandMask words mod 2^32 (%i words, across 64 KiB chunks)', (words) => {
    // Arrange: a reference computed word by word in float64 from an independent expansion.
    const start = Uint32Array.from({ length: words }, (_, i) => (i * 2654435761) >>> 0);
    const mask = expandMask(seed, words, context);
    const plus = start.slice();
    const minus = start.slice();
    // Act
    addMask(plus, seed, context, 1);
    addMask(minus, seed, context, -1);
    // Assert
    for (let i = 0; i < words; i += Math.max(1, Math.floor(words / 997))) {
      expect(plus[i]).toBe((start[i] + mask[i]) % 2 ** 32);
      expect(minus[i]).toBe((start[i] - mask[i] + 2 ** 32) % 2 ** 32);
    }
    expect(plus[words - 1]).toBe((start[words - 1] + mask[words - 1]) % 2 ** 32);
  });

  it('refuses a short seed and a non-Uint32Array accumulator', () => {
    expect(() => addMask(new Uint32Array(4), new Uint8Array(8), context, 1)).toThrow(TypeError);
    expect(() => addMask(new Float32Array(4) as unknown as Uint32Array, seed, context, 1)).toThrow(TypeError);
  });
});

describe('aeadSeal / aeadOpen', () => {
  const key = fromHex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');

  it('round-trips with the same key and aad, adding AEAD_OVERHEAD bytes', () => {
    const sealed = aeadSeal(key, text('share bytes'), text('aad'));
    expect(sealed).toHaveLength(11 + AEAD_OVERHEAD);
    expect(new TextDecoder().decode(aeadOpen(key, sealed, text('aad')) ?? new Uint8Array())).toBe('share bytes');
  });

  it('returns null for a flipped bit anywhere, another aad, another key or a truncation', () => {
    const sealed = aeadSeal(key, text('share bytes'), text('aad'));
    for (let i = 0; i < sealed.length; i++) {
      const tampered = new Uint8Array(sealed);
      tampered[i] ^= 0x80;
      expect(aeadOpen(key, tampered, text('aad'))).toBeNull();
    }
    expect(aeadOpen(key, sealed, text('aae'))).toBeNull();
    const otherKey = new Uint8Array(key);
    otherKey[0] ^= 1;
    expect(aeadOpen(otherKey, sealed, text('aad'))).toBeNull();
    expect(aeadOpen(key, sealed.subarray(0, AEAD_OVERHEAD - 1), text('aad'))).toBeNull();
  });
});
