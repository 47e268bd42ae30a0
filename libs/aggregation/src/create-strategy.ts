import { STRATEGIES } from '@medfed/protocol';
import type { StrategyConfig, StrategyName } from '@medfed/protocol';

import { FedAdagrad } from './fedadagrad.strategy';
import { FedAdam } from './fedadam.strategy';
import { FedAvg } from './fedavg.strategy';
import { FedProx } from './fedprox.strategy';
import { FedYogi } from './fedyogi.strategy';
import { Krum } from './krum.strategy';
import { FedMedian } from './median.strategy';
import { Scaffold } from './scaffold.strategy';
import type { Strategy } from './strategy.types';
import { FedTrimmedAvg } from './trimmed-mean.strategy';

/**
 * Builds the named strategy from a study's StrategyConfig; each strategy reads only its own fields and the rest
 * take its defaults (serverLearningRate 1 for SCAFFOLD, 0.1 for the adaptive ones; beta1 0.9; beta2 0.99; tau 1e-9;
 * trimFraction 0.1; byzantine 0). Krum's n > 2f + 2 is checked per round, in aggregateTrain.
 *
 * @throws RangeError naming the bad value for an unknown strategy or an out-of-range option (e.g. trimFraction 0.6).
 */
export function createStrategy(name: StrategyName, config: StrategyConfig = {}): Strategy {
  switch (name) {
    case 'fedavg':
      return new FedAvg();
    case 'fedprox':
      return new FedProx();
    case 'fedadam':
      return new FedAdam(config);
    case 'fedyogi':
      return new FedYogi(config);
    case 'fedadagrad':
      return new FedAdagrad(config);
    case 'scaffold':
      return new Scaffold({ serverLearningRate: config.serverLearningRate });
    case 'median':
      return new FedMedian();
    case 'trimmed-mean':
      return new FedTrimmedAvg({ trimFraction: config.trimFraction });
    case 'krum':
      return new Krum({ byzantine: config.byzantine });
    default:
      throw new RangeError(`unknown strategy '${String(name)}', expected one of ${STRATEGIES.join(', ')}`);
  }
}
