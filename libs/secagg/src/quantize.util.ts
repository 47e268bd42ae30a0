import { SecAggError } from './secagg.error';

// Fixed-point encoding into the ring Z_{2^bits} so masked sums can be added modulo 2^bits
// (Bonawitz et al. CCS 2017 §3; Bell et al. CCS 2020 use the same scaled rounding). Each site
// maps a value v ∈ [−range, range] to the integer round(v·L/range) with L = ⌊(2^(bits−1) − 1)/sites⌋,
// so the sum of up to `sites` encodings stays within (−2^(bits−1), 2^(bits−1)) and never wraps:
// decoding the ring sum as a signed integer is exact. Rounding to nearest costs at most half a step,
// range/(2L), per site per coordinate.

/** Default ring size exponent: Z_{2^32}, one u32 word per coordinate. */
export const DEFAULT_BITS = 32;

function checkEncoding(range: number, sites: number, bits: number): void {
  if (!(Number.isFinite(range) && range > 0)) throw new SecAggError('MALFORMED', `range must be finite and > 0, got ${range}`);
  if (!Number.isInteger(bits) || bits < 2 || bits > 32) throw new SecAggError('MALFORMED', `bits must be an integer in [2, 32], got ${bits}`);
  if (!Number.isInteger(sites) || sites < 1 || sites > 2 ** (bits - 1) - 1) {
    throw new SecAggError('MALFORMED', `sites must be an integer in [1, 2^(bits−1) − 1], got ${sites}`);
  }
}

/**
 * The number of quantisation steps on each side of zero, L = ⌊(2^(bits−1) − 1)/sites⌋: one site's
 * value in [−range, range] becomes an integer in [−L, L].
 * @param sites - how many encodings may be summed (all sites selected for the round)
 * @param bits - ring Z_{2^bits}, 2..32; default 32
 */
export function quantizationLevels(sites: number, bits = DEFAULT_BITS): number {
  checkEncoding(1, sites, bits);
  return Math.floor((2 ** (bits - 1) - 1) / sites);
}

/**
 * Bound on the decoding error of a sum of `summands` encodings, per coordinate:
 * |dequantize(Σ quantize(vᵢ)) − Σ clip(vᵢ)| ≤ summands · range / (2L) ≈ summands·sites·range / 2^bits.
 * @param range - the encoding's range (values are clipped to [−range, range])
 * @param sites - the `sites` the encoding was made for
 * @param bits - ring exponent; default 32
 * @param summands - how many encodings were summed; default `sites`
 */
export function quantizationErrorBound(range: number, sites: number, bits = DEFAULT_BITS, summands = sites): number {
  return (summands * range) / (2 * quantizationLevels(sites, bits));
}

/**
 * Encodes values into Z_{2^bits}: clips each to [−range, range], scales by L/range, rounds to nearest
 * and takes it modulo 2^bits (two's complement).
 * @param values - finite numbers (NaN or ±Infinity → SecAggError MALFORMED)
 * @param range - clipping range, > 0
 * @param sites - how many encodings will be summed, so the sum cannot wrap
 * @param bits - ring exponent, 2..32; default 32
 * @param out - where to write (default: a new Uint32Array of values.length)
 * @param offset - first index of `out` to write; default 0
 */
export function quantize(values: ArrayLike<number>, range: number, sites: number, bits = DEFAULT_BITS, out?: Uint32Array, offset = 0): Uint32Array {
  const levels = quantizationLevels(sites, bits);
  checkEncoding(range, sites, bits);
  const target = out ?? new Uint32Array(values.length);
  if (offset + values.length > target.length) throw new SecAggError('MALFORMED', `out has ${target.length} words, needs ${offset + values.length}`);
  const scale = levels / range;
  const mask = bits === 32 ? 0xffff_ffff : 2 ** bits - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) throw new SecAggError('MALFORMED', `value ${i} is not finite`);
    const clipped = v > range ? range : v < -range ? -range : v;
    // |q| ≤ L < 2^31, so the int32 bitwise AND is the two's-complement residue mod 2^bits.
    target[offset + i] = (Math.round(clipped * scale) & mask) >>> 0;
  }
  return target;
}

/**
 * Decodes a sum of encodings made by {@link quantize} with the same range, sites and bits: reads each
 * word as a signed bits-bit integer and scales by range/L.
 * @param sum - ring elements in [0, 2^bits)
 * @param range - the encodings' range
 * @param sites - the encodings' `sites`
 * @param bits - ring exponent; default 32
 * @param start - first word to decode; default 0
 * @param end - one past the last word; default sum.length
 */
export function dequantize(sum: Uint32Array, range: number, sites: number, bits = DEFAULT_BITS, start = 0, end = sum.length): Float64Array {
  checkEncoding(range, sites, bits);
  const step = range / quantizationLevels(sites, bits);
  const half = 2 ** (bits - 1);
  const modulus = 2 ** bits;
  const out = new Float64Array(end - start);
  for (let i = start; i < end; i++) {
    const w = sum[i];
    out[i - start] = (w >= half ? w - modulus : w) * step;
  }
  return out;
}
