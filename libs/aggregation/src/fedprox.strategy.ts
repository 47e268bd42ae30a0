/**
 * FedProx — Li et al., "Federated Optimization in Heterogeneous Networks", MLSys 2020.
 * Server: identical to FedAvg (example-weighted mean delta).
 * Client: adds the proximal term μ/2·‖w − x‖² to its local objective, x = the global model received this round
 * (μ = the study's `training.proximalMu`, FLamby/Flower's `proximal_mu`); without it FedProx is FedAvg.
 */
import type { StrategyName } from '@medfed/protocol';

import { FedAvg } from './fedavg.strategy';

/** FedProx (Li et al. 2020): FedAvg on the server; the proximal term lives at the client. */
export class FedProx extends FedAvg {
  override readonly name: StrategyName = 'fedprox';
}
