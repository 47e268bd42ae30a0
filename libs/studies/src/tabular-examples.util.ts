import type { ExampleSet, TabularSplit } from '@medfed/data';

/** A TabularSplit as an ExampleSet: input `x` [n, dim], one label column. */
export function examplesFromTabular(split: TabularSplit): ExampleSet {
  return {
    n: split.n,
    inputs: { x: { shape: [split.n, split.dim], data: split.x.subarray(0, split.n * split.dim) } },
    labels: { shape: [split.n, 1], data: split.y.subarray(0, split.n) },
  };
}

/** An empty set with the given row shapes, for a split a data set does not have. */
export function emptyExamples(inputs: Record<string, number[]>, outputs: number): ExampleSet {
  const shaped: ExampleSet['inputs'] = {};
  for (const [name, rowShape] of Object.entries(inputs)) shaped[name] = { shape: [0, ...rowShape], data: new Float32Array(0) };
  return { n: 0, inputs: shaped, labels: { shape: [0, outputs], data: new Float32Array(0) } };
}
