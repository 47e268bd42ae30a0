// Shared test suites and fixtures for @medfed/crypto. Import only from *.spec.ts files: the suites
// call jest's describe/it.
import ed25519Vectors from '../test-vectors/rfc8032-ed25519.json';
import { concatBytes, fromHex, toHex } from './bytes.util';
import { ED25519_SIGNATURE_BYTES, X25519_KEY_BYTES } from './crypto.constants';
import type { Signer } from './ed25519.signer';
import { sha256 } from './hash.util';
import { generateIdentity, Identity, identityFromSecrets } from './identity.keys';
import type { Sealer } from './x25519.sealer';
import { NACL_SEAL_OVERHEAD, NODE_SEAL_OVERHEAD } from './x25519.sealer';

/**
 * A deterministic identity for tests: its secrets are SHA-256("medfed-test-identity/<label>/…"), so
 * the same label always gives the same keys. Never use one outside tests.
 * @param label - any text; different labels give unrelated identities
 */
export function testIdentity(label: string): Identity {
  const encode = (purpose: string) => new TextEncoder().encode(`medfed-test-identity/${label}/${purpose}`);
  return identityFromSecrets(sha256(encode('signing')), sha256(encode('encryption')));
}

/** Returns a copy of `bytes` with `mask` XORed into the byte at `index`. */
export function flipBit(bytes: Uint8Array, index: number, mask = 0x01): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[index] ^= mask;
  return copy;
}

/** One named region of a sealed message, with the byte offsets a tamper test flips in it. */
export interface SealedRegion {
  name: string;
  /** Offsets to flip, given the sealed message's total length. */
  offsets: (sealedLength: number) => number[];
}

/** Where a sealer puts things, so the shared suite can tamper with each region. */
export interface SealerLayout {
  /** `sealed.length - plaintext.length`. */
  overhead: number;
  regions: SealedRegion[];
}

/** `nodeSealer`: version(1) || ephemeral public(32) || nonce(12) || ciphertext || tag(16). */
export const NODE_SEALER_LAYOUT: SealerLayout = {
  overhead: NODE_SEAL_OVERHEAD,
  regions: [
    { name: 'version', offsets: () => [0] },
    { name: 'ephemeral public key', offsets: () => [1, 16, 32] },
    { name: 'nonce', offsets: () => [33, 44] },
    { name: 'ciphertext body', offsets: (n) => [45, Math.floor((45 + n - 16) / 2), n - 17] },
    { name: 'tag', offsets: (n) => [n - 16, n - 1] },
  ],
};

/** `tweetnaclSealer`: version(1) || ephemeral public(32) || Poly1305 tag(16) || ciphertext. */
export const NACL_SEALER_LAYOUT: SealerLayout = {
  overhead: NACL_SEAL_OVERHEAD,
  regions: [
    { name: 'version', offsets: () => [0] },
    { name: 'ephemeral public key', offsets: () => [1, 16, 32] },
    { name: 'tag', offsets: () => [33, 48] },
    { name: 'ciphertext body', offsets: (n) => [49, Math.floor((49 + n) / 2), n - 1] },
  ],
};

const text = (value: string) => new TextEncoder().encode(value);

/**
 * The behaviour every `Signer` must show: RFC 8032 §7.1 known answers, round trips, rejection of
 * tampered signatures, messages and keys (false, never a throw), and `TypeError` for garbage.
 */
