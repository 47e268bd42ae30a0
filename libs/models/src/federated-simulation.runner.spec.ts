import * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import { loadHeartDisease } from '@medfed/data';
import type { TrainingConfig } from '@medfed/protocol';

import { trainCentralisedBaseline, trainLocalBaseline } from './baselines.runner';
import { runFederatedSimulation, standardizePerCenter } from './federated-simulation.runner';
import { HEART_DISEASE_DEFAULT_STUDY } from './heart-disease-study.config';
import { initBackend } from './tf-backend.util';

const DATA_DIR = resolve(__dirname, '../../../data/fed-heart-disease');
/** FLamby's pooled/local recipe: Adam lr 1e-3, batch 4. */
const FLAMBY_ADAM: TrainingConfig = { localSteps: 1, batchSize: 4, learningRate: 1e-3, optimizer: 'adam', l2: 0, proximalMu: 0 };

describe('federated simulation and baselines on Fed-Heart-Disease', () => {
  const centers = loadHeartDisease(DATA_DIR);
  let tensorsBefore: number;

  beforeAll(async () => {
    await initBackend('cpu');
  });

  beforeEach(() => {
    tensorsBefore = tf.memory().numTensors;
  });

  afterEach(() => {
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('standardises each site on its own training split only', () => {
    const [cleveland] = standardizePerCenter(centers);
    // age column of Cleveland's train split: mean 0 and unbiased std 1 after z-scoring
    const ages = Array.from({ length: cleveland.train.n }, (_, i) => cleveland.train.x[i * 13]);
    const mean = ages.reduce((a, b) => a + b, 0) / ages.length;
    const sd = Math.sqrt(ages.reduce((a, b) => a + (b - mean) ** 2, 0) / (ages.length - 1));
    expect(mean).toBeCloseTo(0, 5);
    expect(sd).toBeCloseTo(1, 5);
  });

  it('improves on the initial global model within 3 FedAvg rounds', () => {
    // Act
    const result = runFederatedSimulation(centers, {
      training: { localSteps: 50, batchSize: 4, learningRate: 0.01, optimizer: 'sgd', l2: 0, proximalMu: 0 },
      rounds: 3,
      seed: 42,
      evaluateEveryRound: true,
    });

    // Assert
    expect(result.rounds).toHaveLength(3);
    expect(result.final.pooled).toBeGreaterThan(result.initial.pooled + 0.05);
    expect(result.final.meanPerCenter).toBeGreaterThan(result.initial.meanPerCenter);
    expect(result.final.pooled).toBe(result.rounds[2].report?.pooled);
    expect(result.final.perCenter.map((c) => c.numExamples)).toEqual([104, 89, 16, 45]);
    expect(result.rounds[2].meanTrainLoss).toBeLessThan(result.rounds[0].meanTrainLoss);
    expect(result.final.pooledFlamby).toBeGreaterThan(result.initial.pooledFlamby ?? 1);
  });

  it('default study reaches the demo target: ≥ 0.70 mean per-site and ≥ 0.75 pooled', () => {
    const { model, training, rounds } = HEART_DISEASE_DEFAULT_STUDY;
    const { final } = runFederatedSimulation(centers, { spec: model, training, rounds, seed: 44 });
    expect(final.meanPerCenter).toBeGreaterThanOrEqual(0.7);
    expect(final.pooled).toBeGreaterThanOrEqual(0.75);
    expect(final.pooledFlamby).toBeGreaterThanOrEqual(0.75);
  });

  it('is reproducible for a seed', () => {
    const options = {
      training: { localSteps: 10, batchSize: 4, learningRate: 0.01, optimizer: 'sgd' as const, l2: 0, proximalMu: 0 },
      rounds: 2,
      seed: 7,
    };
    expect(runFederatedSimulation(centers, options).finalWeights).toEqual(runFederatedSimulation(centers, options).finalWeights);
  });

  describe('strategies', () => {
    const SGD: TrainingConfig = { localSteps: 20, batchSize: 4, learningRate: 0.01, optimizer: 'sgd', l2: 0, proximalMu: 0 };

    it('defaults to FedAvg, and FedProx with μ = 0 is FedAvg', () => {
      const base = { training: SGD, rounds: 2, seed: 3 };
      const plain = runFederatedSimulation(centers, base).finalWeights;
      expect(runFederatedSimulation(centers, { ...base, strategy: 'fedavg' }).finalWeights).toEqual(plain);
      expect(runFederatedSimulation(centers, { ...base, strategy: 'fedprox' }).finalWeights).toEqual(plain);
      expect(runFederatedSimulation(centers, { ...base, strategy: 'fedprox', training: { ...SGD, proximalMu: 0.5 } }).finalWeights).not.toEqual(plain);
    });

    it('SCAFFOLD (η_g = 1) equals FedAvg in round 1, where every c and c_i is 0, and departs from it in round 2', () => {
      const one = { training: SGD, rounds: 1, seed: 5 };
      expect(runFederatedSimulation(centers, { ...one, strategy: 'scaffold' }).finalWeights).toEqual(runFederatedSimulation(centers, one).finalWeights);
      const two = { ...one, rounds: 2 };
      expect(runFederatedSimulation(centers, { ...two, strategy: 'scaffold' }).finalWeights).not.toEqual(runFederatedSimulation(centers, two).finalWeights);
    });

    it('rejects SCAFFOLD with Adam at the sites and a bad strategy config', () => {
      expect(() => runFederatedSimulation(centers, { training: { ...SGD, optimizer: 'adam' }, rounds: 1, seed: 1, strategy: 'scaffold' })).toThrow(
        /scaffold needs optimizer 'sgd'/,
      );
      expect(() => runFederatedSimulation(centers, { training: SGD, rounds: 1, seed: 1, strategy: 'trimmed-mean', strategyConfig: { trimFraction: 0.6 } })).toThrow(
        RangeError,
      );
    });

    it.each([
      ['fedadam', { serverLearningRate: 0.01, beta1: 0.9, beta2: 0.999, tau: 1e-8 }],
      ['fedyogi', { serverLearningRate: 0.01, beta1: 0.9, beta2: 0.999, tau: 1e-8 }],
      ['fedadagrad', { serverLearningRate: 0.316228, beta1: 0.9, beta2: 0.999, tau: 1e-8 }],
      ['scaffold', {}],
      ['median', {}],
      ['trimmed-mean', { trimFraction: 0.25 }],
      ['krum', {}],
    ] as const)('%s improves on the initial model within 5 rounds and is reproducible', (strategy, strategyConfig) => {
      const options = { training: SGD, rounds: 5, seed: 42, strategy, strategyConfig };
      const result = runFederatedSimulation(centers, options);
      expect(result.final.pooled).toBeGreaterThan(result.initial.pooled + 0.05);
      expect(runFederatedSimulation(centers, options).finalWeights).toEqual(result.finalWeights);
    });
  });

  it('centralised baseline (FLamby: Adam 1e-3, batch 4, 50 epochs) reaches ≥ 0.75 pooled test accuracy', () => {
    const report = trainCentralisedBaseline(centers, { training: FLAMBY_ADAM, epochs: 50, seed: 42 });
    expect(report.pooled).toBeGreaterThanOrEqual(0.75);
    expect(report.pooledFlamby).toBe(report.pooled);
    expect(report.perCenter.map((c) => c.center)).toEqual(['cleveland', 'hungarian', 'switzerland', 'va']);
    // FLamby's per-site figures standardise test rows per site: same rows, another scaling.
    expect(report.siteStandardised.perCenter.map((c) => c.numExamples)).toEqual([104, 89, 16, 45]);
    expect(report.siteStandardised.meanPerCenter).not.toBe(report.meanPerCenter);
  });

  it('local baseline trains one model per site and scores each on its own and the pooled test set', () => {
    const report = trainLocalBaseline(centers, { training: FLAMBY_ADAM, epochs: 5, seed: 42 });
    expect(report.perCenter).toHaveLength(4);
    expect(report.pooledPerModel).toHaveLength(4);
    expect(report.pooled).toBeCloseTo(report.pooledPerModel.reduce((a, b) => a + b, 0) / 4, 12);
    // Model i on its own site's test split is the same figure in perModel[i] and perCenter[i].
    report.perModel.forEach((m, i) => expect(m.perCenter[i].accuracy).toBe(report.perCenter[i].accuracy));
    expect(report.perModel.map((m) => m.pooled)).toEqual(report.pooledPerModel);
    // Switzerland's training split has 30 positives and no negative: its model can only learn "positive".
    expect(report.pooledPerModel[2]).toBeLessThan(0.6);
    expect(() => trainLocalBaseline(centers, { training: FLAMBY_ADAM, seed: 1 })).toThrow(/epochs/);
  });
});
