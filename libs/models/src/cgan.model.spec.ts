import * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import type { ModelSpec, TrainingConfig } from '@medfed/protocol';
import type { ExampleSet } from '@medfed/data';

// Relative until the data barrel re-exports the loader (then: from '@medfed/data').
import { loadTox21, partitionTox21, splitTox21Rows, tox21Examples } from '@medfed/data';
import {
  cganArchitecture,
  cganFamily,
  CganModel,
  generateSyntheticFingerprints,
  straightThroughBernoulli,
  trainClassifierOnSynthetic,
} from './cgan.model';
import { TabularClassifier } from './tabular-classifier.model';
import { createModel } from './federated-model';
import './model-families';
import { initBackend } from './tf-backend.util';

const DATA_DIR = resolve(__dirname, '../../../data/tox21');

/** Mean over heads of the AUC as the fraction of (positive, negative) pairs ranked correctly (ties ½): the pairwise definition. */
function meanPairwiseAuc(p: Float32Array, y: Float32Array, heads: number): number {
  let total = 0;
  for (let k = 0; k < heads; k++) {
    const pos: number[] = [];
    const neg: number[] = [];
    for (let i = 0; i < y.length / heads; i++) {
      const v = y[i * heads + k];
      if (v === 1) pos.push(p[i * heads + k]);
      else if (v === 0) neg.push(p[i * heads + k]);
    }
    let good = 0;
    for (const a of pos) for (const b of neg) good += a > b ? 1 : a === b ? 0.5 : 0;
    total += good / (pos.length * neg.length);
  }
  return total / heads;
}

const tiny: ModelSpec = {
  family: 'cgan',
  inputDim: 16,
  outputs: 3,
  architecture: { latentDim: 4, generatorHidden: [8], discriminatorHidden: [5], classifierHidden: [6] },
};
const adam = (steps: number, extra: Partial<TrainingConfig> = {}): TrainingConfig => ({
  localSteps: steps, batchSize: 8, learningRate: 0.01, optimizer: 'adam', l2: 0, proximalMu: 0, ...extra,
});

/** 40 random binary rows of 16 bits and 3 labels; head 2 all missing. For arithmetic tests only. */
function randomSet(seed: number): ExampleSet {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const n = 40;
  const x = Float32Array.from({ length: n * 16 }, () => (rnd() < 0.3 ? 1 : 0));
  const labels = Float32Array.from({ length: n * 3 }, (_, i) => (i % 3 === 2 ? NaN : rnd() < 0.25 ? 1 : 0));
  return { n, inputs: { x: { shape: [n, 16], data: x } }, labels: { shape: [n, 3], data: labels } };
}

/** `tiny` with its GAN in a 3-wide latent space (autoencoder 16→5→3→5→16) and an average of G with decay ½. */
const tinyLatent: ModelSpec = { ...tiny, architecture: { ...tiny.architecture, embeddingDim: 3, autoencoderHidden: [5], generatorAverage: 0.5 } };
/** Index of the first weight after C, G, D and the prior of `tiny` (13 tensors), and of G's average in `tinyLatent`. */
const LATENT_FIRST = 13;
const AVERAGE_FIRST = 28;

beforeAll(async () => {
  await initBackend('wasm');
});

