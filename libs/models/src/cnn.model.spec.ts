import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import type { ModelSpec, TrainingConfig } from '@medfed/protocol';
import { loadBreastMnist } from '@medfed/data';
import type { ExampleSet } from '@medfed/data';

import { CnnClassifier, cnnFamily, cnnSaliency } from './cnn.model';
import { createRng } from './seeded-rng.util';
import { initBackend } from './tf-backend.util';
import type { WeightTensor } from './weights.util';
import { pairwiseAuc } from './testing';

const DATA_DIR = join(__dirname, '..', '..', '..', 'data', 'breastmnist');

const SPEC: ModelSpec = { family: 'cnn', inputDim: 784, inputShape: [28, 28, 1], outputs: 1, architecture: { filters: [32, 64], dense: 128, dropout: 0.25 } };
const ADAM: TrainingConfig = { localSteps: 2, batchSize: 32, learningRate: 1e-3, optimizer: 'adam', l2: 0, proximalMu: 0 };

/** BreastMNIST images as the cnn's ExampleSet, scaled to [−1, 1] like the study's dataset. */
function examples(split: { x: Float32Array; y: Float32Array; n: number }, n = split.n): ExampleSet {
  return {
    n,
    inputs: { x: { shape: [n, 28, 28, 1], data: split.x.slice(0, n * 784).map((v) => 2 * v - 1) } },
    labels: { shape: [n, 1], data: split.y.slice(0, n) },
  };
}

function randomImages(n: number, seed: number): ExampleSet {
  const rng = createRng(seed);
  return {
    n,
    inputs: { x: { shape: [n, 28, 28, 1], data: Float32Array.from({ length: n * 784 }, () => rng() * 2 - 1) } },
    labels: { shape: [n, 1], data: Float32Array.from({ length: n }, (_, i) => i % 2) },
  };
}

function maxAbsDifference(a: readonly WeightTensor[], b: readonly WeightTensor[]): number {
  let d = 0;
  a.forEach((w, l) => w.data.forEach((v, i) => (d = Math.max(d, Math.abs(v - b[l].data[i])))));
  return d;
}

function squaredDistance(a: readonly WeightTensor[], b: readonly WeightTensor[]): number {
  let d = 0;
  a.forEach((w, l) => w.data.forEach((v, i) => (d += (v - b[l].data[i]) ** 2)));
  return d;
}

beforeAll(async () => {
  await initBackend('wasm');
});

afterAll(async () => {
  await initBackend('cpu');
});

describe('cnnFamily.validate', () => {
  it.each<[string, Partial<ModelSpec>, string]>([
    ['inputShape missing', { inputShape: undefined }, 'ModelSpec.inputShape'],
    ['inputDim not the product', { inputDim: 100 }, 'ModelSpec.inputDim must be 28×28×1 = 784'],
    ['filters empty', { architecture: { filters: [] } }, 'ModelSpec.architecture.filters'],
    ['dropout 1', { architecture: { dropout: 1 } }, 'ModelSpec.architecture.dropout'],
    ['unknown setting', { architecture: { units: 3 } }, 'does not know: units'],
    ['padding', { architecture: { padding: 'full' } }, 'ModelSpec.architecture.padding'],
    ['too many blocks', { architecture: { filters: [8, 8, 8, 8] } }, 'leave no pixels'],
    ['outputs 0', { outputs: 0 }, 'ModelSpec.outputs'],
  ])('refuses %s, naming the field', (_, change, message) => {
    expect(() => cnnFamily.validate({ ...SPEC, ...change })).toThrow(RangeError);
    expect(() => cnnFamily.validate({ ...SPEC, ...change })).toThrow(message);
  });

  it('accepts the default and a same-padded three-block architecture', () => {
    expect(() => cnnFamily.validate(SPEC)).not.toThrow();
    expect(() => cnnFamily.validate({ ...SPEC, architecture: { filters: [8, 16, 32], padding: 'same', augmentFlip: true, augmentShift: 2 } })).not.toThrow();
  });
});

