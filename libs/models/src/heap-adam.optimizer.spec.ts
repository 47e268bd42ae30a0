import * as tf from '@tensorflow/tfjs';

import { createOptimizer, HeapAdamOptimizer, LARGE_VARIABLE } from './heap-adam.optimizer';
import { createRng } from './seeded-rng.util';
import { initBackend } from './tf-backend.util';

function randomValues(size: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: size }, () => rng() * 2 - 1);
}

/** Runs `steps` optimizer steps on a least-squares objective of two variables; returns their final values. */
function train(optimizer: tf.Optimizer, steps: number, prefix: string, inputs = 12, outputs = 5): Float32Array[] {
  const [w, b] = tf.tidy(() => [
    tf.variable(tf.tensor2d(randomValues(inputs * outputs, 1), [inputs, outputs]), true, `${prefix}-w`),
    tf.variable(tf.tensor1d(randomValues(outputs, 2)), true, `${prefix}-b`),
  ]);
  const x = tf.tensor2d(randomValues(32 * inputs, 3), [32, inputs]);
  const y = tf.tensor2d(randomValues(32 * outputs, 4), [32, outputs]);
  for (let s = 0; s < steps; s++) {
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, w), b), y))) as tf.Scalar, [w, b]);
      optimizer.applyGradients(grads);
    });
  }
  const out = [w.dataSync().slice() as Float32Array, b.dataSync().slice() as Float32Array];
  tf.dispose([w, b, x, y]);
  optimizer.dispose();
  return out;
}

function maxAbsoluteError(actual: Float32Array, expected: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  return worst;
}

describe.each(['wasm', 'cpu'] as const)('HeapAdamOptimizer on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend);
  });

  it.each([
    [0.01, 0.9, 0.999],
    [0.002, 0.5, 0.999],
  ])('follows tf.train.adam step for step (η=%f, β1=%f, β2=%f)', (lr, beta1, beta2) => {
    const expected = train(tf.train.adam(lr, beta1, beta2), 25, `stock-${backend}-${lr}`);
    const before = tf.memory().numTensors;
    const actual = train(new HeapAdamOptimizer(lr, beta1, beta2), 25, `heap-${backend}-${lr}`);
    expect(tf.memory().numTensors).toBe(before);
    // Float32 rounding differs (tfjs rounds after every op, this loop once): weights of magnitude ~1 that
    // moved by up to 25η agree to 1e-5.
    expect(maxAbsoluteError(actual[0], expected[0])).toBeLessThan(1e-5);
    expect(maxAbsoluteError(actual[1], expected[1])).toBeLessThan(1e-5);
    // And the variables moved: equal results are not two untouched copies of the start.
    expect(maxAbsoluteError(actual[0], randomValues(60, 1))).toBeGreaterThan(10 * lr);
  });

  it(`hands a variable of ${LARGE_VARIABLE} elements or more to tfjs's Adam, beside small ones it updates itself`, () => {
    const [inputs, outputs] = [300, 256];
    expect(inputs * outputs).toBeGreaterThanOrEqual(LARGE_VARIABLE);
    const expected = train(tf.train.adam(0.01), 5, `stock-large-${backend}`, inputs, outputs);
    const actual = train(new HeapAdamOptimizer(0.01), 5, `heap-large-${backend}`, inputs, outputs);
    expect(maxAbsoluteError(actual[0], expected[0])).toBeLessThan(1e-5);
    expect(maxAbsoluteError(actual[1], expected[1])).toBeLessThan(1e-5);
    expect(maxAbsoluteError(actual[0], randomValues(inputs * outputs, 1))).toBeGreaterThan(2 * 0.01);
  });

  it('leaves a tensor that shares the variable buffer at its old values', () => {
    const v = tf.variable(tf.tensor1d([1, 2, 3, 4]), true, `alias-${backend}`);
    const alias = tf.reshape(v, [2, 2]);
    const optimizer = new HeapAdamOptimizer(0.1);
    optimizer.applyGradients({ [v.name]: tf.tensor1d([1, -1, 1, -1]) });
    expect(Array.from(alias.dataSync())).toEqual([1, 2, 3, 4]);
    // The first Adam step moves every weight by η against the gradient's sign (m̂/√v̂ = ±1).
    const moved = Array.from(v.dataSync());
    [0.9, 2.1, 2.9, 4.1].forEach((want, i) => expect(moved[i]).toBeCloseTo(want, 5));
    tf.dispose([v, alias]);
    optimizer.dispose();
  });

  it('refuses an unknown variable and a gradient of the wrong size', () => {
    const v = tf.variable(tf.tensor1d([1, 2]), true, `checked-${backend}`);
    const optimizer = new HeapAdamOptimizer(0.1);
    expect(() => optimizer.applyGradients({ 'no-such-variable': tf.tensor1d([1, 2]) })).toThrow(/no variable named 'no-such-variable'/);
    expect(() => optimizer.applyGradients({ [v.name]: tf.tensor1d([1, 2, 3]) })).toThrow(/gradient of 'checked-.*' is float32 \[3\], variable is \[2\]/);
    expect(Array.from(v.dataSync())).toEqual([1, 2]);
    v.dispose();
    optimizer.dispose();
  });

  it('is what createOptimizer gives for adam here, and SGD stays tfjs’s', () => {
    expect(createOptimizer('adam', 0.01)).toBeInstanceOf(HeapAdamOptimizer);
    expect(createOptimizer('sgd', 0.01)).toBeInstanceOf(tf.SGDOptimizer);
  });
});

describe('HeapAdamOptimizer arguments', () => {
  it.each([
    [0, 0.9, 0.999],
    [0.01, 1, 0.999],
    [0.01, 0.9, -0.1],
    [Number.NaN, 0.9, 0.999],
  ])('refuses η=%f, β1=%f, β2=%f', (lr, b1, b2) => {
    expect(() => new HeapAdamOptimizer(lr, b1, b2)).toThrow(RangeError);
  });
});