export function describeSignerContract(name: string, signer: Signer): void {
  describe(`${name} (Signer contract)`, () => {
    const alice = testIdentity('signer-contract/alice');
    const mallory = testIdentity('signer-contract/mallory');
    const digest = sha256(text('round 7 update from hospital A'));

    describe('RFC 8032 §7.1 test vectors', () => {
      it.each(ed25519Vectors.vectors.map((vector) => [vector.name, vector] as const))('%s: signs to the published signature', (_, vector) => {
        // Arrange
        const secretKey = concatBytes(fromHex(vector.secretKey), fromHex(vector.publicKey));
        // Act
        const signature = signer.sign(fromHex(vector.message), secretKey);
        // Assert
        expect(toHex(signature)).toBe(vector.signature);
      });

      it.each(ed25519Vectors.vectors.map((vector) => [vector.name, vector] as const))('%s: verifies the published signature', (_, vector) => {
        expect(signer.verify(fromHex(vector.message), fromHex(vector.signature), fromHex(vector.publicKey))).toBe(true);
      });
    });

    it('signs to 64 bytes that verify under the matching public key', () => {
      const signature = signer.sign(digest, alice.signing.secretKey);
      expect(signature).toBeInstanceOf(Uint8Array);
      expect(signature.length).toBe(ED25519_SIGNATURE_BYTES);
      expect(signer.verify(digest, signature, alice.signing.publicKey)).toBe(true);
    });

    it('works with freshly generated identities and an empty message', () => {
      const identity = generateIdentity();
      const empty = new Uint8Array(0);
      expect(signer.verify(empty, signer.sign(empty, identity.signing.secretKey), identity.signing.publicKey)).toBe(true);
    });

    it('accepts Buffers and views that start inside a larger buffer', () => {
      // Arrange: the same bytes as a plain array, a Buffer and an unaligned view
      const backing = new Uint8Array(3 + digest.length + 64 + 5);
      backing.set(digest, 3);
      const view = backing.subarray(3, 3 + digest.length);
      const expected = signer.sign(digest, alice.signing.secretKey);
      backing.set(expected, 3 + digest.length);
      const signatureView = backing.subarray(3 + digest.length, 3 + digest.length + 64);
      // Act / Assert
      expect(toHex(signer.sign(view, alice.signing.secretKey))).toBe(toHex(expected));
      expect(toHex(signer.sign(Buffer.from(digest), Buffer.from(alice.signing.secretKey)))).toBe(toHex(expected));
      expect(signer.verify(view, signatureView, alice.signing.publicKey)).toBe(true);
      expect(signer.verify(Buffer.from(digest), Buffer.from(expected), Buffer.from(alice.signing.publicKey))).toBe(true);
    });

    describe('returns false for', () => {
      const signature = signer.sign(digest, alice.signing.secretKey);

      it.each([
        ['R, first byte', 0, 0x01],
        ['R, last byte', 31, 0x80],
        ['S, first byte', 32, 0x01],
        ['S, last byte', 63, 0x01],
      ])('a signature with a flipped bit in %s', (_, index, mask) => {
        expect(signer.verify(digest, flipBit(signature, index, mask), alice.signing.publicKey)).toBe(false);
      });

      it('an all-zero signature', () => {
        expect(signer.verify(digest, new Uint8Array(ED25519_SIGNATURE_BYTES), alice.signing.publicKey)).toBe(false);
      });

      it('a non-canonical signature, S + L (RFC 8032 §5.1.7 requires S < L)', () => {
        // Arrange: S' = S + L encodes the same scalar mod L, so only the range check rejects it
        const order = (1n << 252n) + 27742317777372353535851937790883648493n;
        let s = 0n;
        for (let i = 63; i >= 32; i -= 1) s = (s << 8n) | BigInt(signature[i]);
        let bumped = s + order;
        const malleated = new Uint8Array(signature);
        for (let i = 32; i < 64; i += 1) {
          malleated[i] = Number(bumped & 0xffn);
          bumped >>= 8n;
        }
        // Act / Assert
        expect(signer.verify(digest, malleated, alice.signing.publicKey)).toBe(false);
      });

      it('a message with a flipped bit, an extra byte, or nothing', () => {
        expect(signer.verify(flipBit(digest, 5), signature, alice.signing.publicKey)).toBe(false);
        expect(signer.verify(concatBytes(digest, new Uint8Array(1)), signature, alice.signing.publicKey)).toBe(false);
        expect(signer.verify(new Uint8Array(0), signature, alice.signing.publicKey)).toBe(false);
      });

      it("another identity's public key", () => {
        expect(signer.verify(digest, signature, mallory.signing.publicKey)).toBe(false);
      });

      it('public keys that are not curve points, without throwing', () => {
        // y = 2 gives no x with -x^2 + y^2 = 1 + d x^2 y^2 (checked with a Legendre symbol); 2^255 - 1 is not below p.
        const notOnCurve = new Uint8Array(32);
        notOnCurve[0] = 2;
        const notCanonical = new Uint8Array(32).fill(0xff);
        notCanonical[31] = 0x7f;
        expect(signer.verify(digest, signature, notOnCurve)).toBe(false);
        expect(signer.verify(digest, signature, notCanonical)).toBe(false);
        expect(signer.verify(digest, signature, new Uint8Array(32))).toBe(false);
      });
    });

    describe('throws TypeError, naming the argument, for', () => {
      const signature = signer.sign(digest, alice.signing.secretKey);

      it.each([
        ['a string message', () => signer.sign('digest' as unknown as Uint8Array, alice.signing.secretKey), /message must be a Uint8Array, got string/],
        ['a number array message', () => signer.sign([1, 2] as unknown as Uint8Array, alice.signing.secretKey), /message must be a Uint8Array, got Array/],
        ['a null secret key', () => signer.sign(digest, null as unknown as Uint8Array), /secretKey must be a Uint8Array, got null/],
        ['a 32-byte seed instead of the 64-byte secret key', () => signer.sign(digest, alice.signing.secretKey.subarray(0, 32)), /secretKey must be 64 bytes, got 32 bytes/],
        ['a 65-byte secret key', () => signer.sign(digest, new Uint8Array(65)), /secretKey must be 64 bytes, got 65 bytes/],
        [
          'a secret key whose public half belongs to another seed',
          () => signer.sign(digest, concatBytes(alice.signing.secretKey.subarray(0, 32), mallory.signing.publicKey)),
          /secretKey: its last 32 bytes are not the public key of its first 32 bytes/,
        ],
        ['a 63-byte signature', () => signer.verify(digest, signature.subarray(0, 63), alice.signing.publicKey), /signature must be 64 bytes, got 63 bytes/],
        ['a 33-byte public key', () => signer.verify(digest, signature, new Uint8Array(33)), /publicKey must be 32 bytes, got 33 bytes/],
        ['an undefined message to verify', () => signer.verify(undefined as unknown as Uint8Array, signature, alice.signing.publicKey), /message must be a Uint8Array, got undefined/],
        ['a base64 string public key', () => signer.verify(digest, signature, 'AAAA' as unknown as Uint8Array), /publicKey must be a Uint8Array, got string/],
      ])('%s', (_, act, message) => {
        expect(act).toThrow(TypeError);
        expect(act).toThrow(message);
      });
    });
  });
}

