/**
 * FedYogi — Reddi et al., "Adaptive Federated Optimization", ICLR 2021 (Algorithm 2, Yogi variant, after Zaheer
 * et al., NeurIPS 2018): v ← v − (1 − β2)·Δ²·sign(v − Δ²), so v grows no faster than additively when updates
 * shrink. Same rule in FLamby and Flower. Client: plain local SGD; returns Δ = y − x.
 */
import type { StrategyName } from '@medfed/protocol';

import { FedOpt } from './fedopt.strategy';

/** FedYogi (Reddi et al. 2021). Options: serverLearningRate η, beta1, beta2, tau. State: { m, v }. */
export class FedYogi extends FedOpt {
  readonly name: StrategyName = 'fedyogi';

  protected nextSecondMoment(v: number, deltaSquared: number): number {
    return v - (1 - this.beta2) * deltaSquared * Math.sign(v - deltaSquared);
  }
}