describe('cganFamily.validate', () => {
  it('accepts the defaults and names a bad or unknown field', () => {
    expect(() => cganFamily.validate({ family: 'cgan', inputDim: 1024, outputs: 12 })).not.toThrow();
    expect(() => cganFamily.validate({ ...tiny, architecture: { latentDim: 0 } })).toThrow(/architecture.latentDim must be an integer in \[1, 1024\], got 0/);
    expect(() => cganFamily.validate({ ...tiny, architecture: { generatorHidden: [] } })).toThrow(/architecture.generatorHidden/);
    expect(() => cganFamily.validate({ ...tiny, architecture: { classifierDropout: 1 } })).toThrow(/architecture.classifierDropout/);
    expect(() => cganFamily.validate({ ...tiny, architecture: { filters: 3 } })).toThrow(/unknown architecture field\(s\) filters/);
    expect(() => cganFamily.validate({ ...tiny, architecture: { straightThrough: 1 } })).toThrow(/architecture.straightThrough must be true or false, got 1/);
    expect(() => cganFamily.validate({ ...tiny, architecture: { embeddingDim: 1.5 } })).toThrow(/architecture.embeddingDim must be an integer in \[0, 1024\], got 1.5/);
    expect(() => cganFamily.validate({ ...tiny, architecture: { generatorAverage: 1 } })).toThrow(/architecture.generatorAverage must be a number in \[0, 1\), got 1/);
    expect(() => cganFamily.validate({ ...tiny, architecture: { autoencoderHidden: [0] } })).toThrow(/architecture.autoencoderHidden/);
    expect(() => cganFamily.validate({ ...tiny, family: 'mlp' })).toThrow(RangeError);
  });

  it('fills in the defaults', () => {
    expect(cganArchitecture({ family: 'cgan', inputDim: 8 })).toEqual({
      latentDim: 64, generatorHidden: [256], discriminatorHidden: [256], classifierHidden: [512],
      classifierDropout: 0.3, augment: 0, ganStepsPerStep: 1, ganLearningRate: 2e-4, auxWeight: 1, straightThrough: true,
      embeddingDim: 0, autoencoderHidden: [512], autoencoderSteps: 0, generatorAverage: 0, ganBeta2: 0.999,
    });
  });
});

