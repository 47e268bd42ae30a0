import type { ExampleSet, ShapedArray } from '@medfed/data';

/**
 * Which inputs of an ExampleSet share one feature axis, and the names along it: the LAST axis of every
 * input in `inputs` (e.g. `x` [n, d] for tabular data; `values`, `mask`, `delta` [n, steps, f] for ICU
 * sequences, where feature j is the same variable in all three, at every time step).
 */
export interface FeatureAxis {
  inputs: string[];
  names: readonly string[];
}

/** A FeatureAxis that does not fit the ExampleSet (missing input, other last-axis length, no names). */
export class FeatureAxisError extends RangeError {
  override readonly name = 'FeatureAxisError';
}

/** One input's layout along the feature axis: `rows` = n, `inner` = product of the axes between the first and the last. */
export interface AxisLayout {
  input: string;
  array: ShapedArray;
  /** Elements per example. */
  rowSize: number;
  /** Number of positions per example that carry each feature (e.g. time steps); 1 for [n, d]. */
  inner: number;
}

/**
 * Checks `features` against `set` and returns the layout of each named input.
 * @throws FeatureAxisError naming the input and its shape when it is missing, has no feature axis, or its
 *   last axis is not `features.names.length` long.
 */
export function featureAxisLayout(set: ExampleSet, features: FeatureAxis): AxisLayout[] {
  const d = features.names.length;
  if (d === 0) throw new FeatureAxisError('the feature axis has no names (0 features)');
  if (features.inputs.length === 0) throw new FeatureAxisError('the feature axis names no inputs');
  return features.inputs.map((input) => {
    const array = set.inputs[input];
    if (!array) {
      throw new FeatureAxisError(`input '${input}' is not in the set (inputs: ${Object.keys(set.inputs).join(', ')})`);
    }
    const shape = array.shape;
    if (shape.length < 2 || shape[0] !== set.n || shape[shape.length - 1] !== d) {
      throw new FeatureAxisError(`input '${input}' has shape [${shape.join(', ')}]; expected [${set.n}, …, ${d}] (${d} feature names)`);
    }
    const rowSize = shape.slice(1).reduce((p, s) => p * s, 1);
    return { input, array, rowSize, inner: rowSize / d };
  });
}
