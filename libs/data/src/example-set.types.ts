/** One dense float array with its shape; the first dimension is the number of examples. */
export interface ShapedArray {
  shape: number[];
  /** Row-major values, length = product of `shape`. */
  data: Float32Array;
}

/**
 * A set of examples as the models see them, whatever the data set: named inputs (tabular features,
 * images, sequences with their masks and time gaps, fingerprints) and one or more binary targets.
 * Built and held only inside a node; nothing of it is ever sent.
 */
export interface ExampleSet {
  /** Number of examples (patients, images, molecules). */
  n: number;
  /** Named inputs, each with first dimension `n` (e.g. `x` [n, d]; `values`, `mask`, `delta` [n, steps, f]). */
  inputs: Record<string, ShapedArray>;
  /** Binary targets [n, heads] in {0, 1}; NaN marks a missing label (e.g. an assay not run on a molecule). */
  labels: ShapedArray;
}

function rowSize(a: ShapedArray): number {
  return a.shape.slice(1).reduce((p, d) => p * d, 1);
}

function takeRows(a: ShapedArray, indices: readonly number[]): ShapedArray {
  const size = rowSize(a);
  const data = new Float32Array(indices.length * size);
  indices.forEach((row, i) => data.set(a.data.subarray(row * size, (row + 1) * size), i * size));
  return { shape: [indices.length, ...a.shape.slice(1)], data };
}

/**
 * The examples at `indices`, in that order (for splits, shuffles and bootstrap samples).
 * @throws RangeError when an index is outside [0, n).
 */
export function subsetExamples(set: ExampleSet, indices: readonly number[]): ExampleSet {
  const bad = indices.find((i) => !Number.isInteger(i) || i < 0 || i >= set.n);
  if (bad !== undefined) throw new RangeError(`subsetExamples: index ${bad} is outside [0, ${set.n})`);
  const inputs: Record<string, ShapedArray> = {};
  for (const [name, a] of Object.entries(set.inputs)) inputs[name] = takeRows(a, indices);
  return { n: indices.length, inputs, labels: takeRows(set.labels, indices) };
}

/**
 * Concatenates example sets with the same inputs row-wise (e.g. the pooled set of a centralised baseline).
 * @throws RangeError on an empty list or sets whose input names or row shapes differ.
 */
export function concatExampleSets(sets: readonly ExampleSet[]): ExampleSet {
  if (sets.length === 0) throw new RangeError('concatExampleSets needs at least one set, got 0');
  const first = sets[0];
  const concat = (pick: (s: ExampleSet) => ShapedArray, what: string): ShapedArray => {
    const rowShape = pick(first).shape.slice(1).join('×');
    const bad = sets.findIndex((s) => pick(s) === undefined || pick(s).shape.slice(1).join('×') !== rowShape);
    if (bad >= 0) throw new RangeError(`concatExampleSets: set ${bad} has no '${what}' of row shape ${rowShape}`);
    const n = sets.reduce((t, s) => t + s.n, 0);
    const data = new Float32Array(n * rowSize(pick(first)));
    let offset = 0;
    for (const s of sets) {
      data.set(pick(s).data.subarray(0, s.n * rowSize(pick(s))), offset);
      offset += s.n * rowSize(pick(s));
    }
    return { shape: [n, ...pick(first).shape.slice(1)], data };
  };
  const inputs: Record<string, ShapedArray> = {};
  for (const name of Object.keys(first.inputs)) inputs[name] = concat((s) => s.inputs[name], name);
  return { n: sets.reduce((t, s) => t + s.n, 0), inputs, labels: concat((s) => s.labels, 'labels') };
}
