import { AggregationError } from './aggregation.error';
import { assertFiniteLayers, assertSameShape } from './layer-checks.util';
import type { ClientUpdate, StrategyState } from './strategy.types';
import { weightedAverage } from './weighted-average.util';

/** Fresh zero layers shaped like `like`. */
export function zerosLike(like: readonly Float32Array[]): Float32Array[] {
  return like.map((l) => new Float32Array(l.length));
}

/** Fresh copies of `layers`. */
export function copyLayers(layers: readonly Float32Array[]): Float32Array[] {
  return layers.map((l) => Float32Array.from(l));
}

/**
 * `a + scale·b`, layer by layer, into fresh arrays (the sum is formed in float64 and rounded once).
 *
 * @throws AggregationError when the shapes differ.
 */
export function addScaled(a: readonly Float32Array[], b: readonly Float32Array[], scale: number): Float32Array[] {
  assertSameShape(a, b, 'addScaled operand');
  return a.map((layer, l) => {
    const other = b[l];
    const out = new Float32Array(layer.length);
    for (let j = 0; j < layer.length; j++) out[j] = layer[j] + scale * other[j];
    return out;
  });
}

/** `a − b`, layer by layer, into fresh arrays. @throws AggregationError when the shapes differ. */
export function subtractLayers(a: readonly Float32Array[], b: readonly Float32Array[]): Float32Array[] {
  return addScaled(a, b, -1);
}

/**
 * Example-weighted mean (Σ nᵢ·vᵢ / Σ nᵢ) of one layer list per update, e.g. the deltas (FedAvg's mean update).
 *
 * @param updates one or more checked updates.
 * @param pick which layers of an update to average (default: its delta).
 */
export function weightedMeanLayers(
  updates: readonly ClientUpdate[],
  pick: (u: ClientUpdate) => readonly Float32Array[] = (u) => u.delta,
): Float32Array[] {
  const weights = updates.map((u) => u.numExamples);
  const first = pick(updates[0]);
  return first.map((_, l) =>
    weightedAverage(
      updates.map((u) => pick(u)[l]),
      weights,
    ),
  );
}

/**
 * Reads a named layer list from a strategy's state, or zeros shaped like `like` when the state does not hold it
 * yet (a state of `{}` is a valid round-1 state).
 *
 * @throws AggregationError when the stored layers are misshapen or non-finite (e.g. a corrupted persisted state).
 */
export function stateLayers(state: StrategyState, key: string, like: readonly Float32Array[], strategy: string): readonly Float32Array[] {
  const layers = state[key];
  if (layers === undefined) return zerosLike(like);
  if (!Array.isArray(layers) || layers.some((l) => !(l instanceof Float32Array))) {
    throw new AggregationError(`${strategy} state '${key}' must be a list of Float32Array layers`);
  }
  assertSameShape(like, layers, `${strategy} state '${key}'`);
  assertFiniteLayers(layers, `${strategy} state '${key}'`);
  return layers;
}
