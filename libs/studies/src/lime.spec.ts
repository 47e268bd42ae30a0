import * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import type { ExampleSet } from '@medfed/data';
import { createModel, FederatedModel } from '@medfed/models';

import { initBackend } from '../../models/src/tf-backend.util';
import { FeatureAxisError } from './feature-axis.util';
import { heartDiseaseDataset, heartDiseaseStudy } from './heart-disease.dataset';
import { limeExplanation, limeKernel, weightedRidge } from './lime';
import type { SiteSplits } from './study-definition';

const DATA_DIR = resolve(__dirname, '../../../data/fed-heart-disease');
const NAMES = heartDiseaseDataset.featureNames;
const TABULAR = { inputs: ['x'], names: NAMES };
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** A test double: output 0 = `score(set, i)`, any further output = 1 − score; keeps a copy of every set it sees. */
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
      seen.push({ n: set.n, inputs: copy, labels: { shape: [...set.labels.shape], data: Float32Array.from(set.labels.data) } });
      const outputs = set.labels.shape[1];
      return Float32Array.from({ length: set.n * outputs }, (_, e) => (e % outputs === 0 ? score(set, Math.floor(e / outputs)) : 1 - score(set, Math.floor(e / outputs))));
    },
    dispose: () => undefined,
  };
}

describe('weightedRidge (hand-computed)', () => {
  it('recovers an exact line without penalty', () => {
    const fit = weightedRidge([0, 1, 0, 1], [1, 3, 1, 3], [1, 1, 1, 1], 4, 1, 0);

    expect(fit.coefficients[0]).toBeCloseTo(2, 12);
    expect(fit.intercept).toBeCloseTo(1, 12);
    expect(fit.r2).toBeCloseTo(1, 12);
  });

  it('weights the samples: slope = weighted mean of y at x=1 minus y at x=0', () => {
    // x = 1 rows have y 1 (weight 3) and 3 (weight 1): weighted mean 1.5.
    const fit = weightedRidge([0, 1, 1], [0, 1, 3], [1, 3, 1], 3, 1, 0);

    expect(fit.coefficients[0]).toBeCloseTo(1.5, 12);
    expect(fit.intercept).toBeCloseTo(0, 12);
  });

  it('shrinks the slope but not the intercept: x=[0,1], y=[0,1], α=1 → β=1/3, b=1/3', () => {
    const fit = weightedRidge([0, 1], [0, 1], [1, 1], 2, 1, 1);

    expect(fit.coefficients[0]).toBeCloseTo(1 / 3, 12);
    expect(fit.intercept).toBeCloseTo(1 / 3, 12);
  });
});

describe('limeKernel (hand-computed)', () => {
  it('is 1 for the example itself and √exp(−D²/σ²) on the replaced fraction D', () => {
    expect(limeKernel(8, 8, 0.25)).toBe(1);
    // D = 0.5, σ = 0.25: √exp(−4) = e^−2.
    expect(limeKernel(4, 8, 0.25)).toBeCloseTo(Math.exp(-2), 12);
    // D = 1, σ = 0.5: √exp(−4) = e^−2.
    expect(limeKernel(0, 13, 0.5)).toBeCloseTo(Math.exp(-2), 12);
  });
});

