/**
 * What one Adam step costs for each study's model, tfjs's own optimizer (tf.train.adam: about twelve tensor ops
 * per variable) beside the heap optimizer the models use on wasm and cpu (HeapAdamOptimizer: one JavaScript pass
 * per variable), alternating in one run. The variables are the study's `full` model's own weights (shapes and
 * initial values); the gradients are fixed tensors of the same shapes — an optimizer's cost does not depend on
 * their values. `bench/train.ts` gives the whole training step this is part of.
 *
 * Run: node bin/run-ts.js bench/adam.ts [--backend wasm] [--seconds 3]
 */
import * as tf from '@tensorflow/tfjs';
import { BackendPreference, createModel, HeapAdamOptimizer, initBackend } from '@medfed/models';
import { listStudies } from '@medfed/studies';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds per applyGradients, median over timed chunks of `steps` calls. */
function timeSteps(optimizer: tf.Optimizer, grads: tf.NamedTensorMap, steps: number): number {
  const t = performance.now();
  for (let s = 0; s < steps; s++) tf.tidy(() => optimizer.applyGradients(grads));
  return (performance.now() - t) / steps;
}

async function main(): Promise<void> {
  const backend = arg('backend', 'wasm') as BackendPreference;
  const seconds = Number(arg('seconds', '3'));
  await initBackend(backend);
  console.log(`backend ${tf.getBackend()}; ms per optimizer step, median of alternating chunks over ~${seconds} s per model\n`);
  console.log('study                 params  variables  tf.train.adam ms  heap adam ms  speed-up ×');
  for (const study of listStudies()) {
    const model = createModel(study.spec('full').model, 1);
    const weights = model.getWeights();
    model.dispose();
    const vars = weights.map((w, i) => tf.variable(tf.tensor(Float32Array.from(w.data), w.shape), true, `bench-${study.name}-${i}`));
    const grads: tf.NamedTensorMap = {};
    vars.forEach((v, i) => (grads[v.name] = tf.mul(tf.sign(tf.sub(v, tf.mean(v))), 1e-3 * (1 + (i % 3)))));
    const stock = tf.train.adam(1e-3);
    const heap = new HeapAdamOptimizer(1e-3);
    const params = weights.reduce((t, w) => t + w.data.length, 0);
    // Enough calls per chunk for ~50 ms, found on a warm-up.
    timeSteps(stock, grads, 3);
    timeSteps(heap, grads, 3);
    const steps = Math.max(3, Math.round(50 / Math.max(0.01, timeSteps(stock, grads, 3))));
    const a: number[] = [];
    const b: number[] = [];
    const until = performance.now() + seconds * 1000;
    while (performance.now() < until || a.length < 5) {
      a.push(timeSteps(stock, grads, steps));
      b.push(timeSteps(heap, grads, steps));
    }
    const [ms1, ms2] = [median(a), median(b)];
    console.log(
      `${study.name.padEnd(20)} ${String(params).padStart(8)} ${String(vars.length).padStart(10)} ${ms1.toFixed(3).padStart(17)} ${ms2.toFixed(3).padStart(13)} ${(ms1 / ms2).toFixed(2).padStart(11)}`,
    );
    stock.dispose();
    heap.dispose();
    tf.dispose([...vars, ...Object.values(grads)]);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
