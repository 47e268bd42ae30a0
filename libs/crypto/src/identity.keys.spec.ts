import nacl from 'tweetnacl';
import ed25519Vectors from '../test-vectors/rfc8032-ed25519.json';
import x25519Vectors from '../test-vectors/rfc7748-x25519.json';
import { concatBytes, fromHex, toHex } from './bytes.util';
import { generateIdentity, identityFromSecrets, assertIdentity, publicIdentity } from './identity.keys';

describe('generateIdentity', () => {
  it('makes 32/64-byte Ed25519 keys and 32-byte X25519 keys', () => {
    const identity = generateIdentity();
    expect(identity.signing.publicKey).toHaveLength(32);
    expect(identity.signing.secretKey).toHaveLength(64);
    expect(identity.encryption.publicKey).toHaveLength(32);
    expect(identity.encryption.secretKey).toHaveLength(32);
  });

  it('makes keys in tweetnacl layout that tweetnacl itself would derive', () => {
    // Arrange
    const identity = generateIdentity();
    // Act: independent derivation of both public keys with tweetnacl
    const signing = nacl.sign.keyPair.fromSeed(identity.signing.secretKey.subarray(0, 32));
    const encryption = nacl.box.keyPair.fromSecretKey(identity.encryption.secretKey);
    // Assert
    expect(toHex(identity.signing.secretKey)).toBe(toHex(signing.secretKey));
    expect(toHex(identity.signing.publicKey)).toBe(toHex(signing.publicKey));
    expect(toHex(identity.encryption.publicKey)).toBe(toHex(encryption.publicKey));
  });

  it('never repeats itself', () => {
    const first = generateIdentity();
    const second = generateIdentity();
    expect(toHex(first.signing.secretKey)).not.toBe(toHex(second.signing.secretKey));
    expect(toHex(first.encryption.secretKey)).not.toBe(toHex(second.encryption.secretKey));
  });
});

describe('identityFromSecrets', () => {
  it('derives the RFC 8032 TEST 1 and RFC 7748 Alice public keys', () => {
    const vector = ed25519Vectors.vectors[0];
    const identity = identityFromSecrets(fromHex(vector.secretKey), fromHex(x25519Vectors.diffieHellman.alicePrivate));
    expect(toHex(identity.signing.publicKey)).toBe(vector.publicKey);
    expect(toHex(identity.signing.secretKey)).toBe(vector.secretKey + vector.publicKey);
    expect(toHex(identity.encryption.publicKey)).toBe(x25519Vectors.diffieHellman.alicePublic);
  });
});

describe('publicIdentity', () => {
  it('returns copies of the two public keys', () => {
    // Arrange
    const identity = generateIdentity();
    // Act
    const shared = publicIdentity(identity);
    shared.signingPublicKey[0] ^= 0xff;
    // Assert
    expect(toHex(shared.encryptionPublicKey)).toBe(toHex(identity.encryption.publicKey));
    expect(shared.signingPublicKey[0]).toBe(identity.signing.publicKey[0] ^ 0xff);
  });

  it('rejects a malformed identity with a TypeError naming the field', () => {
    const identity = generateIdentity();
    expect(() => publicIdentity({ ...identity, encryption: { ...identity.encryption, publicKey: new Uint8Array(31) } })).toThrow(
      new TypeError('identity.encryption.publicKey must be 32 bytes, got 31 bytes'),
    );
    expect(() => publicIdentity(null as never)).toThrow(TypeError);
  });
});

describe('assertIdentity', () => {
  const identity = generateIdentity();
  const other = generateIdentity();

  it('accepts a generated identity', () => {
    expect(() => assertIdentity(identity)).not.toThrow();
  });

  it.each([
    ['a signing public key from another identity', { ...identity, signing: { ...identity.signing, publicKey: other.signing.publicKey } }, /identity.signing.publicKey does not match identity.signing.secretKey/],
    [
      'a signing secret key whose halves disagree',
      { ...identity, signing: { publicKey: other.signing.publicKey, secretKey: concatBytes(identity.signing.secretKey.subarray(0, 32), other.signing.publicKey) } },
      /identity.signing.secretKey: its last 32 bytes are not the public key/,
    ],
    ['an encryption public key from another identity', { ...identity, encryption: { ...identity.encryption, publicKey: other.encryption.publicKey } }, /identity.encryption.publicKey does not match/],
    ['a missing encryption pair', { signing: identity.signing }, /identity.encryption must be an object, got undefined/],
  ])('rejects %s', (_, candidate, message) => {
    expect(() => assertIdentity(candidate)).toThrow(TypeError);
    expect(() => assertIdentity(candidate)).toThrow(message);
  });
});
