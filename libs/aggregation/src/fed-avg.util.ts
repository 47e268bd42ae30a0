import { AggregationError } from './aggregation.error';
import { assertFiniteLayers, assertSameShape } from './layer-checks.util';
import { weightedAverage } from './weighted-average.util';

/** One site's answer in a FedAvg round: its weight delta (after − before local training) per layer, and its training-set size. */
export interface Contribution {
  delta: readonly Float32Array[];
  numExamples: number;
}

/**
 * FedAvg (McMahan et al., "Communication-Efficient Learning of Deep Networks from Decentralized Data",
 * AISTATS 2017) over weight deltas: new = global + Σ nᵢ·Δᵢ / Σ nᵢ, layer by layer.
 * Averaging deltas rather than weights gives the same result and lets sites send only what changed.
 *
 * @param global the current global layers (not modified).
 * @param contributions one or more site deltas, each shaped like `global`, with numExamples > 0.
 * @returns the new global layers (fresh arrays).
 * @throws AggregationError on no contributions, a shape mismatch, a non-finite value or a bad example count.
 */
export function fedAvg(global: readonly Float32Array[], contributions: readonly Contribution[]): Float32Array[] {
  if (contributions.length === 0) {
    throw new AggregationError('fedAvg needs at least one contribution, got 0');
  }
  assertFiniteLayers(global, 'global model');
  contributions.forEach((c, i) => {
    if (!Number.isFinite(c.numExamples) || c.numExamples <= 0) {
      throw new AggregationError(`contribution ${i}: numExamples must be finite and > 0, got ${c.numExamples}`);
    }
    assertSameShape(global, c.delta, `contribution ${i}`);
    assertFiniteLayers(c.delta, `contribution ${i}`);
  });
  const weights = contributions.map((c) => c.numExamples);
  return global.map((layer, l) => {
    const meanDelta = weightedAverage(
      contributions.map((c) => c.delta[l]),
      weights,
    );
    const out = new Float32Array(layer.length);
    for (let j = 0; j < layer.length; j++) {
      out[j] = layer[j] + meanDelta[j];
    }
    return out;
  });
}
