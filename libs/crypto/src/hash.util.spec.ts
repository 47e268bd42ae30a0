import sha256Vectors from '../test-vectors/fips180-sha256.json';
import { toHex } from './bytes.util';
import { keyFingerprint, sha256, sha256Hex } from './hash.util';

const ascii = (value: string) => new TextEncoder().encode(value);

describe('sha256', () => {
  it.each(sha256Vectors.vectors.map((vector) => [vector.name, vector] as const))('FIPS 180-2 %s', (_, vector) => {
    const digest = sha256(ascii(vector.messageAscii));
    expect(digest).toHaveLength(32);
    expect(toHex(digest)).toBe(vector.digest);
    expect(sha256Hex(ascii(vector.messageAscii))).toBe(vector.digest);
  });

  it('hashes the concatenation of its parts', () => {
    // "abc" split as "a" + "" + "bc" must give FIPS 180-2 B.1.
    expect(sha256Hex(ascii('a'), new Uint8Array(0), ascii('bc'))).toBe(sha256Vectors.vectors[0].digest);
  });

  it('hashes no parts as the empty message', () => {
    expect(sha256Hex()).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('names the bad part in its TypeError', () => {
    expect(() => sha256(ascii('a'), 'bc' as unknown as Uint8Array)).toThrow(new TypeError('parts[1] must be a Uint8Array, got string'));
  });
});

describe('keyFingerprint', () => {
  it('is the first 8 bytes of SHA-256 as 16 lowercase hex characters', () => {
    // RFC 8032 TEST 1 public key; expected value from Python's hashlib.sha256(key).hexdigest()[:16].
    const publicKey = Uint8Array.from(Buffer.from('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', 'hex'));
    expect(keyFingerprint(publicKey)).toBe('21fe31dfa154a261');
  });

  it('rejects anything but a 32-byte key', () => {
    expect(() => keyFingerprint(new Uint8Array(64))).toThrow(new TypeError('publicKey must be 32 bytes, got 64 bytes'));
    expect(() => keyFingerprint('key' as unknown as Uint8Array)).toThrow(TypeError);
  });
});
