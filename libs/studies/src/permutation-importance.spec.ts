import * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import type { ExampleSet } from '@medfed/data';
import { createModel, FederatedModel } from '@medfed/models';

import { initBackend } from '../../models/src/tf-backend.util';
import { FeatureAxisError } from './feature-axis.util';
import { heartDiseaseDataset, heartDiseaseStudy } from './heart-disease.dataset';
import { combineImportance, importanceReport, permutationImportance } from './permutation-importance';
import type { SiteSplits } from './study-definition';

const DATA_DIR = resolve(__dirname, '../../../data/fed-heart-disease');
const NAMES = heartDiseaseDataset.featureNames;
const TABULAR = { inputs: ['x'], names: NAMES };

/** Independent binary cross-entropy (clipped like the evaluation), summed over examples with a label. */
function bceSum(p: ArrayLike<number>, y: ArrayLike<number>): number {
  let total = 0;
  for (let i = 0; i < y.length; i++) {
    if (Number.isNaN(y[i])) continue;
    const q = Math.min(1 - 1e-7, Math.max(1e-7, p[i]));
    total += y[i] === 1 ? -Math.log(q) : -Math.log(1 - q);
  }
  return total;
}

/** A test double that predicts `score(set, i)` per example and keeps a copy of every set it sees. */
function stubModel(score: (set: ExampleSet, i: number) => number): FederatedModel & { seen: ExampleSet[] } {
  const seen: ExampleSet[] = [];
  return {
    seen,
    spec: { family: 'logistic-regression', inputDim: 1 },
    getWeights: () => [],
    setWeights: () => undefined,
    train: async () => ({ numExamples: 0, steps: 0, meanLoss: 0 }),
    async predict(set: ExampleSet) {
      const copy: ExampleSet['inputs'] = {};
      for (const [k, a] of Object.entries(set.inputs)) copy[k] = { shape: [...a.shape], data: Float32Array.from(a.data) };
      seen.push({ n: set.n, inputs: copy, labels: set.labels });
      return Float32Array.from({ length: set.n }, (_, i) => score(set, i));
    },
    dispose: () => undefined,
  };
}

