import { types } from 'node:util';
import { SecAggError } from './secagg.error';

// Shamir secret sharing (Shamir, "How to share a secret", CACM 1979) byte-wise over GF(2^8) with the
// AES polynomial x^8 + x^4 + x^3 + x + 1 (0x11b): every byte of the secret is the constant term of
// its own random polynomial of degree t−1, so any t shares determine it and t−1 shares are uniformly
// distributed whatever the secret (perfect secrecy per byte). Share x-coordinates are 1..255, so at
// most 255 shareholders — far more hospitals than a medfed study has.

/** One Shamir share: the x-coordinate (1..255) and the polynomials' values there, one byte per secret byte. */
export interface Share {
  x: number;
  y: Uint8Array;
}

/** A source of random bytes, e.g. `randomBytes` from @medfed/crypto (the default everywhere here). */
export type RandomBytes = (n: number) => Uint8Array;

/** Most shares (and so sites) the GF(2^8) scheme supports: the non-zero field elements. */
export const MAX_SHAREHOLDERS = 255;

const EXP = new Uint8Array(510);
const LOG = new Uint8Array(256);
(() => {
  // 0x03 generates the multiplicative group of GF(2^8) under 0x11b.
  let value = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = value;
    EXP[i + 255] = value;
    LOG[value] = i;
    const doubled = (value << 1) ^ (value & 0x80 ? 0x11b : 0);
    value = doubled ^ value;
  }
})();

/** Product in GF(2^8) mod 0x11b. */
export function gf256Mul(a: number, b: number): number {
  if (a === 0 || b === 0) return 0;
  return EXP[LOG[a] + LOG[b]];
}

function gf256Div(a: number, b: number): number {
  if (b === 0) throw new RangeError('division by zero in GF(2^8)');
  if (a === 0) return 0;
  return EXP[LOG[a] + 255 - LOG[b]];
}

/**
 * Splits `secret` into `n` shares with x = 1..n, any `t` of which reconstruct it.
 * @param secret - the bytes to share (not modified)
 * @param n - number of shares, t..255
 * @param t - threshold, 1..n
 * @param rng - source of the polynomials' random coefficients ((t−1)·secret.length bytes)
 * @throws SecAggError MALFORMED for bad n or t.
 */
export function shamirSplit(secret: Uint8Array, n: number, t: number, rng: RandomBytes): Share[] {
  if (!Number.isInteger(t) || !Number.isInteger(n) || t < 1 || n < t || n > MAX_SHAREHOLDERS) {
    throw new SecAggError('MALFORMED', `shamirSplit needs integers 1 ≤ t ≤ n ≤ ${MAX_SHAREHOLDERS}, got t=${t}, n=${n}`);
  }
  const length = secret.length;
  const coefficients = rng((t - 1) * length);
  if (coefficients.length !== (t - 1) * length) {
    throw new SecAggError('MALFORMED', `rng returned ${coefficients.length} bytes, expected ${(t - 1) * length}`);
  }
  const shares: Share[] = [];
  for (let x = 1; x <= n; x++) {
    const y = new Uint8Array(length);
    for (let byte = 0; byte < length; byte++) {
      // Horner from the highest coefficient down to the secret, the constant term.
      let acc = 0;
      for (let k = t - 2; k >= 0; k--) acc = gf256Mul(acc, x) ^ coefficients[k * length + byte];
      y[byte] = gf256Mul(acc, x) ^ secret[byte];
    }
    shares.push({ x, y });
  }
  coefficients.fill(0);
  return shares;
}

function checkShares(shares: readonly Share[], minX: number): number {
  const seen = new Set<number>();
  const length = shares[0].y.length;
  for (const share of shares) {
    if (!Number.isInteger(share.x) || share.x < minX || share.x > MAX_SHAREHOLDERS || !types.isUint8Array(share.y) || share.y.length !== length) {
      throw new SecAggError('MALFORMED', `share x=${String(share.x)} is not a share of a ${length}-byte secret`);
    }
    if (seen.has(share.x)) throw new SecAggError('DUPLICATE', `two shares with x=${share.x}`);
    seen.add(share.x);
  }
  return length;
}

/**
 * Evaluates at `x` the polynomials through `shares` (Lagrange interpolation, one polynomial per byte,
 * of degree shares.length − 1). At x = 0 that is the secret; at another share's x it predicts that
 * share, which is how extra shares are checked for consistency.
 * @throws SecAggError MALFORMED / DUPLICATE for inconsistent or repeated shares.
 */
export function shamirInterpolateAt(shares: readonly Share[], x: number): Uint8Array {
  if (shares.length === 0) throw new SecAggError('MALFORMED', 'no shares to interpolate');
  // x = 0 is allowed here so a test can put a candidate secret through the same interpolation.
  const length = checkShares(shares, 0);
  const out = new Uint8Array(length);
  for (let i = 0; i < shares.length; i++) {
    // Lagrange basis ℓ_i(x) = Π_{j≠i} (x − x_j)/(x_i − x_j); subtraction is XOR in characteristic 2.
    let basis = 1;
    for (let j = 0; j < shares.length; j++) {
      if (j !== i) basis = gf256Mul(basis, gf256Div(x ^ shares[j].x, shares[i].x ^ shares[j].x));
    }
    const y = shares[i].y;
    for (let byte = 0; byte < length; byte++) out[byte] ^= gf256Mul(basis, y[byte]);
  }
  return out;
}

/**
 * Reconstructs the secret from the first `t` of `shares` (t − 1 or fewer cannot: they are consistent
 * with every secret).
 * @throws SecAggError BELOW_THRESHOLD with fewer than t shares; MALFORMED / DUPLICATE for bad shares.
 */
export function shamirCombine(shares: readonly Share[], t: number): Uint8Array {
  if (!Number.isInteger(t) || t < 1) throw new SecAggError('MALFORMED', `threshold must be an integer ≥ 1, got ${t}`);
  if (shares.length < t) throw new SecAggError('BELOW_THRESHOLD', `${shares.length} shares, threshold is ${t}`);
  checkShares(shares, 1);
  return shamirInterpolateAt(shares.slice(0, t), 0);
}
