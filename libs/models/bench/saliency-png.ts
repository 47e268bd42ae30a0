/**
 * Trains the 28×28 cnn on the BreastMNIST training set for a few epochs (Adam, batch 32), then writes, for the first
 * few test images, a PNG with the image and its integrated-gradients map side by side (cnnSaliency + saliencyHeatmapPng).
 *
 * Run: node -r @swc-node/register libs/models/bench/saliency-png.ts [outDir=/tmp/medfed-saliency] [steps=120] [images=4]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadBreastMnist } from '@medfed/data';

import { CnnClassifier, cnnFamily, cnnSaliency } from '../src/cnn.model';
import { saliencyHeatmapPng } from '../src/png.writer';
import { initBackend } from '../src/tf-backend.util';

async function main(): Promise<void> {
  const outDir = process.argv[2] ?? '/tmp/medfed-saliency';
  const steps = Number(process.argv[3] ?? 120);
  const count = Number(process.argv[4] ?? 4);
  await initBackend('wasm');
  const data = loadBreastMnist(join(__dirname, '..', '..', '..', 'data', 'breastmnist'));
  const scale = (x: Float32Array): Float32Array => x.map((v) => (v - 0.5) / 0.5);
  const model = cnnFamily.create({ family: 'cnn', inputDim: 784, inputShape: [28, 28, 1], outputs: 1, architecture: { augmentFlip: true } }, 42) as CnnClassifier;
  const train = { n: data.train.n, inputs: { x: { shape: [data.train.n, 28, 28, 1], data: scale(data.train.x) } }, labels: { shape: [data.train.n, 1], data: data.train.y } };
  const outcome = await model.train(train, { localSteps: steps, batchSize: 32, learningRate: 1e-3, optimizer: 'adam', l2: 0, proximalMu: 0 }, 42);
  console.log(`trained ${steps} steps, mean loss ${outcome.meanLoss.toFixed(3)}`);
  mkdirSync(outDir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const image = scale(data.test.x.subarray(i * 784, (i + 1) * 784));
    // Baseline −1 = a black image after scaling (the customary integrated-gradients baseline for images).
    const maps = cnnSaliency(model, image, { steps: 64, baseline: new Float32Array(784).fill(-1) });
    const file = join(outDir, `test-${i}-label-${data.test.y[i]}.png`);
    writeFileSync(file, saliencyHeatmapPng(image, maps.integratedGradients, 28, 28));
    console.log(`${file}: p(benign/normal) = ${(1 / (1 + Math.exp(-maps.logit))).toFixed(3)}`);
  }
  model.dispose();
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
