import { AggregationError } from './aggregation.error';

/**
 * Checks that every element of every layer is finite.
 *
 * @param layers the flattened layers to check.
 * @param what names the source in the error, e.g. `update from site-a`.
 * @throws AggregationError naming `what`, the layer index and the element index of the first NaN/±Infinity.
 */
export function assertFiniteLayers(layers: readonly Float32Array[], what: string): void {
  for (let l = 0; l < layers.length; l++) {
    const layer = layers[l];
    for (let i = 0; i < layer.length; i++) {
      // `x - x` is 0 for finite x and NaN for NaN/±Infinity: one comparison per element.
      const v = layer[i];
      if (v - v !== 0) {
        throw new AggregationError(`${what}: layer ${l} element ${i} is ${v}, expected a finite number`);
      }
    }
  }
}

/**
 * Checks that `candidate` has as many layers as `reference` and each layer has the same length.
 *
 * @param reference the layers of the expected shape (e.g. the global model).
 * @param candidate the layers to check (e.g. a site's delta).
 * @param what names the candidate in the error.
 * @throws AggregationError on a layer count or layer length mismatch.
 */
export function assertSameShape(
  reference: readonly Float32Array[],
  candidate: readonly Float32Array[],
  what: string,
): void {
  if (candidate.length !== reference.length) {
    throw new AggregationError(`${what}: has ${candidate.length} layers, expected ${reference.length}`);
  }
  for (let l = 0; l < reference.length; l++) {
    if (candidate[l].length !== reference[l].length) {
      throw new AggregationError(
        `${what}: layer ${l} has ${candidate[l].length} elements, expected ${reference[l].length}`,
      );
    }
  }
}
