import { constantTimeEqual, fromBase64, fromHex, randomBytes, toBase64, toHex } from './bytes.util';

const ascii = (value: string) => new TextEncoder().encode(value);

describe('toBase64 / fromBase64', () => {
  // RFC 4648 §10 test vectors.
  it.each([
    ['', ''],
    ['f', 'Zg=='],
    ['fo', 'Zm8='],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg=='],
    ['fooba', 'Zm9vYmE='],
    ['foobar', 'Zm9vYmFy'],
  ])('encodes %j as %j and back (RFC 4648 §10)', (plain, encoded) => {
    expect(toBase64(ascii(plain))).toBe(encoded);
    expect(new TextDecoder().decode(fromBase64(encoded))).toBe(plain);
  });

  it('round-trips all byte values, including from an offset view', () => {
    const all = new Uint8Array(256).map((_, i) => i);
    expect(toHex(fromBase64(toBase64(all.subarray(1))))).toBe(toHex(all.subarray(1)));
  });

  it.each([
    ['missing padding', 'Zg'],
    ['short padding', 'Zg='],
    ['extra padding', 'Zm8=='],
    ['non-zero padding bits', 'Zh=='],
    ['leading space', ' Zg=='],
    ['trailing newline', 'Zg==\n'],
    ['an invalid character', 'Zm9!'],
    ['URL-safe alphabet', '-_8='],
    ['data after padding', 'Zg==Zg=='],
  ])('rejects %s with a TypeError', (_, text) => {
    expect(() => fromBase64(text)).toThrow(TypeError);
    expect(() => fromBase64(text)).toThrow(/not canonical padded base64/);
  });

  it('does not repeat the (possibly secret) text in its error', () => {
    expect(() => fromBase64('c2VjcmV0LWtleQ')).toThrow(/^text is not canonical padded base64 \(14 characters\)$/);
  });

  it('checks the decoded length when asked', () => {
    expect(fromBase64('Zm9v', 3)).toHaveLength(3);
    expect(() => fromBase64('Zm9v', 32)).toThrow(new TypeError('text must decode to 32 bytes, got 3 bytes'));
  });

  it('rejects non-string and non-byte arguments', () => {
    expect(() => fromBase64(null as unknown as string)).toThrow(new TypeError('text must be a base64 string, got null'));
    expect(() => toBase64('Zg==' as unknown as Uint8Array)).toThrow(new TypeError('bytes must be a Uint8Array, got string'));
  });
});

describe('constantTimeEqual', () => {
  it('is true for equal bytes and false for any difference', () => {
    expect(constantTimeEqual(fromHex('00ff10'), fromHex('00ff10'))).toBe(true);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    expect(constantTimeEqual(fromHex('00ff10'), fromHex('00ff11'))).toBe(false);
    expect(constantTimeEqual(fromHex('00ff10'), fromHex('01ff10'))).toBe(false);
  });

  it('is false for different lengths, including a prefix', () => {
    expect(constantTimeEqual(fromHex('00ff'), fromHex('00ff10'))).toBe(false);
  });

  it('rejects non-byte arguments with a TypeError naming them', () => {
    expect(() => constantTimeEqual('a' as unknown as Uint8Array, new Uint8Array(1))).toThrow(new TypeError('a must be a Uint8Array, got string'));
    expect(() => constantTimeEqual(new Uint8Array(1), [1] as unknown as Uint8Array)).toThrow(new TypeError('b must be a Uint8Array, got Array'));
  });
});

describe('randomBytes', () => {
  it('returns n fresh bytes', () => {
    const first = randomBytes(32);
    const second = randomBytes(32);
    expect(first).toBeInstanceOf(Uint8Array);
    expect(first).toHaveLength(32);
    expect(toHex(first)).not.toBe(toHex(second));
    expect(randomBytes(0)).toHaveLength(0);
  });

  it.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '8'])('rejects n = %p with a TypeError', (n) => {
    expect(() => randomBytes(n as number)).toThrow(TypeError);
  });
});

describe('fromHex / toHex', () => {
  it('round-trips and rejects odd-length or non-hex text', () => {
    expect(toHex(fromHex('00aBff'))).toBe('00abff');
    expect(() => fromHex('abc')).toThrow(TypeError);
    expect(() => fromHex('zz')).toThrow(TypeError);
  });
});
