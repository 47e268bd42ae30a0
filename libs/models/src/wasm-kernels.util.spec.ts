import * as tf from '@tensorflow/tfjs';

import { createRng } from './seeded-rng.util';
import { initBackend } from './tf-backend.util';
import { registerWasmTrainingKernels } from './wasm-kernels.util';

type Shape4 = [number, number, number, number];
type Pad = 'valid' | 'same';

interface ConvCase {
  x: Shape4;
  filter: Shape4;
  stride: number;
  pad: Pad;
}

function randomValues(size: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: size }, () => rng() * 2 - 1);
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Max absolute difference relative to the reference's largest magnitude. */
function relativeError(actual: Float32Array, expected: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

/**
 * Gradients of Σ conv2d(x, w) ⊙ dy with respect to w (exactly the Conv2DBackpropFilter of dy) and to x
 * (Conv2DBackpropInput of dy), on the named backend, as plain arrays.
 */
async function convGradients(
  backend: 'cpu' | 'wasm',
  c: ConvCase,
  values: { x: Float32Array; filter: Float32Array; dy: Float32Array },
): Promise<{ dW: Float32Array; dx: Float32Array }> {
  // initBackend rather than tf.setBackend: it also silences the cpu backend's console advert for tfjs-node.
  await initBackend(backend);
  return tf.tidy(() => {
    const x = tf.tensor4d(values.x, c.x);
    const w = tf.tensor4d(values.filter, c.filter);
    const outShape = tf.conv2d(x, w, c.stride, c.pad).shape;
    const dy = tf.tensor(values.dy, outShape);
    const loss = (a: tf.Tensor, b: tf.Tensor): tf.Scalar => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, c.pad), dy));
    const [dx, dW] = tf.grads(loss)([x, w]);
    return { dW: dW.dataSync() as Float32Array, dx: dx.dataSync() as Float32Array };
  });
}

function outputSize(c: ConvCase): number {
  const [b, h, w] = c.x;
  const [kh, kw, , co] = c.filter;
  const oh = c.pad === 'same' ? Math.ceil(h / c.stride) : Math.ceil((h - kh + 1) / c.stride);
  const ow = c.pad === 'same' ? Math.ceil(w / c.stride) : Math.ceil((w - kw + 1) / c.stride);
  return b * oh * ow * co;
}

function buildCnn(): tf.Sequential {
  const model = tf.sequential();
  model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }));
  model.add(tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }));
  return model;
}

