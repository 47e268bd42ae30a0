import * as tf from '@tensorflow/tfjs';

/** One layer's weights as plain data: a shape and its row-major float32 values (same as the protocol's WeightTensor). */
export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

/** Number of elements a shape holds (1 for a scalar shape []). */
export function shapeSize(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Element-wise `after − before`, layer by layer: what a site sends back in FedAvg.
 *
 * @throws RangeError when the layer counts or shapes differ.
 */
export function weightsDelta(after: readonly WeightTensor[], before: readonly WeightTensor[]): Float32Array[] {
  if (after.length !== before.length) {
    throw new RangeError(`weightsDelta: ${after.length} layers after but ${before.length} before`);
  }
  return after.map((a, l) => {
    const b = before[l];
    if (a.shape.join('x') !== b.shape.join('x') || a.data.length !== b.data.length) {
      throw new RangeError(`weightsDelta: layer ${l} is [${a.shape}] after but [${b.shape}] before`);
    }
    const out = new Float32Array(a.data.length);
    for (let i = 0; i < out.length; i++) {
      out[i] = a.data[i] - b.data[i];
    }
    return out;
  });
}

/** Wraps flat layers (e.g. a FedAvg result) back into WeightTensors shaped like `like`. @throws RangeError on a size mismatch. */
export function withShapes(layers: readonly Float32Array[], like: readonly WeightTensor[]): WeightTensor[] {
  if (layers.length !== like.length) {
    throw new RangeError(`withShapes: ${layers.length} layers but ${like.length} shapes`);
  }
  return layers.map((data, l) => {
    if (data.length !== shapeSize(like[l].shape)) {
      throw new RangeError(`withShapes: layer ${l} has ${data.length} values, shape [${like[l].shape}] needs ${shapeSize(like[l].shape)}`);
    }
    return { shape: [...like[l].shape], data };
  });
}

/**
 * Checks that `weights` match a model's variables one for one: the count, every shape, every length.
 * @param expected the variables' shapes, in getWeights() order.
 * @throws RangeError naming the first tensor that does not fit.
 */
export function assertWeightShapes(weights: readonly WeightTensor[], expected: readonly (readonly number[])[], what: string): void {
  if (weights.length !== expected.length) throw new RangeError(`${what}: got ${weights.length} tensors, model has ${expected.length}`);
  weights.forEach((w, i) => {
    const shape = expected[i];
    if (w.shape.length !== shape.length || w.shape.some((d, k) => d !== shape[k]) || w.data.length !== shapeSize(shape)) {
      throw new RangeError(`${what}: tensor ${i} is [${w.shape}] with ${w.data.length} values, expected [${shape}]`);
    }
  });
}

/** Copies of the variables' values, in order: a model's getWeights(). */
export function readVariables(vars: readonly tf.Variable[]): WeightTensor[] {
  return vars.map((v) => ({ shape: [...v.shape], data: Float32Array.from(v.dataSync() as Float32Array) }));
}

/**
 * A model's setWeights(): checks `weights` against the variables ({@link assertWeightShapes}), then assigns copies
 * (the cpu backend would otherwise keep the caller's array as the variable's storage).
 * @throws RangeError naming the first tensor that does not fit; nothing is assigned then.
 */
export function assignVariables(vars: readonly tf.Variable[], weights: readonly WeightTensor[], what: string): void {
  assertWeightShapes(weights, vars.map((v) => v.shape), what);
  tf.tidy(() => weights.forEach((w, i) => vars[i].assign(tf.tensor(Float32Array.from(w.data), vars[i].shape))));
}
