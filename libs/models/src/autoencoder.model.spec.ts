import * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import type { ModelSpec, TrainingConfig } from '@medfed/protocol';
import type { ExampleSet } from '@medfed/data';

import { DIABETES_FEATURES, DIABETES_NUMERIC_FEATURES, loadDiabetes130, splitDiabetesSite } from '@medfed/data';
import { AutoencoderModel, autoencoderArchitecture, autoencoderFamily } from './autoencoder.model';
import { initBackend } from './tf-backend.util';

const D = DIABETES_FEATURES.length;
const K = DIABETES_NUMERIC_FEATURES.length;
const M = 23;
const SPEC: ModelSpec = { family: 'autoencoder', inputDim: D, outputs: M, architecture: { hidden: 32, latent: 16, inputNoise: 0.1, reconstructionWeight: 0.1 } };
const ADAM: TrainingConfig = { localSteps: 150, batchSize: 64, learningRate: 0.003, optimizer: 'adam', l2: 0, proximalMu: 0 };
const INSULIN = 17;
const METFORMIN = 0;

/** ROC-AUC by the Mann–Whitney U statistic, ties counted one half (independent of the model code). */
function auc(scores: number[], labels: number[]): number {
  let pairs = 0;
  let wins = 0;
  const pos = scores.filter((_, i) => labels[i] === 1);
  const neg = scores.filter((_, i) => labels[i] === 0);
  for (const p of pos) for (const q of neg) {
    pairs++;
    wins += p > q ? 1 : p === q ? 0.5 : 0;
  }
  return wins / pairs;
}

/** The real referral site's splits, numeric columns z-scored with the training split's own statistics. */
function realSplits(): { train: ExampleSet; test: ExampleSet } {
  const { encounters } = loadDiabetes130(resolve(__dirname, '../../../data/diabetes-130'));
  const { train, test } = splitDiabetesSite(encounters, 'referral', 42);
  const mean = new Array<number>(K).fill(0);
  const sd = new Array<number>(K).fill(0);
  for (let i = 0; i < train.n; i++) for (let k = 0; k < K; k++) mean[k] += train.x[i * D + k] / train.n;
  for (let i = 0; i < train.n; i++) for (let k = 0; k < K; k++) sd[k] += (train.x[i * D + k] - mean[k]) ** 2 / train.n;
  const toSet = (e: typeof train, rows: number): ExampleSet => {
    const x = Float32Array.from(e.x.subarray(0, rows * D));
    for (let i = 0; i < rows; i++) for (let k = 0; k < K; k++) x[i * D + k] = (x[i * D + k] - mean[k]) / Math.sqrt(sd[k]);
    return { n: rows, inputs: { x: { shape: [rows, D], data: x } }, labels: { shape: [rows, M], data: e.regimen.slice(0, rows * M) } };
  };
  return { train: toSet(train, train.n), test: toSet(test, 1500) };
}

/** A small random set for arithmetic checks only. */
function randomSet(n: number, labelValue?: number): ExampleSet {
  let s = 1;
  const r = () => ((s = (s * 16807) % 2147483647) / 2147483647);
  return {
    n,
    inputs: { x: { shape: [n, D], data: Float32Array.from({ length: n * D }, () => r() * 2 - 1) } },
    labels: { shape: [n, M], data: Float32Array.from({ length: n * M }, () => labelValue ?? (r() < 0.3 ? 1 : 0)) },
  };
}

beforeAll(async () => {
  await initBackend('wasm');
});

describe('autoencoderFamily.validate', () => {
  it.each([
    [{ hidden: 0 }, 'architecture.hidden'],
    [{ latent: 2.5 }, 'architecture.latent'],
    [{ inputNoise: 1 }, 'architecture.inputNoise'],
    [{ reconstructionWeight: -1 }, 'architecture.reconstructionWeight'],
    [{ hidden: '64' }, 'architecture.hidden'],
    [{ widths: 3 }, 'widths'],
  ])('refuses %j naming %s', (architecture, field) => {
    expect(() => autoencoderFamily.validate({ ...SPEC, architecture })).toThrow(RangeError);
    expect(() => autoencoderFamily.validate({ ...SPEC, architecture })).toThrow(field);
  });

  it('refuses another family and fills defaults', () => {
    expect(() => autoencoderFamily.validate({ ...SPEC, family: 'mlp' })).toThrow("family must be 'autoencoder'");
    expect(autoencoderArchitecture({ family: 'autoencoder', inputDim: 3 })).toEqual({ hidden: 64, latent: 16, inputNoise: 0.1, reconstructionWeight: 0.1 });
  });
});

