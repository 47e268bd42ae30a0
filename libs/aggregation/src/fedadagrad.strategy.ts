/**
 * FedAdagrad — Reddi et al., "Adaptive Federated Optimization", ICLR 2021 (Algorithm 2, Adagrad variant):
 * v ← v + Δ². β1 momentum applies as in the paper and FLamby (Flower's FedAdagrad defaults β1 to 0, i.e. m = Δ);
 * β2 is not used. Client: plain local SGD; returns Δ = y − x.
 */
import type { StrategyName } from '@medfed/protocol';

import { FedOpt } from './fedopt.strategy';

/** FedAdagrad (Reddi et al. 2021). Options: serverLearningRate η, beta1, tau. State: { m, v }. */
export class FedAdagrad extends FedOpt {
  readonly name: StrategyName = 'fedadagrad';

  protected nextSecondMoment(v: number, deltaSquared: number): number {
    return v + deltaSquared;
  }
}
