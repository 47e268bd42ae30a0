import { StudySpec, TrainingConfig } from '@medfed/protocol';
import { HEART_DISEASE_FEATURES } from '@medfed/data';

/**
 * The demo's study: FedAvg of logistic regression over the four Fed-Heart-Disease hospitals.
 * Hyper-parameters were chosen with bench/heart-sim.ts (see its output in docs/benchmarks.md);
 * FLamby's own FedAvg recipe (SGD, lr 0.001) under-trains in 15 rounds and reaches 0.685.
 */
export function heartDemoStudy(overrides: Partial<Pick<StudySpec, 'rounds' | 'seed' | 'roundTimeoutSeconds'>> = {}): StudySpec {
  return {
    name: 'heart-disease-fedavg',
    dataset: 'fed-heart-disease',
    model: { family: 'logistic-regression', inputDim: HEART_DISEASE_FEATURES.length },
    training: HEART_FEDERATED_TRAINING,
    strategy: 'fedavg',
    rounds: overrides.rounds ?? 15,
    minSites: 4,
    roundTimeoutSeconds: overrides.roundTimeoutSeconds ?? 120,
    seed: overrides.seed ?? 42,
  };
}

/** Local training per round at each hospital. */
export const HEART_FEDERATED_TRAINING: TrainingConfig = {
  localSteps: 100,
  batchSize: 4,
  learningRate: 0.01,
  optimizer: 'sgd',
  l2: 0,
  proximalMu: 0,
};

/** FLamby's pooled and local baselines: Adam, lr 0.001, batch 4, 50 epochs. */
export const HEART_BASELINE_TRAINING: TrainingConfig = {
  localSteps: 1,
  batchSize: 4,
  learningRate: 0.001,
  optimizer: 'adam',
  l2: 0,
  proximalMu: 0,
};
export const HEART_BASELINE_EPOCHS = 50;
