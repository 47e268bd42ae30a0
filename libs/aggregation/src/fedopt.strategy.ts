/**
 * FedOpt — Reddi et al., "Adaptive Federated Optimization", ICLR 2021, Algorithm 2 (shared by FedAdagrad, FedAdam
 * and FedYogi). Server, per coordinate: Δ = example-weighted mean delta; m ← β1·m + (1 − β1)·Δ; v ← variant(v, Δ²);
 * x ← x + η·m / (√v + τ). m and v start at 0, no bias correction — as in the paper, FLamby's `fed_opt.py` and
 * Flower's FedYogi/FedAdagrad (Flower's FedAdam alone adds Adam's bias correction to η).
 * Client: plain local SGD from the received global model, returns Δ = y − x (as FedAvg).
 */
import { positiveOption, StrategyBase, unitIntervalOption } from './strategy.base';
import { stateLayers, weightedMeanLayers } from './layer-math.util';
import type { ClientUpdate, StrategyState } from './strategy.types';

/** Options of the adaptive strategies (Reddi et al. 2021). */
export interface FedOptOptions {
  /** Server learning rate η. Default 0.1 (Flower). */
  serverLearningRate?: number;
  /** First-moment decay β1, in [0, 1). Default 0.9. */
  beta1?: number;
  /** Second-moment decay β2, in [0, 1) (unused by FedAdagrad). Default 0.99 (Flower). */
  beta2?: number;
  /** Adaptivity τ > 0 (keeps η·m/(√v + τ) finite where v = 0). Default 1e-9 (Flower). */
  tau?: number;
}

/** Common arithmetic of FedAdam, FedYogi and FedAdagrad; a variant supplies only the second-moment update. State: { m, v }. */
export abstract class FedOpt extends StrategyBase {
  readonly serverLearningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly tau: number;
  /** m and v start at 0. */
  protected override readonly stateKeys = ['m', 'v'];

  /** @throws RangeError on an option out of range, naming it and the bad value. */
  constructor(options: FedOptOptions = {}) {
    super();
    const label = new.target.name;
    this.serverLearningRate = positiveOption(label, 'serverLearningRate', options.serverLearningRate ?? 0.1);
    this.beta1 = unitIntervalOption(label, 'beta1', options.beta1 ?? 0.9);
    this.beta2 = unitIntervalOption(label, 'beta2', options.beta2 ?? 0.99);
    this.tau = positiveOption(label, 'tau', options.tau ?? 1e-9);
  }

  /** The variant's second-moment update for one coordinate, given the previous v and Δ². */
  protected abstract nextSecondMoment(v: number, deltaSquared: number): number;

  protected aggregate(
    global: readonly Float32Array[],
    updates: readonly ClientUpdate[],
    state: StrategyState,
  ): { global: Float32Array[]; state: StrategyState } {
    const delta = weightedMeanLayers(updates);
    const m0 = stateLayers(state, 'm', global, this.name);
    const v0 = stateLayers(state, 'v', global, this.name);
    const next: Float32Array[] = [];
    const m: Float32Array[] = [];
    const v: Float32Array[] = [];
    global.forEach((layer, l) => {
      const [x, d, mPrev, vPrev] = [layer, delta[l], m0[l], v0[l]];
      const xOut = new Float32Array(x.length);
      const mOut = new Float32Array(x.length);
      const vOut = new Float32Array(x.length);
      for (let j = 0; j < x.length; j++) {
        const mj = this.beta1 * mPrev[j] + (1 - this.beta1) * d[j];
        const vj = this.nextSecondMoment(vPrev[j], d[j] * d[j]);
        mOut[j] = mj;
        vOut[j] = vj;
        // The step uses the float64 moments, not their float32 copies, so it matches a float64 reference.
        xOut[j] = x[j] + (this.serverLearningRate * mj) / (Math.sqrt(vj) + this.tau);
      }
      next.push(xOut);
      m.push(mOut);
      v.push(vOut);
    });
    return { global: next, state: { m, v } };
  }
}
