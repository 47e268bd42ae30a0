import * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import { StudySpec, TrainTaskBody, studyManifest } from '@medfed/protocol';
import { createModel, initBackend } from '@medfed/models';
import { loadLocalData } from './local-data';
import { LocalTrainer } from './local-trainer';

const DATA_DIR = resolve(__dirname, '../../../data/tox21');

/** A small cgan on Tox21 fingerprints: 2 main rounds, then a 1-round generator phase. */
const spec: StudySpec = {
  name: 'generator phase at the node',
  dataset: 'tox21',
  model: { family: 'cgan', inputDim: 1024, outputs: 12, architecture: { latentDim: 8, classifierHidden: [8], generatorHidden: [8], discriminatorHidden: [8] } },
  training: { localSteps: 3, batchSize: 32, learningRate: 0.001, optimizer: 'adam', l2: 0, proximalMu: 0 },
  strategy: 'fedavg',
  rounds: 2,
  minSites: 1,
  roundTimeoutSeconds: 60,
  seed: 42,
  generatorPhase: { rounds: 1, localSteps: 4, batchSize: 16 },
};
const manifest = studyManifest('s1', spec);

beforeAll(async () => {
  await initBackend('wasm');
});

describe('LocalTrainer in a generator phase', () => {
  it("trains only the generator in the manifest's generator rounds, on the real site's fingerprints", async () => {
    // Arrange
    const before = tf.memory().numTensors;
    const trainer = new LocalTrainer(loadLocalData({ dataset: 'tox21', path: DATA_DIR, center: 'site-1' }), 'site-1');
    const initial = createModel(spec.model, spec.seed);
    const weights = initial.getWeights();
    initial.dispose();
    const task = (round: number, training = spec.training): TrainTaskBody => ({
      studyId: 's1', round, modelVersion: round - 1, dataset: 'tox21', model: spec.model, training, deadlineAt: Date.now() + 60_000, manifest,
    });
    const nonZero = (t: { data: Float32Array }) => t.data.some((v) => v !== 0);

    // Act
    const main = await trainer.train(task(2), weights);
    const phase = await trainer.train(task(3, { ...spec.training, localSteps: 4, batchSize: 16 }), weights);

    // Assert: weights 0–3 are the classifier C, 4–7 the generator G, 8–11 the discriminator D
    expect(main.delta.slice(0, 4).every(nonZero)).toBe(true);
    expect(phase.delta.slice(0, 4).some(nonZero)).toBe(false);
    expect(phase.delta.slice(4, 12).every(nonZero)).toBe(true);
    expect(phase.numExamples).toBe(main.numExamples);
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);
});
