import * as tf from '@tensorflow/tfjs';
import type { TabularSplit } from '@medfed/data';
import type { ModelSpec, TrainingConfig } from '@medfed/protocol';

import { TabularClassifier } from './tabular-classifier.model';
import { initBackend } from './tf-backend.util';

const LR: ModelSpec = { family: 'logistic-regression', inputDim: 3 };
const BASE: TrainingConfig = { localSteps: 1, batchSize: 4, learningRate: 0.1, optimizer: 'sgd', l2: 0, proximalMu: 0 };

// 6 rows × 3 features, not linearly trivial.
const DATA: TabularSplit = {
  x: Float32Array.from([0.5, -1, 2, 1, 0.2, -0.3, -1.5, 0.7, 0.1, 0.3, 0.3, -2, -0.4, -1.2, 1, 2, 1, 0.5]),
  y: Float32Array.from([1, 0, 0, 1, 0, 1]),
  n: 6,
  dim: 3,
};

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/**
 * Independent float64 reference: full-batch gradient descent on mean BCE + l2·‖w‖² + μ/2·‖θ − θ₀‖², plus a constant
 * gradient correction (SCAFFOLD's c − c_i: [w correction, b correction]) added to every step.
 */
function referenceGd(
  w0: number[],
  b0: number,
  lr: number,
  l2: number,
  mu: number,
  steps: number,
  correction: [number[], number] = [[0, 0, 0], 0],
): [number[], number] {
  let w = [...w0];
  let b = b0;
  for (let s = 0; s < steps; s++) {
    const gw = [0, 0, 0];
    let gb = 0;
    for (let i = 0; i < DATA.n; i++) {
      const z = w.reduce((acc, wj, j) => acc + wj * DATA.x[i * 3 + j], b);
      const r = (sigmoid(z) - DATA.y[i]) / DATA.n;
      for (let j = 0; j < 3; j++) gw[j] += r * DATA.x[i * 3 + j];
      gb += r;
    }
    w = w.map((wj, j) => wj - lr * (gw[j] + 2 * l2 * wj + mu * (wj - w0[j]) + correction[0][j]));
    b = b - lr * (gb + mu * (b - b0) + correction[1]);
  }
  return [w, b];
}

