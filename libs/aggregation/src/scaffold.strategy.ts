/**
 * SCAFFOLD — Karimireddy et al., "SCAFFOLD: Stochastic Controlled Averaging for Federated Learning", ICML 2020,
 * Algorithm 1 with control-variate option II.
 * Server: x ← x + η_g·mean Δy;  c ← c + (|S|/N)·mean Δc  (means over the round's sites S, N = sites in the
 * federation). The means are example-weighted, like FedAvg's: the corrected local steps then average to the
 * weighted gradient only if c stays the same weighted mean of the sites' c_i (FLamby weights Δy the same way).
 * Client (SGD): receives x and c (`trainPayload`), keeps its own c_i (zeros at first), takes K local steps
 * y ← y − η_l·(g(y) + c − c_i), then c_i⁺ = c_i − c + (x − y)/(K·η_l) (`scaffoldClientControl`); returns
 * Δy = y − x and Δc = c_i⁺ − c_i, and stores c_i⁺.
 */
import type { StrategyName } from '@medfed/protocol';

import { AggregationError } from './aggregation.error';
import { assertSameShape } from './layer-checks.util';
import { addScaled, stateLayers, weightedMeanLayers } from './layer-math.util';
import { positiveOption, StrategyBase } from './strategy.base';
import type { ClientUpdate, StrategyState } from './strategy.types';

/** Options of SCAFFOLD. */
export interface ScaffoldOptions {
  /** Global step size η_g. Default 1 (the paper's and FLamby's). */
  serverLearningRate?: number;
}

/** SCAFFOLD (Karimireddy et al. 2020). Every update must carry `controlDelta`. State: { c }. */
export class Scaffold extends StrategyBase {
  readonly name: StrategyName = 'scaffold';
  readonly serverLearningRate: number;
  /** c starts at 0 and is sent to every client with its train task. */
  protected override readonly stateKeys = ['c'];
  protected override readonly payloadKey = 'c';

  /** @throws RangeError when serverLearningRate is not a finite number > 0. */
  constructor(options: ScaffoldOptions = {}) {
    super();
    this.serverLearningRate = positiveOption('Scaffold', 'serverLearningRate', options.serverLearningRate ?? 1);
  }

  protected aggregate(
    global: readonly Float32Array[],
    updates: readonly ClientUpdate[],
    state: StrategyState,
    totalClients: number,
  ): { global: Float32Array[]; state: StrategyState } {
    updates.forEach((u, i) => {
      if (u.controlDelta === undefined) {
        throw new AggregationError(`scaffold: update ${i} has no controlDelta`);
      }
    });
    const c = stateLayers(state, 'c', global, this.name);
    const meanDy = weightedMeanLayers(updates);
    const meanDc = weightedMeanLayers(updates, (u) => u.controlDelta as readonly Float32Array[]);
    return {
      global: addScaled(global, meanDy, this.serverLearningRate),
      state: { c: addScaled(c, meanDc, updates.length / totalClients) },
    };
  }
}

/**
 * SCAFFOLD option II client control update (Karimireddy et al. 2020, Algorithm 1 line 12):
 * c_i⁺ = c_i − c + (x − y)/(K·η_l), with `delta` = y − x. Pure: returns fresh layers; the node sends c_i⁺ − c_i
 * as its update's controlDelta and keeps c_i⁺ for the next round.
 *
 * @param ci the site's current control variate (zeros before its first round).
 * @param c the server control variate received with the task.
 * @param delta the site's weight delta y − x of this round.
 * @param localSteps K, the number of local SGD steps taken (integer ≥ 1).
 * @param localLearningRate η_l of those steps (> 0).
 * @throws AggregationError on a shape mismatch; RangeError on a bad K or η_l.
 */
export function scaffoldClientControl(
  ci: readonly Float32Array[],
  c: readonly Float32Array[],
  delta: readonly Float32Array[],
  localSteps: number,
  localLearningRate: number,
): Float32Array[] {
  if (!Number.isInteger(localSteps) || localSteps < 1) {
    throw new RangeError(`scaffoldClientControl: localSteps must be an integer ≥ 1, got ${localSteps}`);
  }
  positiveOption('scaffoldClientControl', 'localLearningRate', localLearningRate);
  assertSameShape(ci, c, 'server control variate c');
  assertSameShape(ci, delta, 'delta');
  const scale = 1 / (localSteps * localLearningRate);
  return ci.map((layer, l) => {
    const [cl, dl] = [c[l], delta[l]];
    const out = new Float32Array(layer.length);
    for (let j = 0; j < layer.length; j++) out[j] = layer[j] - cl[j] - dl[j] * scale;
    return out;
  });
}