describe('permutationImportance (test doubles)', () => {
  it('permutes feature j of values, mask and delta together, at every time step, and leaves the rest alone', async () => {
    // Arrange: 6 patients × 3 steps × 2 variables; every entry encodes (patient, step, variable, input).
    const n = 6;
    const steps = 3;
    const d = 2;
    const make = (tag: number) => Float32Array.from({ length: n * steps * d }, (_, e) => tag + 100 * Math.floor(e / (steps * d)) + 10 * Math.floor((e % (steps * d)) / d) + (e % d));
    const set: ExampleSet = {
      n,
      inputs: {
        values: { shape: [n, steps, d], data: make(0) },
        mask: { shape: [n, steps, d], data: make(1000) },
        delta: { shape: [n, steps, d], data: make(2000) },
        statics: { shape: [n, 2], data: Float32Array.from({ length: n * 2 }, (_, e) => e) },
      },
      labels: { shape: [n, 1], data: Float32Array.from([1, 0, 1, NaN, 0, 1]) },
    };
    const model = stubModel(() => 0.5);

    // Act
    const result = await permutationImportance(model, set, { inputs: ['values', 'mask', 'delta'], names: ['hr', 'map'] }, 7);

    // Assert: one unpermuted call, then one per feature; constant predictions change no loss.
    expect(model.seen).toHaveLength(1 + d);
    expect(result).toEqual({ lossIncreaseSum: [0, 0], numExamples: n });
    expect(model.seen[0].inputs).toEqual(set.inputs);
    for (let j = 0; j < d; j++) {
      const seen = model.seen[1 + j];
      expect(seen.inputs['statics']).toEqual(set.inputs['statics']);
      // The source patient of row i, read off the encoding of values[i, 0, j].
      const source = Array.from({ length: n }, (_, i) => Math.floor(seen.inputs['values'].data[i * steps * d + j] / 100));
      expect([...source].sort()).toEqual([0, 1, 2, 3, 4, 5]);
      expect(source).not.toEqual([0, 1, 2, 3, 4, 5]);
      ['values', 'mask', 'delta'].forEach((input, tagIndex) => {
        for (let i = 0; i < n; i++) {
          for (let t = 0; t < steps; t++) {
            for (let k = 0; k < d; k++) {
              const from = k === j ? source[i] : i;
              expect(seen.inputs[input].data[(i * steps + t) * d + k]).toBe(1000 * tagIndex + 100 * from + 10 * t + k);
            }
          }
        }
      });
    }
  });

  it('sums the loss increase over examples, skipping missing labels (hand-computed from the permuted inputs)', async () => {
    // Arrange: the probability is feature 0 itself; feature 1 is ignored.
    const set: ExampleSet = {
      n: 4,
      inputs: { x: { shape: [4, 2], data: Float32Array.from([0.9, 5, 0.2, 6, 0.7, 7, 0.4, 8]) } },
      labels: { shape: [4, 1], data: Float32Array.from([1, 0, NaN, 1]) },
    };
    const model = stubModel((s, i) => s.inputs['x'].data[i * 2]);
    const y = set.labels.data;

    // Act
    const result = await permutationImportance(model, set, { inputs: ['x'], names: ['p', 'noise'] }, 3);

    // Assert
    const column = (s: ExampleSet) => Array.from({ length: 4 }, (_, i) => s.inputs['x'].data[i * 2]);
    const base = bceSum([0.9, 0.2, 0.7, 0.4], y);
    expect(result.numExamples).toBe(4);
    expect(result.lossIncreaseSum[0]).toBeCloseTo(bceSum(column(model.seen[1]), y) - base, 5);
    expect(result.lossIncreaseSum[1]).toBe(0);
  });

  it('averages independent permutations when repeats > 1', async () => {
    const set: ExampleSet = {
      n: 5,
      inputs: { x: { shape: [5, 1], data: Float32Array.from([0.9, 0.1, 0.8, 0.3, 0.6]) } },
      labels: { shape: [5, 1], data: Float32Array.from([1, 0, 1, 0, 1]) },
    };
    const model = stubModel((s, i) => s.inputs['x'].data[i]);

    const result = await permutationImportance(model, set, { inputs: ['x'], names: ['p'] }, 11, { repeats: 3 });

    const base = bceSum(set.inputs['x'].data, set.labels.data);
    const increases = model.seen.slice(1).map((s) => bceSum(s.inputs['x'].data, set.labels.data) - base);
    expect(increases).toHaveLength(3);
    expect(result.lossIncreaseSum[0]).toBeCloseTo((increases[0] + increases[1] + increases[2]) / 3, 5);
  });

  it('refuses a feature axis that does not fit, naming the input', async () => {
    const set: ExampleSet = { n: 2, inputs: { x: { shape: [2, 3], data: new Float32Array(6) } }, labels: { shape: [2, 1], data: new Float32Array(2) } };
    const model = stubModel(() => 0.5);

    await expect(permutationImportance(model, set, { inputs: ['x'], names: ['a', 'b'] }, 1)).rejects.toThrow(FeatureAxisError);
    await expect(permutationImportance(model, set, { inputs: ['x'], names: ['a', 'b'] }, 1)).rejects.toThrow(/'x' has shape \[2, 3\]/);
    await expect(permutationImportance(model, set, { inputs: ['values'], names: ['a', 'b', 'c'] }, 1)).rejects.toThrow(/'values' is not in the set/);
    await expect(permutationImportance(model, set, TABULAR, 1, { repeats: 0 })).rejects.toThrow(RangeError);
  });
});

