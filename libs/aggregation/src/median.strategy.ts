/**
 * Coordinate-wise median — Yin et al., "Byzantine-Robust Distributed Learning: Towards Optimal Statistical Rates",
 * ICML 2018 (Flower's FedMedian). Server: x ← x + median_i Δᵢ per coordinate (the mean of the two middle values
 * for an even count, as numpy.median); example counts are not used, so a site cannot buy influence by lying about
 * them. Needs every individual update: incompatible with secure aggregation.
 * Client: plain local training; returns Δ = y − x.
 */
import type { StrategyName } from '@medfed/protocol';

import { StrategyBase } from './strategy.base';
import type { ClientUpdate, StrategyState } from './strategy.types';

/** Coordinate-wise median (Yin et al. 2018). Stateless. */
export class FedMedian extends StrategyBase {
  readonly name: StrategyName = 'median';
  override readonly needsIndividualUpdates = true;

  protected aggregate(global: readonly Float32Array[], updates: readonly ClientUpdate[]): { global: Float32Array[]; state: StrategyState } {
    const n = updates.length;
    const column = new Float64Array(n);
    const half = n >> 1;
    return {
      global: global.map((layer, l) => {
        const out = new Float32Array(layer.length);
        for (let j = 0; j < layer.length; j++) {
          for (let i = 0; i < n; i++) column[i] = updates[i].delta[l][j];
          column.sort();
          const median = n % 2 === 1 ? column[half] : (column[half - 1] + column[half]) / 2;
          out[j] = layer[j] + median;
        }
        return out;
      }),
      state: {},
    };
  }
}