describe('limeExplanation (test doubles)', () => {
  // 4 patients × 2 steps × 3 variables; patient p's entries are 10·p + variable (+ 100 for the mask), never equal across patients.
  const n = 4;
  const steps = 2;
  const d = 3;
  const entry = (p: number, k: number) => 10 * p + k;
  const sequences: ExampleSet = {
    n,
    inputs: {
      values: { shape: [n, steps, d], data: Float32Array.from({ length: n * steps * d }, (_, e) => entry(Math.floor(e / (steps * d)), e % d)) },
      mask: { shape: [n, steps, d], data: Float32Array.from({ length: n * steps * d }, (_, e) => 100 + entry(Math.floor(e / (steps * d)), e % d)) },
      statics: { shape: [n, 2], data: Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]) },
    },
    labels: { shape: [n, 2], data: Float32Array.from([1, 0, 0, 1, 1, 1, 0, 0]) },
  };
  const axis = { inputs: ['values', 'mask'], names: ['hr', 'map', 'temp'] };
  /** 1 when variable k of row i still holds patient `index`'s values (in both inputs, at every step). */
  const kept = (set: ExampleSet, i: number, k: number, index: number) => {
    for (let t = 0; t < steps; t++) {
      const at = (i * steps + t) * d + k;
      if (set.inputs['values'].data[at] !== entry(index, k) || set.inputs['mask'].data[at] !== 100 + entry(index, k)) return 0;
    }
    return 1;
  };

  it('recovers an exactly linear model of the kept features: P = 0.2 + 0.3·z_hr + 0.1·z_temp (α = 0, R² = 1)', async () => {
    // Arrange: the model looks only at whether each variable is the patient's own.
    const index = 2;
    const model = stubModel((set, i) => 0.2 + 0.3 * kept(set, i, 0, index) + 0.1 * kept(set, i, 2, index));

    // Act
    const explanation = await limeExplanation(model, sequences, index, axis, { samples: 300, alpha: 0, seed: 9 });

    // Assert
    expect(explanation.weights.map((w) => w.name)).toEqual(['hr', 'temp', 'map']);
    expect(explanation.weights[0].weight).toBeCloseTo(0.3, 5);
    expect(explanation.weights[1].weight).toBeCloseTo(0.1, 5);
    expect(explanation.weights[2].weight).toBeCloseTo(0, 5);
    expect(explanation.intercept).toBeCloseTo(0.2, 5);
    expect(explanation.localR2).toBeCloseTo(1, 6);
    // Both outputs of the example are reported; only output 0 is explained.
    expect(explanation.prediction).toHaveLength(2);
    expect(explanation.prediction[0]).toBeCloseTo(0.6, 6);
    expect(explanation.prediction[1]).toBeCloseTo(0.4, 6);
  });

  it('replaces a feature at every step from one other patient of the set, keeps the example otherwise', async () => {
    const index = 1;
    const model = stubModel(() => 0.5);

    await limeExplanation(model, sequences, index, axis, { samples: 600, seed: 4 });

    // Assert: 600 samples in chunks; the first row is the patient; every replaced variable comes from one donor ≠ patient.
    const rows = model.seen.flatMap((set) => Array.from({ length: set.n }, (_, i) => ({ set, i })));
    expect(rows).toHaveLength(600);
    expect(model.seen.map((s) => s.n)).toEqual([256, 256, 88]);
    const donorsUsed = new Set<number>();
    let replaced = 0;
    rows.forEach(({ set, i }, r) => {
      expect(Array.from(set.inputs['statics'].data.subarray(i * 2, i * 2 + 2))).toEqual([3, 4]);
      expect(Number.isNaN(set.labels.data[i * 2]) && Number.isNaN(set.labels.data[i * 2 + 1])).toBe(true);
      const donors = new Set<number>();
      for (let k = 0; k < d; k++) {
        if (kept(set, i, k, index)) continue;
        replaced++;
        const donor = Math.round((set.inputs['values'].data[i * steps * d + k] - k) / 10);
        expect(kept(set, i, k, donor)).toBe(1);
        donors.add(donor);
      }
      if (r === 0) expect(donors.size).toBe(0);
      else expect(donors.size).toBe(1);
      donors.forEach((p) => donorsUsed.add(p));
    });
    expect([...donorsUsed].sort()).toEqual([0, 2, 3]);
    // Removed counts uniform on 1..3: on average 2 of 3 variables replaced.
    expect(replaced / 599).toBeGreaterThan(1.8);
    expect(replaced / 599).toBeLessThan(2.2);
  });

  it('refuses a bad index, a single-example set, too few samples and a misfitting axis', async () => {
    const model = stubModel(() => 0.5);
    const one: ExampleSet = { n: 1, inputs: { x: { shape: [1, 3], data: new Float32Array(3) } }, labels: { shape: [1, 1], data: new Float32Array(1) } };

    await expect(limeExplanation(model, sequences, 4, axis, { seed: 1 })).rejects.toThrow(/index 4 is outside \[0, 4\)/);
    await expect(limeExplanation(model, one, 0, { inputs: ['x'], names: ['a', 'b', 'c'] }, { seed: 1 })).rejects.toThrow(/at least 2 examples/);
    await expect(limeExplanation(model, sequences, 0, axis, { seed: 1, samples: 1 })).rejects.toThrow(RangeError);
    await expect(limeExplanation(model, sequences, 0, { inputs: ['statics'], names: ['a', 'b', 'c'] }, { seed: 1 })).rejects.toThrow(FeatureAxisError);
  });
});