/**
 * The behaviour every `Sealer` must show: round trips of many sizes, fresh output per call, and
 * `null` from `open` for every tampered region, wrong aad, wrong recipient and truncation;
 * `TypeError` for garbage and for low-order recipient keys.
 */
export function describeSealerContract(name: string, sealer: Sealer, layout: SealerLayout): void {
  describe(`${name} (Sealer contract)`, () => {
    const hospital = testIdentity('sealer-contract/hospital');
    const other = testIdentity('sealer-contract/other');
    const aad = text('medfed/update/round-7/node-a');
    const plaintext = text('weights delta, 0.25 0.5 -1.0');

    it.each([0, 1, 15, 16, 17, 63, 64, 65, 4099])('round-trips a %i-byte plaintext with and without aad', (size) => {
      // Arrange
      const message = new Uint8Array(size).map((_, i) => (i * 31 + 7) & 0xff);
      for (const associated of [new Uint8Array(0), aad]) {
        // Act
        const sealed = sealer.seal(message, hospital.encryption.publicKey, associated);
        const opened = sealer.open(sealed, hospital.encryption, associated);
        // Assert
        expect(sealed.length).toBe(size + layout.overhead);
        expect(opened).not.toBeNull();
        expect(toHex(opened as Uint8Array)).toBe(toHex(message));
      }
    });

    it('hides the plaintext: the sealed bytes do not contain it', () => {
      const secret = text('patient-free but still private: AAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      const sealed = sealer.seal(secret, hospital.encryption.publicKey, aad);
      expect(Buffer.from(sealed).includes(Buffer.from(secret))).toBe(false);
      expect(Buffer.from(sealed).includes(Buffer.from('AAAAAAAA'))).toBe(false);
    });

    it('uses a fresh ephemeral key per message, so sealing twice gives unrelated output', () => {
      const first = sealer.seal(plaintext, hospital.encryption.publicKey, aad);
      const second = sealer.seal(plaintext, hospital.encryption.publicKey, aad);
      expect(toHex(first.subarray(1, 1 + X25519_KEY_BYTES))).not.toBe(toHex(second.subarray(1, 1 + X25519_KEY_BYTES)));
      expect(toHex(first.subarray(1 + X25519_KEY_BYTES))).not.toBe(toHex(second.subarray(1 + X25519_KEY_BYTES)));
    });

    it('accepts Buffers and views that start inside a larger buffer', () => {
      const backing = new Uint8Array(plaintext.length + 7);
      backing.set(plaintext, 7);
      const sealed = sealer.seal(backing.subarray(7), Buffer.from(hospital.encryption.publicKey), Buffer.from(aad));
      const sealedView = concatBytes(new Uint8Array(5), sealed).subarray(5);
      const opened = sealer.open(Buffer.from(sealedView), hospital.encryption, aad.subarray(0));
      expect(toHex(opened as Uint8Array)).toBe(toHex(plaintext));
    });

    it('does not modify its inputs', () => {
      const sealed = sealer.seal(plaintext, hospital.encryption.publicKey, aad);
      const before = toHex(sealed);
      sealer.open(sealed, hospital.encryption, aad);
      sealer.open(sealed, other.encryption, aad);
      expect(toHex(sealed)).toBe(before);
      expect(new TextDecoder().decode(plaintext)).toBe('weights delta, 0.25 0.5 -1.0');
    });

    describe('open returns null for', () => {
      const sealed = sealer.seal(plaintext, hospital.encryption.publicKey, aad);

      for (const region of layout.regions) {
        it(`a flipped bit in the ${region.name} (offsets ${region.offsets(sealed.length).join(', ')})`, () => {
          for (const offset of region.offsets(sealed.length)) {
            expect(sealer.open(flipBit(sealed, offset), hospital.encryption, aad)).toBeNull();
          }
        });
      }

      it('a flip of the top bit of the ephemeral key, which X25519 itself ignores', () => {
        expect(sealer.open(flipBit(sealed, X25519_KEY_BYTES, 0x80), hospital.encryption, aad)).toBeNull();
      });

      it('an ephemeral key replaced by a low-order point (all zero)', () => {
        const forged = new Uint8Array(sealed);
        forged.fill(0, 1, 1 + X25519_KEY_BYTES);
        expect(sealer.open(forged, hospital.encryption, aad)).toBeNull();
      });

      it('a different, extended, shortened or empty aad', () => {
        expect(sealer.open(sealed, hospital.encryption, flipBit(aad, 3))).toBeNull();
        expect(sealer.open(sealed, hospital.encryption, concatBytes(aad, new Uint8Array(1)))).toBeNull();
        expect(sealer.open(sealed, hospital.encryption, aad.subarray(0, aad.length - 1))).toBeNull();
        expect(sealer.open(sealed, hospital.encryption, new Uint8Array(0))).toBeNull();
      });

      it("another recipient's key pair", () => {
        expect(sealer.open(sealed, other.encryption, aad)).toBeNull();
      });

      it('the right public key with the wrong secret key', () => {
        expect(sealer.open(sealed, { publicKey: hospital.encryption.publicKey, secretKey: other.encryption.secretKey }, aad)).toBeNull();
      });

      it.each([
        ['empty input', () => new Uint8Array(0)],
        ['only the version byte', () => sealed.subarray(0, 1)],
        ['one byte short of the minimum', () => sealed.subarray(0, layout.overhead - 1)],
        ['the last byte cut off', () => sealed.subarray(0, sealed.length - 1)],
        ['the first byte cut off', () => sealed.subarray(1)],
        ['one byte appended', () => concatBytes(sealed, new Uint8Array([0]))],
      ])('truncated or padded input: %s', (_, make) => {
        expect(sealer.open(make(), hospital.encryption, aad)).toBeNull();
      });
    });

    describe('throws TypeError, naming the argument, for', () => {
      const sealed = sealer.seal(plaintext, hospital.encryption.publicKey, aad);

      it.each([
        ['a string plaintext', () => sealer.seal('hi' as unknown as Uint8Array, hospital.encryption.publicKey, aad), /plaintext must be a Uint8Array, got string/],
        ['a 31-byte recipient key', () => sealer.seal(plaintext, new Uint8Array(31), aad), /recipientPublicKey must be 32 bytes, got 31 bytes/],
        ['a 64-byte (Ed25519 secret) recipient key', () => sealer.seal(plaintext, hospital.signing.secretKey, aad), /recipientPublicKey must be 32 bytes, got 64 bytes/],
        ['a missing aad', () => sealer.seal(plaintext, hospital.encryption.publicKey, undefined as unknown as Uint8Array), /aad must be a Uint8Array, got undefined/],
        ['an all-zero (low-order) recipient key', () => sealer.seal(plaintext, new Uint8Array(32), aad), /recipientPublicKey is a low-order X25519 point/],
        ['the low-order point u = 1', () => sealer.seal(plaintext, new Uint8Array(32).fill(1, 0, 1), aad), /low-order/],
        ['a string to open', () => sealer.open('sealed' as unknown as Uint8Array, hospital.encryption, aad), /sealed must be a Uint8Array, got string/],
        ['a null recipient', () => sealer.open(sealed, null as unknown as Identity['encryption'], aad), /recipient must be an EncryptionKeyPair, got null/],
        ['a 31-byte recipient secret key', () => sealer.open(sealed, { publicKey: hospital.encryption.publicKey, secretKey: new Uint8Array(31) }, aad), /recipient.secretKey must be 32 bytes, got 31 bytes/],
        ['a recipient missing its public key', () => sealer.open(sealed, { secretKey: hospital.encryption.secretKey } as Identity['encryption'], aad), /recipient.publicKey must be a Uint8Array, got undefined/],
        ['a string aad to open', () => sealer.open(sealed, hospital.encryption, 'aad' as unknown as Uint8Array), /aad must be a Uint8Array, got string/],
      ])('%s', (_, act, message) => {
        expect(act).toThrow(TypeError);
        expect(act).toThrow(message);
      });
    });
  });
}
