import { gf256Mul, shamirCombine, shamirInterpolateAt, shamirSplit, Share } from './shamir.util';
import { SecAggError } from './secagg.error';
import { seededRandomBytes } from './testing';

/** An rng that returns the given bytes once (the polynomial's coefficients in a hand-computed example). */
const fixedRng = (bytes: number[]) => (n: number) => {
  expect(n).toBe(bytes.length);
  return Uint8Array.from(bytes);
};

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/** Every k-element subset of `items`. */
function subsets<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [head, ...rest] = items;
  return [...subsets(rest, k - 1).map((s) => [head, ...s]), ...subsets(rest, k)];
}

describe('GF(2^8) arithmetic (AES polynomial 0x11b)', () => {
  it('matches FIPS-197 §4.2 examples: {57}·{83} = {c1}, {57}·{13} = {fe}', () => {
    expect(gf256Mul(0x57, 0x83)).toBe(0xc1);
    expect(gf256Mul(0x57, 0x13)).toBe(0xfe);
    expect(gf256Mul(0x80, 0x02)).toBe(0x1b);
    expect(gf256Mul(0, 0x13)).toBe(0);
  });
});

describe('shamirSplit / shamirCombine (byte-wise over GF(2^8))', () => {
  it('hand-computed 2-of-3 example: secret 0x2a, coefficient 0x07 → shares 0x2d, 0x24, 0x23', () => {
    // f(x) = 0x2a + 0x07·x: f(1) = 0x2a^0x07, f(2) = 0x2a^0x0e, f(3) = 0x2a^(0x0e^0x07) = 0x2a^0x09.
    const shares = shamirSplit(Uint8Array.of(0x2a), 3, 2, fixedRng([0x07]));
    expect(shares.map((s) => [s.x, s.y[0]])).toEqual([
      [1, 0x2d],
      [2, 0x24],
      [3, 0x23],
    ]);
    expect(shamirCombine([shares[2], shares[0]], 2)).toEqual(Uint8Array.of(0x2a));
  });

  it('hand-computed example that needs the reduction: coefficient 0x80 gives f(2) = 0x2a ^ 0x1b = 0x31', () => {
    const shares = shamirSplit(Uint8Array.of(0x2a), 2, 2, fixedRng([0x80]));
    expect(shares.map((s) => s.y[0])).toEqual([0xaa, 0x31]);
    expect(shamirCombine(shares, 2)).toEqual(Uint8Array.of(0x2a));
  });

  it('any t of n shares reconstruct a 32-byte secret; every t−1 reconstruct something else', () => {
    // Arrange
    const rng = seededRandomBytes('shamir/any-t');
    const secret = rng(32);
    const shares = shamirSplit(secret, 6, 4, rng);
    // Act / Assert
    for (const subset of subsets(shares, 4)) expect(hex(shamirCombine(subset, 4))).toBe(hex(secret));
    for (const subset of subsets(shares, 5)) expect(hex(shamirCombine(subset, 4))).toBe(hex(secret));
    for (const subset of subsets(shares, 3)) expect(hex(shamirInterpolateAt(subset, 0))).not.toBe(hex(secret));
  });

  it('refuses fewer than t shares, repeated x and mixed lengths', () => {
    const rng = seededRandomBytes('shamir/refusals');
    const shares = shamirSplit(rng(32), 5, 3, rng);
    expect(() => shamirCombine(shares.slice(0, 2), 3)).toThrow(expect.objectContaining({ code: 'BELOW_THRESHOLD' }));
    expect(() => shamirCombine([shares[0], shares[0], shares[1]], 3)).toThrow(expect.objectContaining({ code: 'DUPLICATE' }));
    const short: Share = { x: 4, y: shares[3].y.subarray(1) };
    expect(() => shamirCombine([shares[0], shares[1], short], 3)).toThrow(SecAggError);
    expect(() => shamirSplit(new Uint8Array(4), 256, 3, rng)).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
  });

  it('t−1 shares are consistent with every secret: for a 1-byte secret each value of the third share occurs once', () => {
    // With t = 3 and shares at x = 1, 2 fixed, each candidate secret fixes a different third point.
    const rng = seededRandomBytes('shamir/secrecy');
    const shares = shamirSplit(Uint8Array.of(0x5c), 3, 3, rng);
    const seen = new Set<number>();
    for (let secret = 0; secret < 256; secret++) {
      const candidate = shamirInterpolateAt([{ x: 0, y: Uint8Array.of(secret) }, shares[0], shares[1]], 3);
      seen.add(candidate[0]);
    }
    expect(seen.size).toBe(256);
  });
});