describe('CnnClassifier', () => {
  it('has the weights of Conv32-Pool-Conv64-Pool-Dense128-Dense1 in a fixed order, the same for the same seed', () => {
    // Arrange: 28 −conv3→ 26 −pool→ 13 −conv3→ 11 −pool→ 5, so the dense layer reads 5·5·64 = 1600 values.
    const before = tf.memory().numTensors;

    // Act
    const a = cnnFamily.create(SPEC, 7);
    const b = cnnFamily.create(SPEC, 7);
    const c = cnnFamily.create(SPEC, 8);
    const [wa, wb, wc] = [a.getWeights(), b.getWeights(), c.getWeights()];
    [a, b, c].forEach((m) => m.dispose());

    // Assert
    expect(wa.map((w) => w.shape)).toEqual([[3, 3, 1, 32], [32], [3, 3, 32, 64], [64], [1600, 128], [128], [128, 1], [1]]);
    expect(maxAbsDifference(wa, wb)).toBe(0);
    expect(maxAbsDifference(wa, wc)).toBeGreaterThan(0);
    // He-uniform bound √(6/9) for the first kernel.
    expect(Math.max(...wa[0].data.map(Math.abs))).toBeLessThanOrEqual(Math.sqrt(6 / 9));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('round-trips weights exactly and refuses misshapen ones, naming the tensor', () => {
    const source = cnnFamily.create(SPEC, 1);
    const target = cnnFamily.create(SPEC, 2);
    const weights = source.getWeights();

    target.setWeights(weights);

    expect(maxAbsDifference(target.getWeights(), weights)).toBe(0);
    const bad = weights.map((w, i) => (i === 4 ? { shape: [1600, 127], data: new Float32Array(1600 * 127) } : w));
    expect(() => target.setWeights(bad)).toThrow('tensor 4 is [1600,127]');
    source.dispose();
    target.dispose();
  });

  it('predicts deterministic probabilities in (0, 1) for every image and refuses images of another shape', async () => {
    const model = cnnFamily.create(SPEC, 3);
    const set = randomImages(300, 4); // more than one predict batch
    const before = tf.memory().numTensors;

    const first = await model.predict(set);
    const second = await model.predict(set);

    expect(first).toHaveLength(300);
    expect(first.every((p) => p > 0 && p < 1)).toBe(true);
    expect(Array.from(second)).toEqual(Array.from(first));
    await expect(model.predict({ ...set, inputs: { x: { shape: [300, 784], data: set.inputs['x'].data } } })).rejects.toThrow(
      "a cnn needs input 'x' of shape [300, 28, 28, 1], got [300, 784]",
    );
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('with testTimeFlip predicts the mean of the probabilities of each image and its mirror image', async () => {
    // Arrange: the same weights with and without the option; the mirror images built here by reversing each row.
    const plain = cnnFamily.create(SPEC, 23);
    const flipping = cnnFamily.create({ ...SPEC, architecture: { ...SPEC.architecture, testTimeFlip: true } }, 23);
    const set = randomImages(5, 29);
    const mirrored = Float32Array.from(set.inputs['x'].data);
    for (let i = 0; i < 5 * 28; i++) mirrored.subarray(i * 28, (i + 1) * 28).reverse();

    // Act
    const direct = await plain.predict(set);
    const mirror = await plain.predict({ ...set, inputs: { x: { shape: set.inputs['x'].shape, data: mirrored } } });
    const averaged = await flipping.predict(set);

    // Assert
    averaged.forEach((p, i) => expect(p).toBeCloseTo((direct[i] + mirror[i]) / 2, 6));
    expect(Array.from(direct)).not.toEqual(Array.from(mirror));
    plain.dispose();
    flipping.dispose();
  });

  it('learns BreastMNIST: 60 Adam steps on the training set beat chance on the official validation set', async () => {
    // Arrange
    const data = loadBreastMnist(DATA_DIR);
    const model = cnnFamily.create(SPEC, 42);
    const validation = examples(data.val);
    const initialAuc = pairwiseAuc(await model.predict(validation), validation.labels.data);
    const before = tf.memory().numTensors;

    // Act
    const outcome = await model.train(examples(data.train), { ...ADAM, localSteps: 60 }, 42);
    const auc = pairwiseAuc(await model.predict(validation), validation.labels.data);

    // Assert: chance is 0.5; a random-initialised network is near it.
    expect(outcome).toMatchObject({ numExamples: 546, steps: 60 });
    expect(outcome.meanLoss).toBeLessThan(Math.log(2));
    expect(auc).toBeGreaterThan(0.75);
    expect(auc).toBeGreaterThan(initialAuc);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  }, 120_000);

  it('yields to the event loop between batches', async () => {
    const model = cnnFamily.create(SPEC, 5);
    let ranDuringTraining = false;
    let trainingDone = false;
    setImmediate(() => {
      ranDuringTraining = !trainingDone;
    });

    await model.train(randomImages(64, 6), { ...ADAM, localSteps: 2 }, 1);
    trainingDone = true;

    expect(ranDuringTraining).toBe(true);
    model.dispose();
  });

  it('trains reproducibly from a seed, with augmentation and dropout', async () => {
    const spec: ModelSpec = { ...SPEC, architecture: { ...SPEC.architecture, augmentFlip: true, augmentShift: 2 } };
    const set = randomImages(40, 9);
    const runs: WeightTensor[][] = [];
    for (const seed of [11, 11, 12]) {
      const model = cnnFamily.create(spec, 1);
      await model.train(set, { ...ADAM, localSteps: 3 }, seed);
      runs.push(model.getWeights());
      model.dispose();
    }
    expect(maxAbsDifference(runs[0], runs[1])).toBe(0);
    expect(maxAbsDifference(runs[0], runs[2])).toBeGreaterThan(0);
  });

  it('skips missing (NaN) labels: a set without any label leaves the weights unchanged', async () => {
    const model = cnnFamily.create(SPEC, 5);
    const set = randomImages(20, 3);
    const start = model.getWeights();

    const outcome = await model.train({ ...set, labels: { shape: [20, 1], data: new Float32Array(20).fill(Number.NaN) } }, ADAM, 1);

    expect(Number.isNaN(outcome.meanLoss)).toBe(true);
    expect(maxAbsDifference(model.getWeights(), start)).toBe(0);
    model.dispose();
  });

  it('FedProx μ pulls the weights towards the round start', async () => {
    const set = randomImages(64, 13);
    const sgd: TrainingConfig = { ...ADAM, optimizer: 'sgd', learningRate: 0.05, localSteps: 4 };
    const moved = async (proximalMu: number): Promise<number> => {
      const model = cnnFamily.create(SPEC, 21);
      const start = model.getWeights();
      await model.train(set, { ...sgd, proximalMu }, 3);
      const distance = squaredDistance(model.getWeights(), start);
      model.dispose();
      return distance;
    };

    const free = await moved(0);
    const anchored = await moved(5);

    expect(anchored).toBeLessThan(free);
  });

  it('refuses an invalid config and a misshapen gradient correction', async () => {
    const model = cnnFamily.create(SPEC, 1);
    const set = randomImages(8, 1);
    await expect(model.train(set, { ...ADAM, localSteps: 0 }, 1)).rejects.toThrow('localSteps 0');
    await expect(model.train(set, ADAM, 1, { gradientCorrection: [{ shape: [1], data: new Float32Array(1) }] })).rejects.toThrow('got 1 tensors, model has 8');
    model.dispose();
  });
});

describe('cnnSaliency', () => {
  it('gives the gradient of the logit (checked by finite differences) and integrated gradients that sum to logit(x) − logit(baseline)', () => {
    // Arrange
    const model = cnnFamily.create(SPEC, 17) as CnnClassifier;
    const image = randomImages(1, 19).inputs['x'].data;
    const logit = (x: Float32Array): number => tf.tidy(() => model.logits(tf.tensor4d(x, [1, 28, 28, 1])).dataSync()[0]);
    const before = tf.memory().numTensors;

    // Act
    const maps = cnnSaliency(model, image, { steps: 128 });

    // Assert: completeness (Sundararajan et al. 2017, Prop. 1) up to the midpoint rule's error.
    const sum = maps.integratedGradients.reduce((a, b) => a + b, 0);
    expect(maps.logit).toBeCloseTo(logit(image), 4);
    expect(maps.baselineLogit).toBeCloseTo(logit(new Float32Array(784)), 4);
    expect(Math.abs(sum - (maps.logit - maps.baselineLogit))).toBeLessThan(0.02 * Math.abs(maps.logit - maps.baselineLogit) + 1e-3);
    // Central differences at the five pixels with the largest gradient.
    const top = Array.from(maps.gradient.keys()).sort((a, b) => Math.abs(maps.gradient[b]) - Math.abs(maps.gradient[a])).slice(0, 5);
    for (const i of top) {
      const h = 1e-2;
      const up = Float32Array.from(image);
      const down = Float32Array.from(image);
      up[i] += h;
      down[i] -= h;
      const numeric = (logit(up) - logit(down)) / (2 * h);
      expect(Math.abs(numeric - maps.gradient[i])).toBeLessThan(0.05 * Math.abs(maps.gradient[i]) + 1e-4);
    }
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('refuses an image of the wrong size', () => {
    const model = cnnFamily.create(SPEC, 1);
    expect(() => cnnSaliency(model, new Float32Array(100))).toThrow('the image has 100 values, the model takes 784');
    model.dispose();
  });
});
