/**
 * Krum — Blanchard et al., "Machine Learning with Adversaries: Byzantine Tolerant Gradient Descent", NeurIPS 2017.
 * Server: score each update by the sum of squared Euclidean distances to its n − f − 2 nearest other updates and
 * apply the one with the lowest score (ties: the first): x ← x + Δ_selected. Tolerates f Byzantine sites when
 * n > 2f + 2. Needs every individual update: incompatible with secure aggregation.
 * Client: plain local training; returns Δ = y − x.
 */
import type { StrategyName } from '@medfed/protocol';

import { AggregationError } from './aggregation.error';
import { addScaled } from './layer-math.util';
import { StrategyBase } from './strategy.base';
import type { ClientUpdate, StrategyState } from './strategy.types';

/** Options of Krum. */
export interface KrumOptions {
  /** f, the number of Byzantine sites tolerated (integer ≥ 0). Default 0: the most central update. */
  byzantine?: number;
}

/** Krum (Blanchard et al. 2017). Stateless. */
export class Krum extends StrategyBase {
  readonly name: StrategyName = 'krum';
  override readonly needsIndividualUpdates = true;
  readonly byzantine: number;

  /** @throws RangeError when byzantine is not an integer ≥ 0. */
  constructor(options: KrumOptions = {}) {
    super();
    const f = options.byzantine ?? 0;
    if (!Number.isInteger(f) || f < 0) {
      throw new RangeError(`Krum: byzantine must be an integer ≥ 0, got ${f}`);
    }
    this.byzantine = f;
  }

  /** Index of the update Krum selects. @throws AggregationError unless n > 2f + 2. */
  select(updates: readonly ClientUpdate[]): number {
    const n = updates.length;
    const f = this.byzantine;
    if (n <= 2 * f + 2) {
      throw new AggregationError(`krum with byzantine = ${f} needs more than ${2 * f + 2} updates, got ${n}`);
    }
    const distances = Array.from({ length: n }, () => new Float64Array(n));
    for (let a = 0; a < n; a++) {
      for (let b = a + 1; b < n; b++) {
        let d = 0;
        const [da, db] = [updates[a].delta, updates[b].delta];
        for (let l = 0; l < da.length; l++) {
          const [la, lb] = [da[l], db[l]];
          for (let j = 0; j < la.length; j++) {
            const diff = la[j] - lb[j];
            d += diff * diff;
          }
        }
        distances[a][b] = d;
        distances[b][a] = d;
      }
    }
    const neighbours = n - f - 2;
    let best = 0;
    let bestScore = Number.POSITIVE_INFINITY;
    for (let a = 0; a < n; a++) {
      const others = Float64Array.from(distances[a].filter((_, b) => b !== a)).sort();
      let score = 0;
      for (let k = 0; k < neighbours; k++) score += others[k];
      if (score < bestScore) {
        bestScore = score;
        best = a;
      }
    }
    return best;
  }

  protected aggregate(global: readonly Float32Array[], updates: readonly ClientUpdate[]): { global: Float32Array[]; state: StrategyState } {
    return { global: addScaled(global, updates[this.select(updates)].delta, 1), state: {} };
  }
}
