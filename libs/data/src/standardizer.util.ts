import { TabularSplit } from './tabular-split.types';

/** FLamby's epsilon in `(x - mean) / (std + 1e-9)`: keeps constant columns (Swiss `chol`, all 0) at 0 instead of NaN. */
const STD_EPSILON = 1e-9;

/** Per-feature z-score statistics fitted on one split, applicable to any split of the same width. */
export interface Standardizer {
  mean: Float64Array;
  /** Unbiased (n − 1) standard deviation, as torch.std computes it. */
  std: Float64Array;
  /** Returns a new split with x ← (x − mean) / (std + 1e-9); y is copied; the input is not modified. */
  apply(split: TabularSplit): TabularSplit;
}

/**
 * Fits z-score statistics the way FLamby's Fed-Heart-Disease does: mean and unbiased std per feature,
 * applied as (x − mean) / (std + 1e-9). FLamby fits on the center's own training split (federated and
 * local) or on the pooled training set (centralised).
 *
 * @param fitOn the split whose statistics are used; needs n ≥ 2 for an unbiased std.
 * @throws RangeError when fitOn has fewer than 2 rows.
 */
export function fitStandardizer(fitOn: TabularSplit): Standardizer {
  const { n, dim, x } = fitOn;
  if (n < 2) {
    throw new RangeError(`fitStandardizer needs at least 2 rows for an unbiased std, got ${n}`);
  }
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      mean[j] += x[i * dim + j];
    }
  }
  for (let j = 0; j < dim; j++) {
    mean[j] /= n;
  }
  // Two-pass variance: numerically safer than Σx² − n·mean² for columns like cholesterol (~250 ± 50).
  const std = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) {
      const d = x[i * dim + j] - mean[j];
      std[j] += d * d;
    }
  }
  for (let j = 0; j < dim; j++) {
    std[j] = Math.sqrt(std[j] / (n - 1));
  }
  return {
    mean,
    std,
    apply(split: TabularSplit): TabularSplit {
      if (split.dim !== dim) {
        throw new RangeError(`standardizer was fitted on dim ${dim}, got a split of dim ${split.dim}`);
      }
      const out = new Float32Array(split.n * dim);
      for (let i = 0; i < split.n; i++) {
        for (let j = 0; j < dim; j++) {
          out[i * dim + j] = (split.x[i * dim + j] - mean[j]) / (std[j] + STD_EPSILON);
        }
      }
      return { x: out, y: Float32Array.from(split.y.subarray(0, split.n)), n: split.n, dim };
    },
  };
}