describe('TabularClassifier', () => {
  let tensorsBefore: number;

  beforeAll(async () => {
    await initBackend('cpu');
  });

  beforeEach(() => {
    tensorsBefore = tf.memory().numTensors;
  });

  afterEach(() => {
    // Every test disposes what it creates: the tensor count must be back where it started.
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('initialises deterministically from the seed within torch.nn.Linear bounds', () => {
    const a = TabularClassifier.create({ family: 'logistic-regression', inputDim: 13 }, 42);
    const b = TabularClassifier.create({ family: 'logistic-regression', inputDim: 13 }, 42);
    const c = TabularClassifier.create({ family: 'logistic-regression', inputDim: 13 }, 43);
    const wa = a.getWeights();
    expect(wa.map((w) => w.shape)).toEqual([[13, 1], [1]]);
    expect(b.getWeights()).toEqual(wa);
    expect(c.getWeights()[0].data).not.toEqual(wa[0].data);
    const bound = 1 / Math.sqrt(13);
    expect(wa.every((w) => Array.from(w.data).every((v) => Math.abs(v) <= bound))).toBe(true);
    [a, b, c].forEach((m) => m.dispose());
  });

  it('builds an MLP with the requested hidden widths', () => {
    const m = TabularClassifier.create({ family: 'mlp', inputDim: 13, hidden: [8, 4] }, 1);
    expect(m.getWeights().map((w) => w.shape)).toEqual([[13, 8], [8], [8, 4], [4], [4, 1], [1]]);
    m.dispose();
  });

  it('rejects invalid specs', () => {
    expect(() => TabularClassifier.create({ family: 'mlp', inputDim: 13 }, 1)).toThrow(/hidden/);
    expect(() => TabularClassifier.create({ family: 'logistic-regression', inputDim: 0 }, 1)).toThrow(RangeError);
    expect(() => TabularClassifier.create({ family: 'mlp', inputDim: 2, hidden: [2], dropout: 1 }, 1)).toThrow(/dropout/);
  });

  it('round-trips weights as copies and rejects wrong shapes', () => {
    const m = TabularClassifier.create(LR, 1);
    const weights = [{ shape: [3, 1], data: Float32Array.from([1, 2, 3]) }, { shape: [1], data: Float32Array.from([-1]) }];
    m.setWeights(weights);
    weights[0].data[0] = 99; // must not reach the model
    const out = m.getWeights();
    out[1].data[0] = 42; // nor must this
    expect(Array.from(m.getWeights()[0].data)).toEqual([1, 2, 3]);
    expect(Array.from(m.getWeights()[1].data)).toEqual([-1]);
    expect(() => m.setWeights([{ shape: [1, 3], data: new Float32Array(3) }, weights[1]])).toThrow(RangeError);
    expect(() => m.setWeights([weights[0]])).toThrow(/got 1 tensors, model has 2/);
    m.dispose();
  });

  it('predicts sigmoid(x·w + b) and evaluates confusion counts and BCE at threshold 0.5', () => {
    // Arrange: w = [1, -1, 0.5], b = 0.25 → logits for the 6 rows below, computed by hand
    const m = TabularClassifier.create(LR, 1);
    m.setWeights([{ shape: [3, 1], data: Float32Array.from([1, -1, 0.5]) }, { shape: [1], data: Float32Array.from([0.25]) }]);
    const logits = [0.5 + 1 + 1 + 0.25, 1 - 0.2 - 0.15 + 0.25, -1.5 - 0.7 + 0.05 + 0.25, 0.3 - 0.3 - 1 + 0.25, -0.4 + 1.2 + 0.5 + 0.25, 2 - 1 + 0.25 + 0.25];
    // predicted positive: rows 0,1,4,5; labels 1,0,0,1,0,1 → TP rows 0,5; FP 1,4; TN 2; FN 3

    // Act
    const p = m.predictProba(DATA.x, DATA.n);
    const counts = m.evaluate(DATA);

    // Assert
    logits.forEach((z, i) => expect(p[i]).toBeCloseTo(sigmoid(z), 6));
    const bce = logits.reduce((s, z, i) => s - (DATA.y[i] ? Math.log(sigmoid(z)) : Math.log(1 - sigmoid(z))), 0);
    expect(counts).toEqual({
      numExamples: 6,
      numCorrect: 3,
      lossSum: expect.closeTo(bce, 5),
      truePositives: 2,
      falsePositives: 2,
      trueNegatives: 1,
      falseNegatives: 1,
    });
    expect(m.evaluate(DATA, 0.99).truePositives).toBe(0);
    m.dispose();
  });

  it.each([
    ['plain SGD', 0, 0],
    ['SGD with l2', 0.05, 0],
    ['SGD with a FedProx term', 0, 0.5],
  ])('matches a float64 gradient-descent reference (%s)', (_label, l2, mu) => {
    // Arrange: batchSize = n makes every step full-batch, so row order cannot matter
    const m = TabularClassifier.create(LR, 7);
    const [w0, b0] = m.getWeights();
    const [wRef, bRef] = referenceGd(Array.from(w0.data), b0.data[0], 0.3, l2, mu, 5);

    // Act
    const outcome = m.train(DATA, { ...BASE, batchSize: 6, localSteps: 5, learningRate: 0.3, l2, proximalMu: mu }, 3);

    // Assert
    const [w, b] = m.getWeights();
    wRef.forEach((v, j) => expect(w.data[j]).toBeCloseTo(v, 5));
    expect(b.data[0]).toBeCloseTo(bRef, 5);
    expect(outcome).toMatchObject({ numExamples: 6, steps: 5 });
    m.dispose();
  });

  it('adds a SCAFFOLD gradient correction to every SGD step (matches the float64 reference)', () => {
    // Arrange: c − c_i = [0.2, −0.1, 0.05] for the kernel, −0.3 for the bias; full-batch SGD, 5 steps of lr 0.3
    const m = TabularClassifier.create(LR, 7);
    const [w0, b0] = m.getWeights();
    const correction: [number[], number] = [[0.2, -0.1, 0.05], -0.3];
    const [wRef, bRef] = referenceGd(Array.from(w0.data), b0.data[0], 0.3, 0, 0, 5, correction);
    const gradientCorrection = [
      { shape: [3, 1], data: Float32Array.from(correction[0]) },
      { shape: [1], data: Float32Array.from([correction[1]]) },
    ];

    // Act
    m.train(DATA, { ...BASE, batchSize: 6, localSteps: 5, learningRate: 0.3 }, 3, { gradientCorrection });

    // Assert
    const [w, b] = m.getWeights();
    wRef.forEach((v, j) => expect(w.data[j]).toBeCloseTo(v, 5));
    expect(b.data[0]).toBeCloseTo(bRef, 5);
    expect(Array.from(gradientCorrection[0].data)).toEqual([0.2, -0.1, 0.05].map(Math.fround));
    m.dispose();
  });

  it('applies the correction on the autodiff path too: one MLP step moves θ by an extra −lr·correction', () => {
    // Arrange: same model, same batch, with and without a correction of 0.5 on every weight
    const spec: ModelSpec = { family: 'mlp', inputDim: 3, hidden: [4] };
    const config = { ...BASE, batchSize: 6, learningRate: 0.1 };
    const plain = TabularClassifier.create(spec, 5);
    const corrected = TabularClassifier.create(spec, 5);
    const gradientCorrection = plain.getWeights().map((t) => ({ shape: t.shape, data: new Float32Array(t.data.length).fill(0.5) }));

    // Act
    plain.train(DATA, config, 1);
    corrected.train(DATA, config, 1, { gradientCorrection });

    // Assert: θ_corrected − θ_plain = −0.1·0.5 = −0.05 everywhere
    const [a, b] = [plain.getWeights(), corrected.getWeights()];
    b.forEach((t, l) => t.data.forEach((v, i) => expect(v - a[l].data[i]).toBeCloseTo(-0.05, 5)));
    plain.dispose();
    corrected.dispose();
  });

  it('rejects a misshapen gradient correction', () => {
    const m = TabularClassifier.create(LR, 1);
    const bad = [{ shape: [3], data: new Float32Array(3) }, { shape: [1], data: new Float32Array(1) }];
    expect(() => m.train(DATA, BASE, 1, { gradientCorrection: bad })).toThrow(/gradientCorrection: tensor 0 is \[3\]/);
    expect(() => m.train(DATA, BASE, 1, { gradientCorrection: [] })).toThrow(/gradientCorrection: got 0 tensors, model has 2/);
    m.dispose();
  });

  it('takes a first Adam step of lr·sign(gradient)', () => {
    // Arrange: Adam's first bias-corrected step is lr·g/(|g| + ε) ≈ lr·sign(g)
    const m = TabularClassifier.create(LR, 7);
    const [w0, b0] = m.getWeights();
    const [wGd, bGd] = referenceGd(Array.from(w0.data), b0.data[0], 1, 0, 0, 1);

    // Act
    m.train(DATA, { ...BASE, batchSize: 6, optimizer: 'adam', learningRate: 0.01 }, 3);

    // Assert
    const [w, b] = m.getWeights();
    wGd.forEach((v, j) => expect(w.data[j] - w0.data[j]).toBeCloseTo(0.01 * Math.sign(v - w0.data[j]), 4));
    expect(b.data[0] - b0.data[0]).toBeCloseTo(0.01 * Math.sign(bGd - b0.data[0]), 4);
    m.dispose();
  });

  it('trains an MLP by autodiff in the direction of the finite-difference gradient', () => {
    // Arrange
    const spec: ModelSpec = { family: 'mlp', inputDim: 3, hidden: [4] };
    const m = TabularClassifier.create(spec, 5);
    const w0 = m.getWeights();
    const loss = (weights: typeof w0) => {
      m.setWeights(weights);
      return m.evaluate(DATA).lossSum / DATA.n;
    };
    const eps = 1e-2;
    const numeric = w0.map((t, l) =>
      Array.from(t.data).map((_, i) => {
        const plus = w0.map((u) => ({ shape: u.shape, data: Float32Array.from(u.data) }));
        const minus = w0.map((u) => ({ shape: u.shape, data: Float32Array.from(u.data) }));
        plus[l].data[i] += eps;
        minus[l].data[i] -= eps;
        return (loss(plus) - loss(minus)) / (2 * eps);
      }),
    );
    m.setWeights(w0);

    // Act: one full-batch SGD step of lr 1e-3 moves θ by −1e-3·∇
    m.train(DATA, { ...BASE, batchSize: 6, learningRate: 1e-3 }, 1);

    // Assert
    const w1 = m.getWeights();
    w1.forEach((t, l) => t.data.forEach((v, i) => expect((w0[l].data[i] - v) / 1e-3).toBeCloseTo(numeric[l][i], 2)));
    m.dispose();
  });

  it('is reproducible for a seed and lowers the training loss', () => {
    const run = (seed: number) => {
      const m = TabularClassifier.create(LR, 1);
      const before = m.evaluate(DATA).lossSum;
      m.train(DATA, { ...BASE, localSteps: 40, batchSize: 4 }, seed);
      const result = { weights: m.getWeights(), before, after: m.evaluate(DATA).lossSum };
      m.dispose();
      return result;
    };
    const a = run(9);
    expect(run(9).weights).toEqual(a.weights);
    expect(run(10).weights[0].data).not.toEqual(a.weights[0].data);
    expect(a.after).toBeLessThan(a.before);
  });

  it.each([
    ['sgd', { optimizer: 'sgd' as const }],
    ['adam + l2 + prox', { optimizer: 'adam' as const, l2: 0.01, proximalMu: 0.1 }],
  ])('leaves no tensors behind (LR and MLP with dropout, %s, with and without a correction)', (_label, overrides) => {
    for (const spec of [LR, { family: 'mlp', inputDim: 3, hidden: [5], dropout: 0.2 } as ModelSpec]) {
      const m = TabularClassifier.create(spec, 2);
      m.train(DATA, { ...BASE, localSteps: 7, ...overrides }, 2);
      m.train(DATA, { ...BASE, localSteps: 3, ...overrides }, 2, { gradientCorrection: m.getWeights() });
      m.evaluate(DATA);
      m.predictProba(DATA.x, DATA.n);
      m.setWeights(m.getWeights());
      m.dispose();
      m.dispose();
    }
  });

  it('rejects bad configs and data of the wrong width', () => {
    const m = TabularClassifier.create(LR, 1);
    expect(() => m.train(DATA, { ...BASE, localSteps: 0 }, 1)).toThrow(/localSteps 0/);
    expect(() => m.train(DATA, { ...BASE, learningRate: -1, batchSize: 0 }, 1)).toThrow(/batchSize 0, learningRate -1|learningRate -1/);
    expect(() => m.train({ ...DATA, dim: 2 }, BASE, 1)).toThrow(/dim 2/);
    expect(() => m.evaluate({ ...DATA, dim: 4 })).toThrow(RangeError);
    m.dispose();
    expect(() => m.getWeights()).toThrow(/disposed/);
  });
});
