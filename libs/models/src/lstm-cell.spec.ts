import * as tf from '@tensorflow/tfjs';

import { lstmCellFused, lstmCellOps } from './lstm-cell';
import { createRng } from './seeded-rng.util';
import { initBackend } from './tf-backend.util';

function randomValues(size: number, seed: number, scale = 2): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: size }, () => (rng() * 2 - 1) * scale);
}

function maxAbsDifference(a: Float32Array | Int32Array | Uint8Array, b: Float32Array | Int32Array | Uint8Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

type Cell = (pre: tf.Tensor2D, c: tf.Tensor2D) => tf.Tensor2D;

/**
 * Two LSTM steps sharing a recurrent matrix, and a weighted sum of the second step's h and c: its value
 * and its gradients with respect to both steps' inputs, the first cell state and the recurrent matrix —
 * so the gradient passes through c' and h' from one step into the next.
 */
function twoSteps(cell: Cell, n: number, H: number): { value: number; grads: Float32Array[] } {
  return tf.tidy(() => {
    const x1 = tf.tensor2d(randomValues(n * 4 * H, 1), [n, 4 * H]);
    const x2 = tf.tensor2d(randomValues(n * 4 * H, 2), [n, 4 * H]);
    const c0 = tf.tensor2d(randomValues(n * H, 3), [n, H]);
    const U = tf.tensor2d(randomValues(H * 4 * H, 4, 0.5), [H, 4 * H]);
    const weights = tf.tensor2d(randomValues(n * 2 * H, 5), [n, 2 * H]);
    const f = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor, u: tf.Tensor): tf.Scalar => {
      const [h1, c1] = tf.split(cell(a as tf.Tensor2D, c as tf.Tensor2D), 2, 1) as tf.Tensor2D[];
      const second = cell(tf.add(b, tf.matMul(h1, u as tf.Tensor2D)) as tf.Tensor2D, c1);
      return tf.sum(tf.mul(second, weights));
    };
    const { value, grads } = tf.valueAndGrads(f)([x1, x2, c0, U]);
    return { value: value.dataSync()[0], grads: grads.map((g) => g.dataSync() as Float32Array) };
  });
}

describe.each(['wasm', 'cpu'] as const)('lstmCellFused on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it('computes h′ | c′ as the tensor-op cell does', () => {
    const pre = tf.tensor2d(randomValues(3 * 4 * 5, 7), [3, 20]);
    const c = tf.tensor2d(randomValues(3 * 5, 8), [3, 5]);
    const fused = lstmCellFused(pre, c);
    const ops = lstmCellOps(pre, c);
    expect(fused.shape).toEqual([3, 10]);
    expect(maxAbsDifference(fused.dataSync(), ops.dataSync())).toBeLessThan(1e-6);
    // A hand-checked cell: pre-activations 0 give i = f = o = ½, g = 0, so c′ = c/2 and h′ = tanh(c/2)/2.
    const zero = lstmCellFused(tf.zeros([1, 4]), tf.tensor2d([[0.8]])).dataSync();
    expect(zero[1]).toBeCloseTo(0.4, 6);
    expect(zero[0]).toBeCloseTo(Math.tanh(0.4) / 2, 6);
    tf.dispose([pre, c, fused, ops]);
  });

  it('has the gradients of the tensor-op cell, through two chained steps', () => {
    const before = tf.memory().numTensors;
    const fused = twoSteps(lstmCellFused, 4, 6);
    const ops = twoSteps(lstmCellOps, 4, 6);
    expect(tf.memory().numTensors).toBe(before);
    expect(Math.abs(fused.value - ops.value)).toBeLessThan(1e-4);
    expect(fused.grads).toHaveLength(4);
    fused.grads.forEach((g, k) => {
      expect(maxAbsDifference(g, ops.grads[k])).toBeLessThan(1e-5);
      // Not vacuous: every gradient has entries well away from zero.
      expect(Math.max(...Array.from(g, Math.abs))).toBeGreaterThan(0.01);
    });
  });

  it('refuses a cell state that does not fit the pre-activations', () => {
    expect(() => lstmCellFused(tf.zeros([2, 8]), tf.zeros([2, 3]))).toThrow(/pre-activations \[2,8\] and cell state \[2,3\] do not fit/);
    expect(() => lstmCellFused(tf.zeros([2, 6]), tf.zeros([2, 1]))).toThrow(RangeError);
  });
});
