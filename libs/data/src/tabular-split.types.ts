/** A dense tabular data set: `n` rows of `dim` float features (row-major) with a 0/1 label per row. */
export interface TabularSplit {
  /** Row-major features, length n × dim. */
  x: Float32Array;
  /** Binary labels, 0 or 1, length n. */
  y: Float32Array;
  n: number;
  dim: number;
}

/**
 * Concatenates splits row-wise (e.g. to build the pooled training set of the centralised baseline).
 *
 * @param splits one or more splits with the same `dim`.
 * @throws RangeError on an empty list or differing `dim`.
 */
export function concatSplits(splits: TabularSplit[]): TabularSplit {
  if (splits.length === 0) {
    throw new RangeError('concatSplits needs at least one split, got 0');
  }
  const dim = splits[0].dim;
  const bad = splits.findIndex((s) => s.dim !== dim);
  if (bad >= 0) {
    throw new RangeError(`split ${bad} has dim ${splits[bad].dim}, expected ${dim}`);
  }
  const n = splits.reduce((acc, s) => acc + s.n, 0);
  const x = new Float32Array(n * dim);
  const y = new Float32Array(n);
  let row = 0;
  for (const s of splits) {
    x.set(s.x.subarray(0, s.n * dim), row * dim);
    y.set(s.y.subarray(0, s.n), row);
    row += s.n;
  }
  return { x, y, n, dim };
}
