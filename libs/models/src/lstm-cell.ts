import * as tf from '@tensorflow/tfjs';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/**
 * One LSTM step's gate arithmetic as a single op with its own gradient: from the pre-activations
 * `pre` [n, 4H] (columns i | f | o | g, input and recurrent products already added) and the cell state
 * `c` [n, H], returns [n, 2H] = h' | c' with
 *   i, f, o = σ(·), g = tanh(·), c' = f·c + i·g, h' = o·tanh(c').
 * Written as tensor ops the same step is eleven ops forward and about twenty-five backward, each a kernel
 * call and an allocation; for the small matrices of an RNN step that overhead, not arithmetic, is the
 * cost (bench/train-reference.ts). Here each direction is one JavaScript pass over the rows, so it is
 * for backends whose tensors live in this process (`wasm`, `cpu`, see {@link fusedCellsAvailable}).
 */
export const lstmCellFused = tf.customGrad(((pre: tf.Tensor2D, c: tf.Tensor2D) => {
  const [n, fourH] = pre.shape;
  const H = fourH / 4;
  if (!Number.isInteger(H) || c.shape[0] !== n || c.shape[1] !== H) {
    throw new RangeError(`lstm cell: pre-activations [${pre.shape}] and cell state [${c.shape}] do not fit (expected [n, 4H] and [n, H])`);
  }
  const p = pre.dataSync() as Float32Array;
  const cs = c.dataSync() as Float32Array;
  const out = new Float32Array(n * 2 * H);
  // i, f, o, g and tanh(c') per cell, kept for the backward pass: it then needs no exp or tanh of its own.
  const gates = new Float32Array(n * H * 5);
  for (let r = 0; r < n; r++) {
    const at = r * 4 * H;
    for (let j = 0; j < H; j++) {
      const i = sigmoid(p[at + j]);
      const f = sigmoid(p[at + H + j]);
      const o = sigmoid(p[at + 2 * H + j]);
      const g = Math.tanh(p[at + 3 * H + j]);
      const cNew = f * cs[r * H + j] + i * g;
      const tc = Math.tanh(cNew);
      out[r * 2 * H + j] = o * tc;
      out[r * 2 * H + H + j] = cNew;
      const k = (r * H + j) * 5;
      gates[k] = i;
      gates[k + 1] = f;
      gates[k + 2] = o;
      gates[k + 3] = g;
      gates[k + 4] = tc;
    }
  }
  return {
    value: tf.tensor2d(out, [n, 2 * H]),
    gradFunc: (dy: tf.Tensor2D) => {
      const d = dy.dataSync() as Float32Array;
      const dPre = new Float32Array(n * 4 * H);
      const dC = new Float32Array(n * H);
      for (let r = 0; r < n; r++) {
        const at = r * 4 * H;
        for (let j = 0; j < H; j++) {
          const k = (r * H + j) * 5;
          const [i, f, o, g, tc] = [gates[k], gates[k + 1], gates[k + 2], gates[k + 3], gates[k + 4]];
          const dh = d[r * 2 * H + j];
          // The gradient reaching c' from h' (through tanh) and from the next step (dy's c' half).
          const dcNew = d[r * 2 * H + H + j] + dh * o * (1 - tc * tc);
          dPre[at + j] = dcNew * g * i * (1 - i);
          dPre[at + H + j] = dcNew * cs[r * H + j] * f * (1 - f);
          dPre[at + 2 * H + j] = dh * tc * o * (1 - o);
          dPre[at + 3 * H + j] = dcNew * i * (1 - g * g);
          dC[r * H + j] = dcNew * f;
        }
      }
      return [tf.tensor2d(dPre, [n, 4 * H]), tf.tensor2d(dC, [n, H])];
    },
  };
  // tfjs types customGrad's function as taking a rest list of tensors (and the save function).
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (pre: tf.Tensor2D, c: tf.Tensor2D) => tf.Tensor2D;

/** The same step as tensor ops: what {@link lstmCellFused} replaces, and the path on `native` and `gpu`. */
export function lstmCellOps(pre: tf.Tensor2D, c: tf.Tensor2D): tf.Tensor2D {
  const H = c.shape[1];
  const [ifo, g] = tf.split(pre, [3 * H, H], 1);
  const [i, f, o] = tf.split(tf.sigmoid(ifo), 3, 1);
  const cNew = tf.add(tf.mul(f, c), tf.mul(i, tf.tanh(g)));
  return tf.concat([tf.mul(o, tf.tanh(cNew)), cNew], 1) as tf.Tensor2D;
}

/** Whether the fused cells pay: the backend keeps tensors in this process, so reading them back is a copy, not a device sync. */
export function fusedCellsAvailable(): boolean {
  return ['wasm', 'cpu'].includes(tf.getBackend());
}
