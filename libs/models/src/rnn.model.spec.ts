import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import type { ModelSpec, TrainingConfig } from '@medfed/protocol';
import { holdOut, IcuSequences, loadPhysionet2012, PHYSIONET_STEPS } from '@medfed/data';
import type { ExampleSet } from '@medfed/data';

import { registerWasmSliceKernels, RnnClassifier, rnnArchitecture, rnnFamily } from './rnn.model';
import { createRng } from './seeded-rng.util';
import { initBackend } from './tf-backend.util';
import { registerWasmTrainingKernels } from './wasm-kernels.util';
import type { WeightTensor } from './weights.util';
import { pairwiseAuc } from './testing';

const DATA_DIR = join(__dirname, '..', '..', '..', 'data', 'physionet-2012');

const tinySpec = (architecture: ModelSpec['architecture']): ModelSpec => ({ family: 'rnn', inputDim: 3 * 2, inputShape: [3, 2], outputs: 1, architecture });
const ADAM: TrainingConfig = { localSteps: 2, batchSize: 4, learningRate: 1e-3, optimizer: 'adam', l2: 0, proximalMu: 0 };

/** A random example set of `n` sequences of T steps × F variables, ~half the cells observed, with S statics. */
function randomSet(n: number, T: number, F: number, S: number, seed: number): ExampleSet {
  const rng = createRng(seed);
  const mask = Float32Array.from({ length: n * T * F }, () => (rng() < 0.5 ? 1 : 0));
  const values = mask.map((m) => (m === 1 ? rng() * 4 - 2 : 0));
  const delta = new Float32Array(n * T * F);
  for (let i = 0; i < n; i++) {
    for (let t = 1; t < T; t++) {
      for (let f = 0; f < F; f++) {
        const prev = (i * T + t - 1) * F + f;
        delta[prev + F] = 0.25 + (mask[prev] === 1 ? 0 : delta[prev]);
      }
    }
  }
  return {
    n,
    inputs: {
      values: { shape: [n, T, F], data: values },
      mask: { shape: [n, T, F], data: mask },
      delta: { shape: [n, T, F], data: delta },
      ...(S > 0 ? { statics: { shape: [n, S], data: Float32Array.from({ length: n * S }, () => rng()) } } : {}),
    },
    labels: { shape: [n, 1], data: Float32Array.from({ length: n }, (_, i) => i % 2) },
  };
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * GRU-D / LSTM-D forward pass written out from the equations (Che et al. 2018, eqs. 3–4; PyTorch's GRU and LSTM cells)
 * with plain loops, one example at a time: the independent reference for the tf implementation.
 */
function referenceProbabilities(set: ExampleSet, weights: WeightTensor[], cell: 'gru' | 'lstm', H: number, S: number): number[] {
  const [, T, F] = set.inputs.values.shape;
  const [wx, bx, Wh, bh, Win, bIn, U, ...rest] = weights.map((w) => w.data);
  const bn = cell === 'gru' ? rest[0] : undefined;
  const [Wout, bout] = cell === 'gru' ? rest.slice(1) : rest;
  const G = cell === 'gru' ? 3 : 4;
  const out: number[] = [];
  for (let i = 0; i < set.n; i++) {
    let h = new Array<number>(H).fill(0);
    let c = new Array<number>(H).fill(0);
    const last = new Array<number>(F).fill(0);
    for (let t = 0; t < T; t++) {
      const at = (name: 'values' | 'mask' | 'delta', f: number) => set.inputs[name].data[(i * T + t) * F + f];
      const input: number[] = [];
      for (let f = 0; f < F; f++) {
        const gamma = Math.exp(-Math.max(0, wx[f] * at('delta', f) + bx[f]));
        if (at('mask', f) === 1) last[f] = at('values', f);
        input.push(at('mask', f) === 1 ? at('values', f) : gamma * last[f]);
      }
      for (let f = 0; f < F; f++) input.push(at('mask', f));
      for (let j = 0; j < H; j++) {
        let s = bh[j];
        for (let f = 0; f < F; f++) s += at('delta', f) * Wh[f * H + j];
        h[j] *= Math.exp(-Math.max(0, s));
      }
      const a = Array.from({ length: G * H }, (_, k) => input.reduce((s, v, q) => s + v * Win[q * G * H + k], bIn[k]));
      const hu = Array.from({ length: G * H }, (_, k) => h.reduce((s, v, q) => s + v * U[q * G * H + k], 0));
      if (cell === 'gru') {
        h = h.map((hj, j) => {
          const z = sigmoid(a[j] + hu[j]);
          const r = sigmoid(a[H + j] + hu[H + j]);
          const n = Math.tanh(a[2 * H + j] + r * (hu[2 * H + j] + (bn as Float32Array)[j]));
          return (1 - z) * n + z * hj;
        });
      } else {
        const g = (k: number) => a[k] + hu[k];
        c = c.map((cj, j) => sigmoid(g(H + j)) * cj + sigmoid(g(j)) * Math.tanh(g(3 * H + j)));
        h = h.map((_, j) => sigmoid(g(2 * H + j)) * Math.tanh(c[j]));
      }
    }
    const joined = [...h, ...Array.from(set.inputs.statics?.data.subarray(i * S, (i + 1) * S) ?? [])];
    out.push(sigmoid(joined.reduce((s, v, q) => s + v * Wout[q], bout[0])));
  }
  return out;
}

function maxAbsDifference(a: readonly WeightTensor[], b: readonly WeightTensor[]): number {
  let d = 0;
  a.forEach((w, l) => w.data.forEach((v, i) => (d = Math.max(d, Math.abs(v - b[l].data[i])))));
  return d;
}

/** Set A as the rnn's inputs: observed values z-scored with `stats` (clipped to ±5), deltas in 48-hour units, statics /100. */
function icuExamples(seqs: IcuSequences, stats: { mean: number[]; std: number[] }): ExampleSet {
  const F = seqs.features.length;
  const S = seqs.staticNames.length;
  const values = seqs.values.map((v, k) => (seqs.mask[k] === 1 ? Math.max(-5, Math.min(5, (v - stats.mean[k % F]) / stats.std[k % F])) : 0));
  const shape = [seqs.n, seqs.steps, F];
  return {
    n: seqs.n,
    inputs: {
      values: { shape, data: values },
      mask: { shape, data: seqs.mask },
      delta: { shape, data: seqs.delta.map((d) => d / PHYSIONET_STEPS) },
      statics: { shape: [seqs.n, S], data: seqs.statics.map((v) => v / 100) },
    },
    labels: { shape: [seqs.n, 1], data: seqs.y },
  };
}

beforeAll(async () => {
  await initBackend('wasm');
  registerWasmTrainingKernels();
});

describe('registerWasmSliceKernels', () => {
  it('slices and splits wasm tensors like plain index arithmetic, for whole, partial and strided windows', () => {
    // Arrange: x[i][j][k] = 100i + 10j + k, shape [3, 4, 5].
    registerWasmSliceKernels();
    const before = tf.memory().numTensors;
    const value = (i: number, j: number, k: number) => 100 * i + 10 * j + k;
    const x = tf.tensor3d(Float32Array.from({ length: 60 }, (_, q) => value(Math.floor(q / 20), Math.floor(q / 5) % 4, q % 5)), [3, 4, 5]);
    const window = (b: number[], z: number[]) => {
      const out: number[] = [];
      for (let i = b[0]; i < b[0] + z[0]; i++) for (let j = b[1]; j < b[1] + z[1]; j++) for (let k = b[2]; k < b[2] + z[2]; k++) out.push(value(i, j, k));
      return out;
    };

    // Act
    const results = tf.tidy(() => ({
      rows: Array.from(tf.slice(x, [1, 0, 0], [2, 4, 5]).dataSync()),
      middle: Array.from(tf.slice(x, [0, 1, 2], [3, 2, 3]).dataSync()),
      rest: Array.from(tf.slice(x, [2, 3, 1], [-1, -1, -1]).dataSync()),
      split: tf.split(x, [1, 3], 1).map((t) => Array.from(t.dataSync())),
      int: Array.from(tf.slice(tf.tensor1d([5, 6, 7, 8], 'int32'), 1, 2).dataSync()),
    }));

    // Assert
    expect(tf.getBackend()).toBe('wasm');
    expect(results.rows).toEqual(window([1, 0, 0], [2, 4, 5]));
    expect(results.middle).toEqual(window([0, 1, 2], [3, 2, 3]));
    expect(results.rest).toEqual(window([2, 3, 1], [1, 1, 4]));
    expect(results.split).toEqual([window([0, 0, 0], [3, 1, 5]), window([0, 1, 0], [3, 3, 5])]);
    expect(results.int).toEqual([6, 7]);
    x.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('rnnFamily.validate', () => {
  it.each([
    [{ ...tinySpec({}), inputShape: [6] }, /inputShape must be \[steps, features\]/],
    [{ ...tinySpec({}), inputDim: 7 }, /inputDim must be steps × features = 6 for rnn, got 7/],
    [{ ...tinySpec({}), outputs: 2 }, /outputs must be 1 for rnn, got 2/],
    [tinySpec({ cell: 'rnn' }), /architecture\.cell is invalid for rnn: 'rnn'/],
    [tinySpec({ units: 0 }), /architecture\.units is invalid for rnn: 0/],
    [tinySpec({ dropout: 1 }), /architecture\.dropout is invalid for rnn: 1/],
    [tinySpec({ inputDecay: 'yes' }), /architecture\.inputDecay is invalid for rnn: 'yes'/],
    [tinySpec({ statics: 1.5 }), /architecture\.statics is invalid for rnn: 1\.5/],
    [tinySpec({ layers: 2 }), /unknown rnn setting\(s\) layers/],
  ])('refuses %j naming the field', (spec, message) => {
    // Act / Assert
    expect(() => rnnFamily.validate(spec as ModelSpec)).toThrow(RangeError);
    expect(() => rnnFamily.validate(spec as ModelSpec)).toThrow(message);
  });

  it('fills in the documented defaults', () => {
    // Act
    const a = rnnArchitecture(tinySpec(undefined));

    // Assert
    expect(a).toEqual({ cell: 'gru', units: 64, dropout: 0, inputDecay: true, hiddenDecay: true, deltaInput: false, statics: 0 });
  });
});

describe('RnnClassifier weights', () => {
  it('has the documented tensors in wire order: GRU-D with statics has 10, LSTM without decays 5', () => {
    // Arrange
    const gru = RnnClassifier.create(tinySpec({ units: 4, statics: 2 }), 1);
    const lstm = RnnClassifier.create(tinySpec({ cell: 'lstm', units: 4, inputDecay: false, hiddenDecay: false, deltaInput: true }), 1);

    // Act
    const gruShapes = gru.getWeights().map((w) => w.shape);
    const lstmShapes = lstm.getWeights().map((w) => w.shape);

    // Assert: F = 2, H = 4; GRU K = 2F = 4, LSTM K = 3F = 6.
    expect(gruShapes).toEqual([[2], [2], [2, 4], [4], [4, 12], [12], [4, 12], [4], [6, 1], [1]]);
    expect(lstmShapes).toEqual([[6, 16], [16], [4, 16], [4, 1], [1]]);
    expect(Array.from(lstm.getWeights()[1].data.subarray(4, 8))).toEqual([1, 1, 1, 1]);
    gru.dispose();
    lstm.dispose();
  });

  it('is deterministic in the seed and round-trips set/getWeights exactly', () => {
    // Arrange
    const a = RnnClassifier.create(tinySpec({ units: 3 }), 7);
    const b = RnnClassifier.create(tinySpec({ units: 3 }), 7);
    const c = RnnClassifier.create(tinySpec({ units: 3 }), 8);
    const moved = c.getWeights().map((w) => ({ shape: w.shape, data: w.data.map((v) => v + 0.125) }));

    // Act
    a.setWeights(moved);

    // Assert
    expect(maxAbsDifference(b.getWeights(), RnnClassifier.create(tinySpec({ units: 3 }), 7).getWeights())).toBe(0);
    expect(maxAbsDifference(b.getWeights(), c.getWeights())).toBeGreaterThan(0);
    expect(a.getWeights()).toEqual(moved);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('refuses weights of the wrong count or shape, naming the tensor', () => {
    // Arrange
    const model = RnnClassifier.create(tinySpec({ units: 3 }), 1);
    const weights = model.getWeights();

    // Act / Assert
    expect(() => model.setWeights(weights.slice(1))).toThrow(/got 9 tensors, model has 10/);
    expect(() => model.setWeights(weights.map((w, i) => (i === 4 ? { shape: [3, 9], data: new Float32Array(27) } : w)))).toThrow(
      /tensor 4 \(inputKernel\) is \[3,9\] with 27 values, expected \[4,9\]/,
    );
    model.dispose();
  });
});

describe('RnnClassifier forward pass', () => {
  it.each(['gru', 'lstm'] as const)('%s with input and hidden decay matches the equations computed by hand', async (cell) => {
    // Arrange: 5 sequences of 3 steps × 2 variables, 2 units, 1 static; weights moved off their init so all terms act.
    const set = randomSet(5, 3, 2, 1, 11);
    const model = RnnClassifier.create(tinySpec({ cell, units: 2, statics: 1 }), 3);
    const rng = createRng(5);
    const weights = model.getWeights().map((w, i) => ({ shape: w.shape, data: w.data.map((v) => (i === 0 ? 0.5 + rng() : v + rng() - 0.5)) }));
    model.setWeights(weights);
    const before = tf.memory().numTensors;

    // Act
    const p = await model.predict(set);

    // Assert
    const expected = referenceProbabilities(set, weights, cell, 2, 1);
    expect(p).toHaveLength(5);
    expected.forEach((e, i) => expect(Math.abs(p[i] - e)).toBeLessThan(1e-5));
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('refuses an example set without a delta input, naming it', async () => {
    // Arrange
    const set = randomSet(2, 3, 2, 0, 1);
    delete set.inputs.delta;
    const model = RnnClassifier.create(tinySpec({}), 1);

    // Act / Assert
    await expect(model.predict(set)).rejects.toThrow(/has no 'delta' input \(has values, mask\)/);
    await expect(model.train(randomSet(2, 3, 3, 0, 1), ADAM, 1)).rejects.toThrow(/input 'values' is \[2,3,3\], expected \[2,3,2\]/);
    model.dispose();
  });
});

describe('RnnClassifier.train', () => {
  it('adds a SCAFFOLD correction c to every SGD step: the weights move by exactly −lr·c more', async () => {
    // Arrange: one full-batch SGD step from the same weights with and without a constant correction.
    const set = randomSet(4, 3, 2, 0, 2);
    const sgd: TrainingConfig = { ...ADAM, optimizer: 'sgd', learningRate: 0.5, localSteps: 1, batchSize: 4 };
    const plain = RnnClassifier.create(tinySpec({ units: 2 }), 4);
    const corrected = RnnClassifier.create(tinySpec({ units: 2 }), 4);
    const correction = plain.getWeights().map((w) => ({ shape: w.shape, data: w.data.map(() => 0.2) }));

    // Act
    await plain.train(set, sgd, 9);
    await corrected.train(set, sgd, 9, { gradientCorrection: correction });

    // Assert: −0.5 · 0.2 = −0.1 on every coordinate.
    const diffs = corrected.getWeights().flatMap((w, l) => Array.from(w.data, (v, i) => v - plain.getWeights()[l].data[i]));
    diffs.forEach((d) => expect(d).toBeCloseTo(-0.1, 5));
    plain.dispose();
    corrected.dispose();
  });

  it('keeps the weights nearer the start under a FedProx proximal term', async () => {
    // Arrange
    const set = randomSet(16, 3, 2, 0, 3);
    const free = RnnClassifier.create(tinySpec({ units: 4 }), 5);
    const prox = RnnClassifier.create(tinySpec({ units: 4 }), 5);
    const start = free.getWeights();
    const config: TrainingConfig = { ...ADAM, learningRate: 0.05, localSteps: 20 };
    const distance = (m: RnnClassifier) => m.getWeights().reduce((s, w, l) => s + w.data.reduce((t, v, i) => t + (v - start[l].data[i]) ** 2, 0), 0);

    // Act
    await free.train(set, config, 1);
    await prox.train(set, { ...config, proximalMu: 10 }, 1);

    // Assert
    expect(distance(prox)).toBeLessThan(0.8 * distance(free));
    free.dispose();
    prox.dispose();
  });

  it('refuses an invalid config and a misshapen correction', async () => {
    // Arrange
    const model = RnnClassifier.create(tinySpec({}), 1);
    const set = randomSet(2, 3, 2, 0, 1);

    // Act / Assert
    await expect(model.train(set, { ...ADAM, localSteps: 0, learningRate: -1 }, 1)).rejects.toThrow(/invalid training config: localSteps 0, learningRate -1/);
    await expect(model.train(set, ADAM, 1, { gradientCorrection: [] })).rejects.toThrow(/gradientCorrection: got 0 tensors, model has 10/);
    model.dispose();
  });

  it('learns in-hospital death from the real PhysioNet 2012 time series: held-out AUROC above 0.72 after 30 steps', async () => {
    // Arrange: a stratified 25 % hold-out of set A; statistics from the training part's observed values.
    const all = loadPhysionet2012(DATA_DIR);
    const { train, test } = holdOut(all, 0.25, 42);
    const F = all.features.length;
    const count = new Float64Array(F);
    const sum = new Float64Array(F);
    const squares = new Float64Array(F);
    train.mask.forEach((m, k) => {
      if (m !== 1) return;
      count[k % F]++;
      sum[k % F] += train.values[k];
      squares[k % F] += train.values[k] ** 2;
    });
    const mean = Array.from(sum, (s, f) => s / count[f]);
    const std = Array.from(squares, (q, f) => Math.sqrt(Math.max(q / count[f] - mean[f] ** 2, 1e-6)));
    const spec: ModelSpec = {
      family: 'rnn',
      inputDim: 48 * F,
      inputShape: [48, F],
      architecture: { cell: 'gru', units: 32, dropout: 0.3, statics: all.staticNames.length },
    };
    const model = rnnFamily.create(spec, 42);
    const trainSet = icuExamples(train, { mean, std });
    const testSet = icuExamples(test, { mean, std });
    const before = tf.memory().numTensors;

    // Act
    const untrained = pairwiseAuc(await model.predict(testSet), testSet.labels.data);
    const outcome = await model.train(trainSet, { localSteps: 30, batchSize: 64, learningRate: 0.003, optimizer: 'adam', l2: 1e-4, proximalMu: 0 }, 1);
    const p = await model.predict(testSet);

    // Assert: chance is 0.5; the loss starts near ln 2 and a 13.85 % base rate alone gives 0.40 nats.
    const auc = pairwiseAuc(p, testSet.labels.data);
    // round(0.25 × 3,446 survivors) + round(0.25 × 554 deaths) = 862 + 139.
    expect(testSet.n).toBe(1001);
    expect(auc).toBeGreaterThan(0.72);
    expect(auc).toBeGreaterThan(untrained + 0.05);
    expect(outcome.steps).toBe(30);
    expect(outcome.meanLoss).toBeLessThan(0.6);
    expect(p.every((v) => v > 0 && v < 1)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  }, 180_000);
});
