/**
 * FedAvg — McMahan et al., "Communication-Efficient Learning of Deep Networks from Decentralized Data", AISTATS 2017.
 * Server: x ← x + Σ nᵢ·Δᵢ / Σ nᵢ (example-weighted mean of the sites' weight deltas).
 * Client: trains the received global model locally and returns Δ = y − x with its training-set size.
 */
import type { StrategyName } from '@medfed/protocol';

import { addScaled, weightedMeanLayers } from './layer-math.util';
import { StrategyBase } from './strategy.base';
import type { ClientUpdate, StrategyState } from './strategy.types';

/** FedAvg (McMahan et al. 2017) over weight deltas, weighted by numExamples. Stateless. */
export class FedAvg extends StrategyBase {
  readonly name: StrategyName = 'fedavg';

  protected aggregate(global: readonly Float32Array[], updates: readonly ClientUpdate[]): { global: Float32Array[]; state: StrategyState } {
    return { global: addScaled(global, weightedMeanLayers(updates), 1), state: {} };
  }
}