describe('combineImportance / importanceReport (hand-computed)', () => {
  it('divides the summed increases by the summed counts, skips suppressed sites, sorts descending', () => {
    const sites = [
      { lossIncreaseSum: [2, 10, -1], numExamples: 20 },
      { suppressed: true as const, numExamples: 3 },
      { lossIncreaseSum: [4, 2, 1], numExamples: 40 },
    ];

    const combined = combineImportance(sites, ['a', 'b', 'c']);

    expect(combined.map((f) => f.name)).toEqual(['b', 'a', 'c']);
    expect(combined[0].meanLossIncrease).toBeCloseTo(12 / 60, 12);
    expect(combined[1].meanLossIncrease).toBeCloseTo(6 / 60, 12);
    expect(combined[2].meanLossIncrease).toBe(0);
  });

  it('refuses mismatched lengths and an all-suppressed combination', () => {
    expect(() => combineImportance([{ lossIncreaseSum: [1], numExamples: 5 }], ['a', 'b'])).toThrow(/site 0 has 1 importances for 2 features/);
    expect(() => combineImportance([{ suppressed: true, numExamples: 2 }], ['a'])).toThrow(RangeError);
  });

  it('sends only the size below the minimum cohort', () => {
    const result = { lossIncreaseSum: [0.5, 0.1], numExamples: 9 };

    expect(importanceReport(result, 10)).toEqual({ suppressed: true, numExamples: 9 });
    expect(importanceReport(result, 9)).toEqual({ suppressed: false, lossIncreaseSum: [0.5, 0.1], numExamples: 9 });
  });
});

describe('permutationImportance on Fed-Heart-Disease (Cleveland, trained logistic regression)', () => {
  let splits: SiteSplits;
  let model: FederatedModel;
  let before: number;

  beforeAll(async () => {
    await initBackend('wasm');
    splits = heartDiseaseDataset.load({ path: DATA_DIR, site: 'cleveland' }).prepare(null);
    before = tf.memory().numTensors;
    const spec = heartDiseaseStudy.spec('fast');
    model = createModel(spec.model, 1);
    for (let round = 1; round <= 3; round++) await model.train(splits.train, spec.training, round);
  }, 60_000);

  afterAll(async () => {
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await initBackend('cpu');
  });

  it('gives a zero-weight feature zero importance and the largest-|weight| feature a clearly positive one', async () => {
    // Arrange: zero the smallest-|w| feature's weight; remember the largest.
    const [kernel, bias] = model.getWeights();
    const w = Array.from(kernel.data);
    const byMagnitude = w.map((v, j) => j).sort((a, b) => Math.abs(w[b]) - Math.abs(w[a]));
    const largest = byMagnitude[0];
    const zeroed = byMagnitude[w.length - 1];
    const edited = Float32Array.from(w);
    edited[zeroed] = 0;
    model.setWeights([{ shape: kernel.shape, data: edited }, bias]);
    const tensors = tf.memory().numTensors;

    // Act
    const result = await permutationImportance(model, splits.test, TABULAR, 42);

    // Assert
    expect(result.numExamples).toBe(splits.test.n);
    expect(Math.abs(result.lossIncreaseSum[zeroed] / result.numExamples)).toBeLessThan(1e-6);
    expect(result.lossIncreaseSum[largest] / result.numExamples).toBeGreaterThan(0.02);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('is reproducible from the seed and varies with it', async () => {
    const a = await permutationImportance(model, splits.test, TABULAR, 5);
    const b = await permutationImportance(model, splits.test, TABULAR, 5);
    const c = await permutationImportance(model, splits.test, TABULAR, 6);

    expect(b).toEqual(a);
    expect(c.lossIncreaseSum).not.toEqual(a.lossIncreaseSum);
  });

  it('combines the four hospitals into one ranking led by a feature the model weights heavily', async () => {
    // Arrange: each hospital evaluates its own test split with the same model.
    const perSite = [];
    for (const site of heartDiseaseDataset.sites) {
      const test = heartDiseaseDataset.load({ path: DATA_DIR, site }).prepare(null).test;
      perSite.push(importanceReport(await permutationImportance(model, test, TABULAR, 1), 10));
    }

    // Act
    const ranking = combineImportance(perSite, NAMES);

    // Assert: the top feature is among the model's three largest |weights| (standardised inputs).
    const w = Array.from(model.getWeights()[0].data);
    const top3 = w.map((v, j) => j).sort((a, b) => Math.abs(w[b]) - Math.abs(w[a])).slice(0, 3).map((j) => NAMES[j]);
    expect(ranking).toHaveLength(NAMES.length);
    expect(top3).toContain(ranking[0].name);
    expect(ranking[0].meanLossIncrease).toBeGreaterThan(0);
  });
});
