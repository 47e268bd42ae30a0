/**
 * Coordinate-wise trimmed mean — Yin et al., "Byzantine-Robust Distributed Learning: Towards Optimal Statistical
 * Rates", ICML 2018 (Flower's FedTrimmedAvg). Server, per coordinate: drop the k = ⌊β·n⌋ smallest and k largest of
 * the n deltas, x ← x + the (unweighted) mean of the rest. Needs every individual update: incompatible with secure
 * aggregation. Client: plain local training; returns Δ = y − x.
 */
import type { StrategyName } from '@medfed/protocol';

import { StrategyBase } from './strategy.base';
import type { ClientUpdate, StrategyState } from './strategy.types';

/** Options of the trimmed mean. */
export interface TrimmedMeanOptions {
  /** β, the fraction trimmed at each end, in [0, 0.5). Default 0.1. */
  trimFraction?: number;
}

/** Coordinate-wise β-trimmed mean (Yin et al. 2018). Stateless. */
export class FedTrimmedAvg extends StrategyBase {
  readonly name: StrategyName = 'trimmed-mean';
  override readonly needsIndividualUpdates = true;
  readonly trimFraction: number;

  /** @throws RangeError when trimFraction is outside [0, 0.5). */
  constructor(options: TrimmedMeanOptions = {}) {
    super();
    const beta = options.trimFraction ?? 0.1;
    if (!(beta >= 0 && beta < 0.5)) {
      throw new RangeError(`FedTrimmedAvg: trimFraction must be in [0, 0.5), got ${beta}`);
    }
    this.trimFraction = beta;
  }

  protected aggregate(global: readonly Float32Array[], updates: readonly ClientUpdate[]): { global: Float32Array[]; state: StrategyState } {
    const n = updates.length;
    // β < 0.5 guarantees k < n/2, so at least one value is kept.
    const k = Math.floor(this.trimFraction * n);
    const kept = n - 2 * k;
    const column = new Float64Array(n);
    return {
      global: global.map((layer, l) => {
        const out = new Float32Array(layer.length);
        for (let j = 0; j < layer.length; j++) {
          for (let i = 0; i < n; i++) column[i] = updates[i].delta[l][j];
          column.sort();
          let sum = 0;
          for (let i = k; i < n - k; i++) sum += column[i];
          out[j] = layer[j] + sum / kept;
        }
        return out;
      }),
      state: {},
    };
  }
}