describe('AutoencoderModel weights', () => {
  it('has the documented order and shapes, seeded, and round-trips exactly', () => {
    // Arrange
    const before = tf.memory().numTensors;
    const a = autoencoderFamily.create(SPEC, 7);
    const b = autoencoderFamily.create(SPEC, 7);
    const c = autoencoderFamily.create(SPEC, 8);
    const again = autoencoderFamily.create(SPEC, 7);

    // Act
    const weights = a.getWeights();
    const shifted = weights.map((w) => ({ shape: w.shape, data: w.data.map((v) => v + 0.25) }));
    b.setWeights(shifted);

    // Assert
    expect(weights.map((w) => w.shape)).toEqual([[D, 32], [32], [32, 16], [16], [16, D], [D], [16, M], [M]]);
    expect(again.getWeights().map((w) => Array.from(w.data))).toEqual(weights.map((w) => Array.from(w.data)));
    expect(c.getWeights()[0].data).not.toEqual(weights[0].data);
    expect(b.getWeights().map((w) => Array.from(w.data))).toEqual(shifted.map((w) => Array.from(w.data)));
    // torch.nn.Linear's bound 1/√fan_in
    expect(Math.max(...weights[0].data.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(D));
    expect(() => a.setWeights(weights.slice(1))).toThrow(RangeError);
    [a, b, c, again].forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('AutoencoderModel training', () => {
  let data: { train: ExampleSet; test: ExampleSet };

  beforeAll(() => {
    data = realSplits();
  });

  it('learns insulin and metformin from real referral-site patients far above chance (AUC 0.5)', async () => {
    // Arrange
    const before = tf.memory().numTensors;
    const model = AutoencoderModel.create(SPEC, 1);
    const yOf = (m: number) => Array.from({ length: data.test.n }, (_, i) => data.test.labels.data[i * M + m]);

    // Act
    const untrained = await model.predict(data.test);
    const first = await model.train(data.train, ADAM, 1);
    const second = await model.train(data.train, ADAM, 2);
    const p = await model.predict(data.test);
    model.dispose();

    // Assert
    const scoresOf = (probs: Float32Array, m: number) => Array.from({ length: data.test.n }, (_, i) => probs[i * M + m]);
    expect(p.length).toBe(data.test.n * M);
    expect(second.meanLoss).toBeLessThan(first.meanLoss);
    expect(second).toMatchObject({ numExamples: data.train.n, steps: 150 });
    expect(auc(scoresOf(p, INSULIN), yOf(INSULIN))).toBeGreaterThan(0.65);
    expect(auc(scoresOf(p, METFORMIN), yOf(METFORMIN))).toBeGreaterThan(0.6);
    // The untrained model's insulin probabilities are near 0.5, trained ones near the prevalence (~51 %).
    expect(Math.abs(scoresOf(untrained, INSULIN).reduce((s, v) => s + v, 0) / data.test.n - 0.5)).toBeLessThan(0.2);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('leaves the medication head untouched when every label is missing (NaN) and counts no loss', async () => {
    // Arrange
    const model = AutoencoderModel.create(SPEC, 3);
    const head = model.getWeights().slice(6);

    // Act
    const outcome = await model.train(randomSet(50, Number.NaN), { ...ADAM, localSteps: 5 }, 1);

    // Assert: the encoder moved (reconstruction), the head did not (masked BCE has zero gradient).
    const after = model.getWeights();
    expect(after.slice(6).map((w) => Array.from(w.data))).toEqual(head.map((w) => Array.from(w.data)));
    expect(outcome.meanLoss).toBe(0);
    model.dispose();
  });

  it('keeps weights near the global model under a strong FedProx term', async () => {
    // Arrange
    const sgd: TrainingConfig = { ...ADAM, optimizer: 'sgd', learningRate: 0.05, localSteps: 20 };
    const distance = async (mu: number) => {
      const model = AutoencoderModel.create(SPEC, 4);
      const start = model.getWeights();
      await model.train(randomSet(64), { ...sgd, proximalMu: mu }, 1);
      const end = model.getWeights();
      model.dispose();
      return end.reduce((t, w, l) => t + w.data.reduce((s, v, i) => s + (v - start[l].data[i]) ** 2, 0), 0);
    };

    // Act
    const free = await distance(0);
    const anchored = await distance(10);

    // Assert
    expect(anchored).toBeLessThan(free / 2);
  });

  it('adds the SCAFFOLD correction to the gradient: with no data gradient, SGD moves every weight by −η·c', async () => {
    // Arrange: all labels missing and no reconstruction term, so the data gradient is exactly 0.
    const spec: ModelSpec = { ...SPEC, architecture: { hidden: 8, latent: 4, inputNoise: 0, reconstructionWeight: 0 } };
    const model = AutoencoderModel.create(spec, 6);
    const start = model.getWeights();
    const correction = start.map((w) => ({ shape: w.shape, data: new Float32Array(w.data.length).fill(0.5) }));

    // Act
    await model.train(randomSet(8, Number.NaN), { ...ADAM, optimizer: 'sgd', learningRate: 0.1, localSteps: 1 }, 1, { gradientCorrection: correction });

    // Assert
    model.getWeights().forEach((w, l) => w.data.forEach((v, i) => expect(v).toBeCloseTo(start[l].data[i] - 0.05, 6)));
    model.dispose();
  });

  it('trains reproducibly from the seed (batch order and masking noise)', async () => {
    // Arrange
    const set = randomSet(100);
    const run = async (seed: number) => {
      const model = AutoencoderModel.create(SPEC, 9);
      await model.train(set, { ...ADAM, localSteps: 4, batchSize: 16 }, seed);
      const weights = model.getWeights().map((w) => Array.from(w.data));
      model.dispose();
      return weights;
    };

    // Act
    const [a, b, c] = [await run(1), await run(1), await run(2)];

    // Assert
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
  });

  it('refuses misshapen inputs, labels and corrections', async () => {
    const model = AutoencoderModel.create(SPEC, 5);
    const set = randomSet(4);
    await expect(model.train({ ...set, inputs: {} }, ADAM, 1)).rejects.toThrow("no input 'x'");
    await expect(model.train({ ...set, labels: { shape: [4, 3], data: new Float32Array(12) } }, ADAM, 1)).rejects.toThrow('labels are [4,3]');
    await expect(model.train(set, ADAM, 1, { gradientCorrection: [] })).rejects.toThrow('gradientCorrection');
    await expect(model.train(set, { ...ADAM, localSteps: 0 }, 1)).rejects.toThrow('localSteps 0');
    model.dispose();
  });
});
