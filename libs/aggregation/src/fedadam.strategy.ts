/**
 * FedAdam — Reddi et al., "Adaptive Federated Optimization", ICLR 2021 (Algorithm 2, Adam variant):
 * v ← β2·v + (1 − β2)·Δ², then x ← x + η·m/(√v + τ) (see fedopt.strategy.ts). No bias correction, as in the
 * paper and FLamby (Flower's FedAdam scales η by √(1 − β2^t)/(1 − β1^t)).
 * Client: plain local SGD from the received global model; returns Δ = y − x.
 */
import type { StrategyName } from '@medfed/protocol';

import { FedOpt } from './fedopt.strategy';

/** FedAdam (Reddi et al. 2021). Options: serverLearningRate η, beta1, beta2, tau. State: { m, v }. */
export class FedAdam extends FedOpt {
  readonly name: StrategyName = 'fedadam';

  protected nextSecondMoment(v: number, deltaSquared: number): number {
    return this.beta2 * v + (1 - this.beta2) * deltaSquared;
  }
}