describe('registerWasmTrainingKernels', () => {
  const wasIsTest = tf.env().getBool('IS_TEST');

  beforeAll(async () => {
    await initBackend('wasm');
    registerWasmTrainingKernels();
  });

  afterAll(async () => {
    await initBackend('cpu');
  });

  // IS_TEST makes the engine check after every kernel that it left no data ids behind beyond its outputs.
  // Only around the convolution kernels: tfjs's own fused matMul trips that check during model training.
  const checkKernelLeaks = (): void => tf.env().set('IS_TEST', true);
  const restoreLeakCheck = (): void => tf.env().set('IS_TEST', wasIsTest);

  it('registers Conv2DBackpropFilter for wasm and is idempotent', () => {
    // Act
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();

    // Assert
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    for (const name of ['Conv2DBackpropInput', 'BatchMatMul', 'MaxPoolGrad', 'Sum']) {
      expect(tf.getKernelsForBackend('wasm').filter((k) => k.kernelName === name)).toHaveLength(1);
    }
  });

  it('computes a hand-checked filter gradient', async () => {
    // Arrange: x = 1..9 in a 3×3 image, dy = ones(2×2), 2×2 filter, valid, stride 1:
    // dW[kh,kw] is the sum of the 2×2 window of x starting at (kh,kw).
    await initBackend('wasm');
    const before = tf.memory().numTensors;
    checkKernelLeaks();

    // Act
    const dW = tf.tidy(() => {
      const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
      const dy = tf.ones([1, 2, 2, 1]);
      return tf.grad((w: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, w as tf.Tensor4D, 1, 'valid'), dy)))(tf.zeros([2, 2, 1, 1])).dataSync();
    });
    restoreLeakCheck();

    // Assert
    expect(Array.from(dW)).toEqual([12, 16, 24, 28]);
    expect(tf.memory().numTensors).toBe(before);
  });

  const shapes: Array<{ x: Shape4; filter: Shape4 }> = [
    { x: [2, 7, 7, 3], filter: [3, 3, 3, 4] },
    { x: [3, 9, 6, 1], filter: [2, 3, 1, 5] },
    { x: [2, 8, 8, 2], filter: [5, 5, 2, 3] },
    { x: [1, 5, 5, 2], filter: [1, 1, 2, 3] },
    // Patches longer than 64 (KH·KW·Ci) take the swapped-convolution filter gradient, shorter ones im2col.
    { x: [2, 7, 7, 8], filter: [3, 3, 8, 4] },
    { x: [2, 9, 8, 5], filter: [4, 4, 5, 3] },
  ];
  const cases: ConvCase[] = shapes.flatMap((s) =>
    (['valid', 'same'] as const).flatMap((pad) => [1, 2].map((stride) => ({ ...s, pad, stride }))),
  );

  it.each(cases)('matches the cpu backend for x $x, filter $filter, stride $stride, $pad', async (c) => {
    // Arrange
    const values = {
      x: randomValues(size(c.x), 11),
      filter: randomValues(size(c.filter), 12),
      dy: randomValues(outputSize(c), 13),
    };
    const before = tf.memory().numTensors;

    // Act
    const expected = await convGradients('cpu', c, values);
    checkKernelLeaks();
    const actual = await convGradients('wasm', c, values).finally(restoreLeakCheck);

    // Assert
    expect(actual.dW).toHaveLength(size(c.filter));
    expect(relativeError(actual.dW, expected.dW)).toBeLessThan(1e-5);
    expect(relativeError(actual.dx, expected.dx)).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });

  const products: Array<{ a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }> = [
    { a: [7, 5], b: [7, 3], transposeA: true, transposeB: false },
    { a: [5, 7], b: [3, 7], transposeA: false, transposeB: true },
    { a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
    { a: [4, 7, 5], b: [4, 7, 3], transposeA: true, transposeB: false },
    { a: [2, 5, 7], b: [1, 3, 7], transposeA: false, transposeB: true },
    { a: [5, 7], b: [7, 3], transposeA: false, transposeB: false },
  ];

  it.each(products)('matMul of $a × $b (transposeA $transposeA, transposeB $transposeB) matches the cpu backend', async (p) => {
    // Arrange
    const aValues = randomValues(size(p.a), 21);
    const bValues = randomValues(size(p.b), 22);
    const product = async (backend: 'cpu' | 'wasm'): Promise<{ shape: number[]; values: Float32Array }> => {
      await initBackend(backend);
      return tf.tidy(() => {
        const out = tf.matMul(tf.tensor(aValues, p.a), tf.tensor(bValues, p.b), p.transposeA, p.transposeB);
        return { shape: out.shape, values: out.dataSync() as Float32Array };
      });
    };
    const before = tf.memory().numTensors;

    // Act
    const expected = await product('cpu');
    checkKernelLeaks();
    const actual = await product('wasm').finally(restoreLeakCheck);

    // Assert
    expect(actual.shape).toEqual(expected.shape);
    expect(relativeError(actual.values, expected.values)).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });

  const pools: Array<{ x: Shape4; size: number; stride: number; pad: Pad; ties: boolean }> = [
    { x: [2, 8, 8, 3], size: 2, stride: 2, pad: 'valid', ties: false },
    { x: [2, 8, 8, 3], size: 2, stride: 2, pad: 'valid', ties: true },
    { x: [1, 7, 9, 2], size: 3, stride: 2, pad: 'same', ties: true },
    { x: [2, 7, 7, 4], size: 3, stride: 1, pad: 'valid', ties: true },
    { x: [1, 5, 6, 1], size: 2, stride: 3, pad: 'same', ties: false },
  ];

  it.each(pools)('MaxPoolGrad for x $x, window $size, stride $stride, $pad, ties $ties matches the cpu backend', async (p) => {
    // Arrange: with ties, values are rounded to a few levels and a third are ReLU-like zeros, so windows hold equal
    // maxima and only the first one in row-major order may receive the gradient.
    const rng = createRng(31);
    const xValues = Float32Array.from({ length: size(p.x) }, () => {
      const v = rng() * 2 - 1;
      return p.ties ? Math.max(0, Math.round(v * 2) / 2) : v;
    });
    const gradient = async (backend: 'cpu' | 'wasm'): Promise<Float32Array> => {
      await initBackend(backend);
      return tf.tidy(() => {
        const x = tf.tensor4d(xValues, p.x);
        const outShape = tf.maxPool(x, p.size, p.stride, p.pad).shape;
        const dy = tf.tensor(randomValues(size(outShape), 32), outShape);
        return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, p.size, p.stride, p.pad), dy)))(x).dataSync() as Float32Array;
      });
    };
    const before = tf.memory().numTensors;

    // Act
    const expected = await gradient('cpu');
    checkKernelLeaks();
    const actual = await gradient('wasm').finally(restoreLeakCheck);

    // Assert
    expect(actual).toHaveLength(size(p.x));
    expect(relativeError(actual, expected)).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('MaxPoolGrad sends each window gradient to its first maximum (hand-checked)', async () => {
    // Arrange: one 2×2 window of equal values, one with its maximum at the bottom right.
    await initBackend('wasm');
    const x = [1, 1, 5, 0, 1, 1, 2, 7];
    // [1, 2, 4, 1]: row 0 = 1 1 5 0, row 1 = 1 1 2 7; windows (cols 0–1) and (cols 2–3).

    // Act
    const dx = tf.tidy(() =>
      tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'), tf.tensor4d([10, 20], [1, 1, 2, 1]))))(tf.tensor4d(x, [1, 2, 4, 1])).dataSync(),
    );

    // Assert
    expect(Array.from(dx)).toEqual([10, 0, 0, 0, 0, 0, 0, 20]);
  });

  const sums: Array<{ shape: number[]; axis: number | number[]; keepDims: boolean }> = [
    { shape: [4, 6, 5, 3], axis: [0, 1, 2], keepDims: false },
    { shape: [7, 3], axis: 0, keepDims: false },
    { shape: [2, 3, 4], axis: [-3, -2], keepDims: false },
    { shape: [4, 6, 5, 3], axis: [0, 1, 2], keepDims: true },
    { shape: [4, 6, 5], axis: [1, 2], keepDims: false },
  ];

  it.each(sums)('Sum of $shape over $axis (keepDims $keepDims) matches the cpu backend', async (c) => {
    // Arrange
    const values = randomValues(size(c.shape), 41);
    const sum = async (backend: 'cpu' | 'wasm'): Promise<{ shape: number[]; values: Float32Array }> => {
      await initBackend(backend);
      return tf.tidy(() => {
        const out = tf.sum(tf.tensor(values, c.shape), c.axis, c.keepDims);
        return { shape: out.shape, values: out.dataSync() as Float32Array };
      });
    };
    const before = tf.memory().numTensors;

    // Act
    const expected = await sum('cpu');
    checkKernelLeaks();
    const actual = await sum('wasm').finally(restoreLeakCheck);

    // Assert
    expect(actual.shape).toEqual(expected.shape);
    expect(relativeError(actual.values, expected.values)).toBeLessThan(1e-5);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('Sum over the leading axes is exact on a hand-checked case', async () => {
    await initBackend('wasm');
    const out = tf.tidy(() => tf.sum(tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8], [2, 2, 2]), [0, 1]).dataSync());
    expect(Array.from(out)).toEqual([16, 20]);
  });

  it('trains the 28×28 CNN on wasm: loss falls on a fixed batch and no tensor leaks per step', async () => {
    // Arrange
    await initBackend('wasm');
    const rng = createRng(7);
    const batch = 16;
    // Label = whether the image's left half is brighter than its right half: learnable by a CNN in a few steps.
    const pixels = Float32Array.from({ length: batch * 28 * 28 }, () => rng());
    const labels = Float32Array.from({ length: batch }, (_, i) => i % 2);
    for (let b = 0; b < batch; b++) {
      for (let p = 0; p < 28 * 28; p++) {
        const left = p % 28 < 14;
        if (left === (labels[b] === 1)) pixels[b * 784 + p] += 1;
      }
    }
    const x = tf.tensor4d(pixels, [batch, 28, 28, 1]);
    const y = tf.tensor2d(labels, [batch, 1]);
    const model = buildCnn();
    const optimizer = tf.train.adam(1e-3);
    const lossOf = (): tf.Scalar => tf.losses.sigmoidCrossEntropy(y, model.predict(x) as tf.Tensor) as tf.Scalar;
    const step = (): number =>
      tf.tidy(() => {
        const loss = optimizer.minimize(lossOf, true);
        return loss === null ? Number.NaN : loss.dataSync()[0];
      });
    step(); // creates Adam's slot variables, which persist by design
    const initial = tf.tidy(() => lossOf().dataSync()[0]);

    // Act
    const counts: Array<[number, number]> = [];
    for (let i = 0; i < 8; i++) {
      const before = tf.memory().numTensors;
      step();
      counts.push([before, tf.memory().numTensors]);
    }
    const final = tf.tidy(() => lossOf().dataSync()[0]);

    // Assert
    expect(Number.isFinite(final)).toBe(true);
    expect(final).toBeLessThan(initial * 0.8);
    for (const [before, after] of counts) expect(after).toBe(before);

    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });
});