describe('limeExplanation on Fed-Heart-Disease (Cleveland, logistic regression)', () => {
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

  /** Feature j of example i of the test split. */
  const value = (i: number, j: number) => splits.test.inputs['x'].data[i * NAMES.length + j];

  it('puts almost all weight on the only feature the model uses, of size σ(b + w·x) − mean over donors σ(b + w·x_donor)', async () => {
    // Hand derivation: P(z) depends on z_thalach only, so E[P | z] = σ(b + w·x) when kept and the donors' mean when replaced.
    // Arrange: a logistic regression that uses only thalach (weight −2).
    const [kernel, bias] = model.getWeights();
    const original = model.getWeights();
    const k = NAMES.indexOf('thalach');
    const only = new Float32Array(NAMES.length);
    only[k] = -2;
    model.setWeights([{ shape: kernel.shape, data: only }, bias]);
    const index = 3;
    const b = bias.data[0];
    const others = Array.from({ length: splits.test.n }, (_, i) => i).filter((i) => i !== index);
    const expected = sigmoid(b - 2 * value(index, k)) - others.reduce((t, i) => t + sigmoid(b - 2 * value(i, k)), 0) / others.length;

    // Act
    const explanation = await limeExplanation(model, splits.test, index, TABULAR, { seed: 3 });
    model.setWeights(original);

    // Assert
    // Any other feature's weight is sampling noise of the donors (≈ 0.02–0.03 at 1000 samples).
    expect(explanation.weights[0].name).toBe('thalach');
    expect(Math.abs(explanation.weights[0].weight)).toBeGreaterThan(5 * Math.abs(explanation.weights[1].weight));
    expect(Math.abs(expected)).toBeGreaterThan(0.1);
    expect(Math.abs(explanation.weights[0].weight - expected)).toBeLessThan(0.2 * Math.abs(expected));
    expect(explanation.prediction[0]).toBeCloseTo(sigmoid(b - 2 * value(index, k)), 5);
  });

  it('gives each of the top features the sign of w_j · (x_j − mean background x_j) on the trained model', async () => {
    // Arrange
    const w = Array.from(model.getWeights()[0].data);
    const mismatches: string[] = [];
    const tensors = tf.memory().numTensors;

    for (const index of [0, 1, 2, 3, 4, 5]) {
      // Hand-derived: replacing feature j by a donor's value moves the logit by w_j (x_donor,j − x_j) on average.
      const effect = w.map((wj, j) => {
        let mean = 0;
        for (let i = 0; i < splits.test.n; i++) if (i !== index) mean += value(i, j) / (splits.test.n - 1);
        return wj * (value(index, j) - mean);
      });
      const top = effect.map((e, j) => j).sort((a, b) => Math.abs(effect[b]) - Math.abs(effect[a])).slice(0, 3);

      // Act
      const explanation = await limeExplanation(model, splits.test, index, TABULAR, { seed: 100 + index });

      // Assert (collected)
      for (const j of top) {
        const weight = explanation.weights.find((x) => x.name === NAMES[j])?.weight ?? 0;
        if (Math.sign(weight) !== Math.sign(effect[j])) mismatches.push(`example ${index} ${NAMES[j]}: ${weight} vs ${effect[j]}`);
      }
    }
    expect(mismatches).toEqual([]);
    expect(tf.memory().numTensors).toBe(tensors);
  });

  it('is reproducible from the seed and varies with it', async () => {
    const a = await limeExplanation(model, splits.test, 7, TABULAR, { seed: 5, samples: 400 });
    const b = await limeExplanation(model, splits.test, 7, TABULAR, { seed: 5, samples: 400 });
    const c = await limeExplanation(model, splits.test, 7, TABULAR, { seed: 6, samples: 400 });

    expect(b).toEqual(a);
    expect(c.intercept).not.toBe(a.intercept);
  });
});
