import { AggregationError } from './aggregation.error';

/**
 * Weighted mean of same-length vectors: Σ wᵢ·vᵢ / Σ wᵢ, accumulated in float64 and written once as float32.
 *
 * @param vectors one or more vectors of equal length.
 * @param weights one finite weight > 0 per vector (e.g. each site's number of training examples).
 * @returns a new Float32Array; the inputs are not modified.
 * @throws AggregationError on empty input, a count mismatch, a bad weight or a length mismatch.
 */
export function weightedAverage(vectors: readonly Float32Array[], weights: readonly number[]): Float32Array {
  if (vectors.length === 0) {
    throw new AggregationError('weightedAverage needs at least one vector, got 0');
  }
  if (weights.length !== vectors.length) {
    throw new AggregationError(`weightedAverage got ${vectors.length} vectors but ${weights.length} weights`);
  }
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (!Number.isFinite(w) || w <= 0) {
      throw new AggregationError(`weight ${i} must be finite and > 0, got ${w}`);
    }
    total += w;
  }
  const length = vectors[0].length;
  for (let i = 1; i < vectors.length; i++) {
    if (vectors[i].length !== length) {
      throw new AggregationError(`vector ${i} has length ${vectors[i].length}, expected ${length}`);
    }
  }
  const scaled = weights.map((w) => w / total);
  const out = new Float32Array(length);
  // Blocks of four vectors per pass over the output: far fewer read-modify-writes of `out` than a
  // vector-by-vector loop, which is what makes large-model averaging memory-bound instead of loop-bound
  // (STACK.md, 'Aggregation arithmetic'). A Float64Array accumulator would double the traffic, so
  // partial sums stay in float64 registers within a block and are rounded once per block.
  let k = 0;
  for (; k + 4 <= vectors.length; k += 4) {
    const a = vectors[k], b = vectors[k + 1], c = vectors[k + 2], d = vectors[k + 3];
    const wa = scaled[k], wb = scaled[k + 1], wc = scaled[k + 2], wd = scaled[k + 3];
    for (let j = 0; j < length; j++) {
      out[j] += wa * a[j] + wb * b[j] + wc * c[j] + wd * d[j];
    }
  }
  for (; k < vectors.length; k++) {
    const a = vectors[k];
    const wa = scaled[k];
    for (let j = 0; j < length; j++) {
      out[j] += wa * a[j];
    }
  }
  return out;
}
