/**
 * Per-kernel time of one training step (Adam, batch 32) of the 28×28 cnn family model on the wasm backend with the
 * training kernels, averaged over several steps (tf.profile): shows which kernels to speed up next.
 *
 * Run: node -r @swc-node/register libs/models/bench/profile-cnn.ts [steps=5]
 */
import * as tf from '@tensorflow/tfjs';

import { cnnFamily } from '../src/cnn.model';
import { initBackend } from '../src/tf-backend.util';

async function main(): Promise<void> {
  await initBackend('wasm');
  const reps = Number(process.argv[2] ?? 5);
  const n = 64;
  const model = cnnFamily.create({ family: 'cnn', inputDim: 784, inputShape: [28, 28, 1], outputs: 1 }, 1);
  const set = {
    n,
    inputs: { x: { shape: [n, 28, 28, 1], data: Float32Array.from({ length: n * 784 }, (_, i) => Math.sin(i)) } },
    labels: { shape: [n, 1], data: Float32Array.from({ length: n }, (_, i) => i % 2) },
  };
  const config = { localSteps: 1, batchSize: 32, learningRate: 1e-3, optimizer: 'adam' as const, l2: 0, proximalMu: 0 };
  for (let i = 0; i < 3; i++) await model.train(set, config, i);
  const totals = new Map<string, { ms: number; calls: number }>();
  let wall = 0;
  for (let r = 0; r < reps; r++) {
    const start = performance.now();
    const info = await tf.profile(async () => {
      await model.train(set, config, r);
    });
    wall += performance.now() - start;
    for (const k of info.kernels) {
      const key = `${k.name} ${JSON.stringify(k.inputShapes)}`;
      const entry = totals.get(key) ?? { ms: 0, calls: 0 };
      entry.ms += Number(await k.kernelTimeMs);
      entry.calls++;
      totals.set(key, entry);
    }
  }
  const rows = [...totals.entries()].map(([key, v]) => ({ key, ms: v.ms / reps, calls: v.calls / reps })).sort((a, b) => b.ms - a.ms);
  for (const r of rows.slice(0, 25)) console.log(`${r.ms.toFixed(2).padStart(7)} ms  ×${r.calls}  ${r.key}`);
  console.log(`kernels ${rows.reduce((a, r) => a + r.ms, 0).toFixed(1)} ms of ${(wall / reps).toFixed(1)} ms per step (profiled)`);
  model.dispose();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
