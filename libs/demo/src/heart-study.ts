import { StrategyConfig, StrategyName, StudySpec } from '@medfed/protocol';
import { FLAMBY_BASELINE_TRAINING, HEART_DISEASE_DEFAULT_STUDY } from '@medfed/models';

/**
 * The demo's study: FedAvg of logistic regression over the four Fed-Heart-Disease hospitals, with
 * the hyper-parameters chosen by bench/heart-sim.ts (HEART_DISEASE_DEFAULT_STUDY: full-batch SGD
 * with L2, so every seed converges to the same model; FLamby's own FedAvg recipe reaches 0.685).
 */
export function heartDemoStudy(
  overrides: Partial<Pick<StudySpec, 'rounds' | 'seed' | 'roundTimeoutSeconds' | 'strategy'>> & { secureAggregation?: boolean } = {},
): StudySpec {
  const strategy = overrides.strategy ?? 'fedavg';
  // On by default wherever the strategy allows it: the coordinator then learns only the sum of the updates.
  const secure = (overrides.secureAggregation ?? true) && !NEEDS_INDIVIDUAL_UPDATES.includes(strategy);
  return {
    name: `heart-disease-${strategy}`,
    dataset: 'fed-heart-disease',
    model: HEART_DISEASE_DEFAULT_STUDY.model,
    training: { ...HEART_DISEASE_DEFAULT_STUDY.training, proximalMu: strategy === 'fedprox' ? FEDPROX_MU : 0 },
    strategy,
    ...(DEMO_STRATEGY_CONFIG[strategy] ? { strategyConfig: DEMO_STRATEGY_CONFIG[strategy] } : {}),
    ...(secure ? { secureAggregation: { clipRange: DEMO_SECAGG_CLIP_RANGE } } : {}),
    rounds: overrides.rounds ?? HEART_DISEASE_DEFAULT_STUDY.rounds,
    minSites: 4,
    roundTimeoutSeconds: overrides.roundTimeoutSeconds ?? 120,
    seed: overrides.seed ?? 42,
  };
}

/** Strategies that need each site's own update (or control variates): they run without secure aggregation. */
export const NEEDS_INDIVIDUAL_UPDATES: readonly StrategyName[] = ['median', 'trimmed-mean', 'krum', 'scaffold'];

/** Per-coordinate clipping before quantisation: far above this model's largest update coordinate. */
export const DEMO_SECAGG_CLIP_RANGE = 10;

/** FedProx's μ in the demo (FLamby's value for this data set). */
export const FEDPROX_MU = 0.01;

/** Server-side settings of the demo per strategy; the others use their defaults. */
export const DEMO_STRATEGY_CONFIG: Partial<Record<StrategyName, StrategyConfig>> = {
  fedadam: { serverLearningRate: 0.1 },
  fedyogi: { serverLearningRate: 0.1 },
  fedadagrad: { serverLearningRate: 0.1 },
  scaffold: { serverLearningRate: 1 },
};

/** FLamby's pooled and local baselines: Adam, lr 0.001, batch 4, 50 epochs. */
export const HEART_BASELINE_TRAINING = FLAMBY_BASELINE_TRAINING;
export const HEART_BASELINE_EPOCHS = 50;