describe('CganModel weights', () => {
  it('orders C, G, D, then the prior, with the shapes of the architecture', () => {
    const before = tf.memory().numTensors;
    const m = cganFamily.create(tiny, 1);
    // C 16→6→3, G (4+3)→8→16, D (16+3)→5→1, prior [3]
    expect(m.getWeights().map((w) => w.shape)).toEqual([[16, 6], [6], [6, 3], [3], [7, 8], [8], [8, 16], [16], [19, 5], [5], [5, 1], [1], [3]]);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('round-trips exactly, is deterministic in the seed and refuses a wrong shape', async () => {
    const before = tf.memory().numTensors;
    const a = CganModel.create(tiny, 1);
    const b = CganModel.create(tiny, 2);
    const c = CganModel.create(tiny, 1);
    expect(c.getWeights()).toEqual(a.getWeights());
    expect(b.getWeights()[0].data).not.toEqual(a.getWeights()[0].data);

    b.setWeights(a.getWeights());

    expect(b.getWeights()).toEqual(a.getWeights());
    const set = randomSet(3);
    expect(await b.predict(set)).toEqual(await a.predict(set));
    const bad = a.getWeights();
    bad[4] = { shape: [8, 7], data: new Float32Array(56) };
    expect(() => b.setWeights(bad)).toThrow(/tensor 4 is \[8,7\] with 56 values, expected \[7,8\]/);
    expect(() => b.setWeights(bad.slice(1))).toThrow(/got 12 tensors, model has 13/);
    [a, b, c].forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('the latent space (embeddingDim > 0)', () => {
  it('appends encoder, decoder, embedding classifier, embedding mean and deviation, step counter, then the average of G', () => {
    const before = tf.memory().numTensors;
    const m = cganFamily.create(tinyLatent, 1);
    const shapes = m.getWeights().map((w) => w.shape);
    // C 16→6→3; G (4+3)→8→3; D (3+3)→5→1; prior
    expect(shapes.slice(0, LATENT_FIRST)).toEqual([[16, 6], [6], [6, 3], [3], [7, 8], [8], [8, 3], [3], [6, 5], [5], [5, 1], [1], [3]]);
    // encoder 16→5→3, decoder 3→5→16, embedding classifier 3→6→3, mean, deviation, step counter; then G's average
    expect(shapes.slice(LATENT_FIRST)).toEqual([[16, 5], [5], [5, 3], [3], [3, 5], [5], [5, 16], [16], [3, 6], [6], [6, 3], [3], [3], [3], [1], [7, 8], [8], [8, 3], [3]]);
    // The average starts as G.
    expect(m.getWeights().slice(AVERAGE_FIRST)).toEqual(m.getWeights().slice(4, 8));
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('moves the average of G by the decay after each G step: a₁ = ½·a₀ + ½·G₁', async () => {
    const before = tf.memory().numTensors;
    const m = CganModel.create(tinyLatent, 2);
    const start = m.getWeights();
    await m.train(randomSet(5), adam(1), 3);
    const after = m.getWeights();
    for (let t = 0; t < 4; t++) {
      const a0 = start[AVERAGE_FIRST + t].data;
      const g1 = after[4 + t].data;
      const a1 = after[AVERAGE_FIRST + t].data;
      expect(g1).not.toEqual(start[4 + t].data);
      a1.forEach((v, i) => expect(v).toBeCloseTo(0.5 * a0[i] + 0.5 * g1[i], 6));
    }
    // The embedding statistics were set from the set: a deviation above the floor, not the initial ones.
    const std = after[LATENT_FIRST + 13].data;
    expect(Array.from(std).every((v) => v > 1e-4 && v !== 1)).toBe(true);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains only the autoencoder for its first autoencoderSteps local steps, counted across calls, then only the GAN', async () => {
    const before = tf.memory().numTensors;
    const m = CganModel.create({ ...tinyLatent, architecture: { ...tinyLatent.architecture, autoencoderSteps: 3 } }, 4);
    const encoder = (w: ReturnType<typeof m.getWeights>) => w[LATENT_FIRST].data;
    const generator = (w: ReturnType<typeof m.getWeights>) => w[4].data;
    const w0 = m.getWeights();
    await m.train(randomSet(6), adam(2), 1); // steps 0, 1: warm-up
    const w1 = m.getWeights();
    expect(encoder(w1)).not.toEqual(encoder(w0));
    expect(generator(w1)).toEqual(generator(w0));
    expect(Array.from(w1[LATENT_FIRST + 14].data)).toEqual([2]);
    await m.train(randomSet(6), adam(2), 2); // step 2 warms up, step 3 trains the GAN
    const w2 = m.getWeights();
    expect(encoder(w2)).not.toEqual(encoder(w1));
    expect(generator(w2)).not.toEqual(generator(w1));
    await m.train(randomSet(6), adam(2), 3); // steps 4, 5: the autoencoder is frozen
    const w3 = m.getWeights();
    expect(encoder(w3)).toEqual(encoder(w2));
    expect(w3[LATENT_FIRST + 6].data).toEqual(w2[LATENT_FIRST + 6].data); // decoder too
    expect(generator(w3)).not.toEqual(generator(w2));
    expect(Array.from(w3[LATENT_FIRST + 14].data)).toEqual([6]);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('in a generator phase (generatorOnly) keeps C and the autoencoder bit for bit and runs one GAN step per local step', async () => {
    const before = tf.memory().numTensors;
    // No GAN step in the main phase (ganStepsPerStep 0): G moves only in the generator phase.
    const m = CganModel.create({ ...tinyLatent, architecture: { ...tinyLatent.architecture, ganStepsPerStep: 0 } }, 6);
    await m.train(randomSet(7), adam(3), 1);
    const w1 = m.getWeights();
    expect(w1.slice(4, 8)).toEqual(m.getWeights().slice(AVERAGE_FIRST)); // G and its average untouched so far
    await m.train(randomSet(7), adam(2), 2, { generatorOnly: true });
    const w2 = m.getWeights();
    const same = (from: number, to: number) => w2.slice(from, to).forEach((w, i) => expect(w).toEqual(w1[from + i]));
    const moved = (from: number, to: number) => w2.slice(from, to).forEach((w, i) => expect(w.data).not.toEqual(w1[from + i].data));
    same(0, 4); // C
    same(LATENT_FIRST, LATENT_FIRST + 8); // encoder and decoder
    moved(4, 8); // G
    moved(8, 12); // D
    moved(LATENT_FIRST + 8, LATENT_FIRST + 12); // the embedding classifier that guides G
    expect(Array.from(w2[LATENT_FIRST + 14].data)).toEqual([5]); // the step counter counts both phases
    // Its reported loss is D's (per example, real and fake), not C's: a C that is far off changes nothing.
    const offC = CganModel.create({ ...tinyLatent, architecture: { ...tinyLatent.architecture, ganStepsPerStep: 0 } }, 6);
    offC.setWeights(w2.map((w, i) => (i === 3 ? { shape: w.shape, data: w.data.map((v) => v + 5) } : w)));
    m.setWeights(w2);
    const [outcome, offOutcome] = [await m.train(randomSet(7), adam(2), 3, { generatorOnly: true }), await offC.train(randomSet(7), adam(2), 3, { generatorOnly: true })];
    expect(outcome.meanLoss).toBeGreaterThan(0);
    expect(offOutcome.meanLoss).toBe(outcome.meanLoss);
    offC.dispose();
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains G and D in the embedding statistics it arrived with, and leaves those of its set under its current encoder', async () => {
    const before = tf.memory().numTensors;
    const a = CganModel.create(tinyLatent, 10);
    await a.train(randomSet(10), adam(2), 1);
    const arrived = a.getWeights();
    const b = CganModel.create(tinyLatent, 10);
    // b arrives with other statistics (as from other sites' average): mean +0.5, deviation ×2.
    b.setWeights(arrived.map((w, i) => (i === LATENT_FIRST + 12 ? { shape: w.shape, data: w.data.map((v) => v + 0.5) } : i === LATENT_FIRST + 13 ? { shape: w.shape, data: w.data.map((v) => v * 2) } : w)));
    await a.train(randomSet(11), adam(1), 2, { generatorOnly: true });
    await b.train(randomSet(11), adam(1), 2, { generatorOnly: true });
    const [wa, wb] = [a.getWeights(), b.getWeights()];
    expect(wb[4].data).not.toEqual(wa[4].data); // G learnt in different coordinates
    // Both leave the statistics of the same set under the same (frozen) encoder.
    expect(wb[LATENT_FIRST + 12]).toEqual(wa[LATENT_FIRST + 12]);
    expect(wb[LATENT_FIRST + 13]).toEqual(wa[LATENT_FIRST + 13]);
    expect(wa[LATENT_FIRST + 12].data).not.toEqual(arrived[LATENT_FIRST + 12].data);
    [a, b].forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('continues an autoencoder warm-up into the generator phase, with C still frozen', async () => {
    const before = tf.memory().numTensors;
    const m = CganModel.create({ ...tinyLatent, architecture: { ...tinyLatent.architecture, autoencoderSteps: 3, ganStepsPerStep: 0 } }, 8);
    await m.train(randomSet(8), adam(2), 1); // steps 0, 1 of the warm-up
    const w1 = m.getWeights();
    await m.train(randomSet(8), adam(1), 2, { generatorOnly: true }); // step 2: still warming up
    const w2 = m.getWeights();
    expect(w2[LATENT_FIRST].data).not.toEqual(w1[LATENT_FIRST].data);
    expect(w2[4]).toEqual(w1[4]);
    expect(w2[0]).toEqual(w1[0]);
    await m.train(randomSet(8), adam(1), 3, { generatorOnly: true }); // step 3: the warm-up is over, G trains
    const w3 = m.getWeights();
    expect(w3[LATENT_FIRST]).toEqual(w2[LATENT_FIRST]);
    expect(w3[4].data).not.toEqual(w2[4].data);
    expect(w3[0]).toEqual(w1[0]);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains reproducibly from the seed, and decodes synthetic 0/1 fingerprints of the input width', async () => {
    const before = tf.memory().numTensors;
    const a = CganModel.create(tinyLatent, 5);
    const b = CganModel.create(tinyLatent, 5);
    await a.train(randomSet(1), adam(6, { proximalMu: 0.1 }), 7);
    await b.train(randomSet(1), adam(6, { proximalMu: 0.1 }), 7);
    expect(b.getWeights()).toEqual(a.getWeights());
    const synthetic = generateSyntheticFingerprints(a, 50, 3);
    expect(synthetic.inputs.x.shape).toEqual([50, 16]);
    expect(synthetic.inputs.x.data.every((v) => v === 0 || v === 1)).toBe(true);
    [a, b].forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains on synthetic embeddings only a fresh embedding classifier over the source encoder, leaving the source as it was', async () => {
    const before = tf.memory().numTensors;
    const m = CganModel.create(tinyLatent, 5);
    await m.train(randomSet(2), adam(4), 1);
    const source = m.getWeights();
    const options = { samples: 64, training: { localSteps: 5, batchSize: 16 } };
    const c1 = await trainClassifierOnSynthetic(m, 3, options);
    const c2 = await trainClassifierOnSynthetic(m, 3, options);
    const set = randomSet(4);
    expect(await c2.predict(set)).toEqual(await c1.predict(set));
    expect(await c1.predict(set)).not.toEqual(await m.predict(set));
    const copied = c1.getWeights();
    // Everything but the embedding classifier (weights 21–24) is the source's; that classifier is new.
    copied.forEach((w, i) => (i >= 21 && i <= 24 ? expect(w.data).not.toEqual(source[i].data) : expect(w).toEqual(source[i])));
    expect(m.getWeights()).toEqual(source);
    const plain = CganModel.create(tiny, 1);
    await expect(plain.trainEmbeddingClassifierOnSynthetic(1, {}, adam(1))).rejects.toThrow(/has no latent space \(embeddingDim 0\)/);
    [m, c1, c2, plain].forEach((x) => x.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('CganModel.train', () => {
  it('leaves the head whose labels are all missing untouched (masked loss), and sets the prior to the positive rates', async () => {
    // Arrange
    const before = tf.memory().numTensors;
    const m = CganModel.create(tiny, 5);
    const set = randomSet(9);
    const start = m.getWeights();

    // Act
    const outcome = await m.train(set, adam(10), 1);

    // Assert: C's last layer is weights[2] [6, 3] and weights[3] [3]; column/entry 2 has no gradient.
    const after = m.getWeights();
    const column = (w: Float32Array, k: number) => Array.from({ length: 6 }, (_, r) => w[r * 3 + k]);
    expect(column(after[2].data, 2)).toEqual(column(start[2].data, 2));
    expect(after[3].data[2]).toBe(start[3].data[2]);
    expect(column(after[2].data, 0)).not.toEqual(column(start[2].data, 0));
    // Prior: positives / observed per head, counted here directly; 0.5 for the unobserved head.
    const rate = (k: number) => {
      let pos = 0;
      let obs = 0;
      for (let i = 0; i < set.n; i++) {
        const v = set.labels.data[i * 3 + k];
        if (!Number.isNaN(v)) {
          obs++;
          pos += v;
        }
      }
      return pos / obs;
    };
    expect(Array.from(after[12].data)).toEqual([Math.fround(rate(0)), Math.fround(rate(1)), 0.5]);
    expect(outcome.numExamples).toBe(40);
    expect(outcome.meanLoss).toBeGreaterThan(0);
    // G and D moved too (GAN steps ran).
    expect(after[6].data).not.toEqual(start[6].data);
    expect(after[10].data).not.toEqual(start[10].data);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is reproducible from the seed, with augmentation and FedProx', async () => {
    const before = tf.memory().numTensors;
    const spec: ModelSpec = { ...tiny, architecture: { ...tiny.architecture, augment: 0.5 } };
    const a = CganModel.create(spec, 5);
    const b = CganModel.create(spec, 5);
    await a.train(randomSet(1), adam(6, { proximalMu: 0.1, l2: 1e-3 }), 7);
    await b.train(randomSet(1), adam(6, { proximalMu: 0.1, l2: 1e-3 }), 7);
    expect(b.getWeights()).toEqual(a.getWeights());
    [a, b].forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('with generatorOnly on fingerprints, trains G and D and keeps C; families without a generator refuse it', async () => {
    const before = tf.memory().numTensors;
    const m = CganModel.create({ ...tiny, architecture: { ...tiny.architecture, augment: 0.5 } }, 9);
    const w0 = m.getWeights();
    await m.train(randomSet(9), adam(3), 1, { generatorOnly: true });
    const w1 = m.getWeights();
    w1.slice(0, 4).forEach((w, i) => expect(w).toEqual(w0[i]));
    w1.slice(4, 12).forEach((w, i) => expect(w.data).not.toEqual(w0[4 + i].data));
    const mlp = createModel({ family: 'mlp', inputDim: 16, hidden: [4] }, 1);
    const oneLabel: ExampleSet = { n: 2, inputs: { x: { shape: [2, 16], data: new Float32Array(32) } }, labels: { shape: [2, 1], data: Float32Array.from([0, 1]) } };
    await expect(mlp.train(oneLabel, adam(1), 1, { generatorOnly: true })).rejects.toThrow(/mlp: the model has no generator to train alone/);
    [m, mlp].forEach((x) => x.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses SCAFFOLD corrections, a wrong input width and a bad config', async () => {
    const m = CganModel.create(tiny, 5);
    await expect(m.train(randomSet(1), adam(1), 1, { gradientCorrection: m.getWeights() })).rejects.toThrow(/SCAFFOLD gradientCorrection is not supported/);
    const wide: ExampleSet = { ...randomSet(1), inputs: { x: { shape: [40, 8], data: new Float32Array(320) } } };
    await expect(m.train(wide, adam(1), 1)).rejects.toThrow(/needs input 'x' of shape \[n, 16\], got \[40, 8\]/);
    await expect(m.train(randomSet(1), adam(0), 1)).rejects.toThrow(/localSteps 0/);
    m.dispose();
  });
});

describe('straightThroughBernoulli', () => {
  it('draws 1[u < p] forward and passes the gradient to p unchanged', () => {
    const before = tf.memory().numTensors;
    const [value, grad] = tf.tidy(() => {
      const p = tf.tensor1d([0.2, 0.7, 0.9]);
      const u = tf.tensor1d([0.5, 0.5, 0.95]);
      const w = tf.tensor1d([3, 5, -2]);
      const f = (q: tf.Tensor) => tf.sum(tf.mul(straightThroughBernoulli(q, u), w));
      return [straightThroughBernoulli(p, u), tf.grad(f)(p)];
    });
    expect(Array.from(value.dataSync())).toEqual([0, 1, 0]);
    // d/dp Σ w·bits = w under the straight-through estimator.
    expect(Array.from(grad.dataSync())).toEqual([3, 5, -2]);
    tf.dispose([value, grad]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('synthetic data', () => {
  it('generates seeded, labelled 0/1 fingerprints; refuses a model of another family', () => {
    const before = tf.memory().numTensors;
    const m = CganModel.create(tiny, 5);
    const a = generateSyntheticFingerprints(m, 300, 11, { minPositiveRate: 0.3 });
    const b = generateSyntheticFingerprints(m, 300, 11, { minPositiveRate: 0.3 });
    expect(b).toEqual(a);
    expect(a.inputs.x.shape).toEqual([300, 16]);
    expect(a.inputs.x.data.every((v) => v === 0 || v === 1)).toBe(true);
    // Prior is 0.5 at creation, above the minimum rate: about half the labels are positive (±5σ of Binomial(900, ½) = ±75).
    const positives = a.labels.data.reduce((s, v) => s + v, 0);
    expect(Math.abs(positives - 450)).toBeLessThan(75);
    const mlp = TabularClassifier.create({ family: 'mlp', inputDim: 16, hidden: [4] }, 1);
    expect(() => generateSyntheticFingerprints({ spec: mlp.spec } as unknown as CganModel, 10, 1)).toThrow(/family 'mlp', not a cgan/);
    mlp.dispose();
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('trains a classifier on synthetic data only, reproducibly', async () => {
    const before = tf.memory().numTensors;
    const m = CganModel.create(tiny, 5);
    const c1 = await trainClassifierOnSynthetic(m, 3, { samples: 64, training: { localSteps: 5, batchSize: 16 } });
    const c2 = await trainClassifierOnSynthetic(m, 3, { samples: 64, training: { localSteps: 5, batchSize: 16 } });
    const set = randomSet(4);
    expect(await c2.predict(set)).toEqual(await c1.predict(set));
    expect(await c1.predict(set)).not.toEqual(await m.predict(set));
    [m, c1, c2].forEach((x) => x.dispose());
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('on real Tox21 fingerprints', () => {
  it('250 local steps of C beat chance clearly (mean ROC-AUC over 12 assays > 0.65)', async () => {
    // Arrange: site 1 of the random partition (a third of the molecules), its own train/test split.
    const before = tf.memory().numTensors;
    const data = loadTox21(DATA_DIR);
    const split = splitTox21Rows(data, partitionTox21(data, 'random')[0], 42);
    const train = tox21Examples(data, split.train);
    const test = tox21Examples(data, [...split.test, ...split.validation]);
    const m = cganFamily.create({ family: 'cgan', inputDim: 1024, outputs: 12, architecture: { classifierHidden: [128], ganStepsPerStep: 0 } }, 1);

    // Act
    await m.train(train, { localSteps: 250, batchSize: 64, learningRate: 1e-3, optimizer: 'adam', l2: 0, proximalMu: 0 }, 1);
    const p = await m.predict(test);

    // Assert: chance is 0.5 whatever the prevalence.
    expect(p.length).toBe(test.n * 12);
    expect(meanPairwiseAuc(p, test.labels.data, 12)).toBeGreaterThan(0.65);
    m.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});
