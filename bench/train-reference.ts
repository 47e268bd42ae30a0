/**
 * STACK.md's training table, model for model: the four reference models PyTorch was timed on (same layers, batch 32,
 * Adam, one optimizer step; a GAN step is one discriminator and one generator update), built here with TensorFlow.js
 * layers and fed real inputs of the right shape, so that the ratio to PyTorch compares the same model on the same
 * kind of machine. `bench/train.ts` times the studies' own (larger, different) models.
 *
 * Each tfjs-layers model is timed with tfjs's Adam and with HeapAdamOptimizer (what medfed's models use on wasm and
 * cpu), alternating chunks of steps; the figure is the median chunk. `lstm-medfed` is the same LSTM(64) built by
 * medfed's rnn family and trained by its own train() (HeapAdam on wasm). Inputs:
 *   CNN 28×28×1   BreastMNIST images (breast-ultrasound, first site), benign/malignant labels;
 *   LSTM 48×16    the first 16 PhysioNet 2012 channels of icu-mortality's first site, in-hospital death;
 *   AE 100, GAN   the first 100 bits of Tox21 Morgan fingerprints (tox21-gan, first site).
 *
 * Run: node bin/run-ts.js bench/train-reference.ts [--backend wasm] [--seconds 5] [--models cnn,lstm,lstm-medfed,ae,gan]
 */
import * as tf from '@tensorflow/tfjs';
import { ShapedArray, subsetExamples } from '@medfed/data';
import { BackendPreference, createModel, HeapAdamOptimizer, initBackend } from '@medfed/models';
import { datasetDefinition, studyDefinition } from '@medfed/studies';

const BATCH = 32;

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The first site's training inputs of a study. */
function siteTrain(studyName: string) {
  const study = studyDefinition(studyName);
  const spec = study.spec('full');
  return datasetDefinition(study.dataset).load({ path: study.dataDir, site: study.sites[0], partition: study.partition, seed: spec.seed }).prepare(null).train;
}

/** Rows [0, BATCH) of `a`, keeping the first `keep` values of its last axis. */
function firstBatch(a: ShapedArray, keep?: number): tf.Tensor {
  const last = a.shape[a.shape.length - 1];
  const k = keep ?? last;
  const rows = a.shape.slice(1, -1).reduce((p, d) => p * d, 1) * BATCH;
  const out = new Float32Array(rows * k);
  for (let r = 0; r < rows; r++) for (let j = 0; j < k; j++) out[r * k + j] = a.data[r * last + j];
  return tf.tensor(out, [BATCH, ...a.shape.slice(1, -1), k]);
}

/** `a` [n, steps, f] cut to its first `keep` channels. */
function firstChannels(a: ShapedArray, keep: number): ShapedArray {
  const [n, steps, f] = a.shape;
  const out = new Float32Array(n * steps * keep);
  for (let r = 0; r < n * steps; r++) out.set(a.data.subarray(r * f, r * f + keep), r * keep);
  return { shape: [n, steps, keep], data: out };
}

interface Reference {
  name: string;
  pytorch: [number, number];
  /** Builds the model's variables and returns one training step with the given optimizer factory. */
  /** Builds the model and returns one training step with an optimizer from the factory (null: the model's own, {@link createOptimizer}). */
  build(makeOptimizer: (() => tf.Optimizer) | null): { step: () => void | Promise<void>; params: number; dispose: () => void } | null;
}

function dense(units: number, activation: 'relu' | 'sigmoid' | 'linear', inputDim?: number): tf.layers.Layer {
  return tf.layers.dense({ units, activation, ...(inputDim ? { inputShape: [inputDim] } : {}) });
}

function supervised(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, loss: (y: tf.Tensor, p: tf.Tensor) => tf.Scalar, make: (() => tf.Optimizer) | null) {
  if (make === null) return null;
  const optimizer = make();
  return {
    step: () => tf.tidy(() => void optimizer.minimize(() => loss(y, model.apply(x) as tf.Tensor), true)?.dataSync()),
    params: model.countParams(),
    dispose: () => {
      optimizer.dispose();
      model.dispose();
      tf.dispose([x, y]);
    },
  };
}

function references(): Reference[] {
  const bce = (y: tf.Tensor, logits: tf.Tensor) => tf.losses.sigmoidCrossEntropy(y, logits) as tf.Scalar;
  return [
    {
      name: 'cnn',
      pytorch: [1410, 1590],
      build(makeOptimizer) {
        const data = siteTrain('breast-ultrasound');
        const model = tf.sequential();
        model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu' }));
        model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
        model.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu' }));
        model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
        model.add(tf.layers.flatten());
        model.add(dense(128, 'relu'));
        model.add(dense(1, 'linear'));
        return supervised(model, firstBatch(data.inputs.x), firstBatch(data.labels), bce, makeOptimizer);
      },
    },
    {
      name: 'lstm',
      pytorch: [825, 1830],
      build(makeOptimizer) {
        const data = siteTrain('icu-mortality');
        const model = tf.sequential();
        model.add(tf.layers.lstm({ inputShape: [48, 16], units: 64 }));
        model.add(dense(1, 'linear'));
        // Missing measurements are NaN-free here: the loader's values are already imputed and normalised.
        return supervised(model, firstBatch(data.inputs.values, 16), firstBatch(data.labels), bce, makeOptimizer);
      },
    },
    {
      // The same LSTM(64) through medfed's own rnn family (cell 'lstm', no GRU-D decays), trained by its train():
      // its cell also reads the 16 observation masks, so 32 inputs per step where PyTorch's had 16.
      name: 'lstm-medfed',
      pytorch: [825, 1830],
      build(makeOptimizer) {
        if (makeOptimizer !== null) return null;
        const full = siteTrain('icu-mortality');
        const rows = Array.from({ length: BATCH * 4 }, (_, i) => i % full.n);
        const set = subsetExamples(full, rows);
        for (const name of ['values', 'mask', 'delta']) set.inputs[name] = firstChannels(set.inputs[name], 16);
        delete set.inputs.statics;
        const architecture = { cell: 'lstm', units: 64, dropout: 0, inputDecay: false, hiddenDecay: false, deltaInput: false, statics: 0 };
        const model = createModel({ family: 'rnn', inputDim: 48 * 16, inputShape: [48, 16], outputs: 1, architecture }, 1);
        const config = { localSteps: 1, batchSize: BATCH, learningRate: 1e-3, optimizer: 'adam' as const, l2: 0, proximalMu: 0 };
        let seed = 1;
        return {
          step: async () => void (await model.train(set, config, seed++)),
          params: model.getWeights().reduce((t, w) => t + w.data.length, 0),
          dispose: () => model.dispose(),
        };
      },
    },
    {
      name: 'autoencoder',
      pytorch: [47000, 48000],
      build(makeOptimizer) {
        const x = firstBatch(siteTrain('tox21-gan').inputs.x, 100);
        const model = tf.sequential();
        model.add(dense(64, 'relu', 100));
        model.add(dense(32, 'relu'));
        model.add(dense(64, 'relu'));
        model.add(dense(100, 'linear'));
        return supervised(model, x, x, (y, p) => tf.losses.meanSquaredError(y, p) as tf.Scalar, makeOptimizer);
      },
    },
    {
      name: 'gan',
      pytorch: [4700, 7700],
      build(makeOptimizer) {
        if (makeOptimizer === null) return null;
        const real = firstBatch(siteTrain('tox21-gan').inputs.x, 100);
        const g = tf.sequential({ layers: [dense(128, 'relu', 100), dense(256, 'relu'), dense(100, 'sigmoid')] });
        const d = tf.sequential({ layers: [dense(256, 'relu', 100), dense(128, 'relu'), dense(1, 'linear')] });
        const gVars = g.trainableWeights.map((w) => w.read() as tf.Variable);
        const dVars = d.trainableWeights.map((w) => w.read() as tf.Variable);
        const gOpt = makeOptimizer();
        const dOpt = makeOptimizer();
        const ones = tf.ones([BATCH, 1]);
        const zeros = tf.zeros([BATCH, 1]);
        let seed = 1;
        return {
          step: () =>
            tf.tidy(() => {
              const z = tf.randomNormal([BATCH, 100], 0, 1, 'float32', seed++);
              dOpt.minimize(() => {
                const fake = g.apply(z) as tf.Tensor;
                return tf.add(bce(ones, d.apply(real) as tf.Tensor), bce(zeros, d.apply(fake) as tf.Tensor)) as tf.Scalar;
              }, false, dVars);
              gOpt.minimize(() => bce(ones, d.apply(g.apply(z) as tf.Tensor) as tf.Tensor), true, gVars)?.dataSync();
            }),
          params: g.countParams() + d.countParams(),
          dispose: () => {
            gOpt.dispose();
            dOpt.dispose();
            g.dispose();
            d.dispose();
            tf.dispose([real, ones, zeros]);
          },
        };
      },
    },
  ];
}

/** Examples per second of `steps` consecutive steps. */
async function rate(step: () => void | Promise<void>, steps: number): Promise<number> {
  const t = performance.now();
  for (let s = 0; s < steps; s++) await step();
  return (steps * BATCH) / ((performance.now() - t) / 1000);
}

async function main(): Promise<void> {
  const backend = arg('backend', 'wasm') as BackendPreference;
  const seconds = Number(arg('seconds', '5'));
  const wanted = arg('models', 'cnn,lstm,lstm-medfed,ae,gan').split(',').map((m) => (m === 'ae' ? 'autoencoder' : m));
  await initBackend(backend);
  console.log(`backend ${tf.getBackend()}, batch ${BATCH}, Adam; examples/s, median of alternating chunks over ~${seconds} s; PyTorch 1.13 CPU (2 threads) from STACK.md\n`);
  console.log('model          params   tf.train.adam   heap adam   PyTorch        ratio (heap adam / PyTorch midpoint)');
  for (const ref of references().filter((r) => wanted.includes(r.name))) {
    // A tfjs-layers model runs with each optimizer; medfed's own model with the one it picks itself.
    const stock = ref.build(() => tf.train.adam(1e-3));
    const heap = ref.build(() => new HeapAdamOptimizer(1e-3)) ?? ref.build(null);
    if (heap === null) throw new Error(`${ref.name}: no build`);
    // Warm-up (kernel set-up, first allocations), then a chunk size of about 200 ms.
    for (let i = 0; i < 3; i++) {
      await stock?.step();
      await heap.step();
    }
    const chunk = Math.max(2, Math.round((0.2 * (await rate(heap.step, 3))) / BATCH));
    const a: number[] = [];
    const b: number[] = [];
    const until = performance.now() + seconds * 1000;
    while (performance.now() < until || b.length < 5) {
      if (stock) a.push(await rate(stock.step, chunk));
      b.push(await rate(heap.step, chunk));
    }
    const mid = (ref.pytorch[0] + ref.pytorch[1]) / 2;
    console.log(
      `${ref.name.padEnd(12)} ${String(heap.params).padStart(8)} ${(stock ? median(a).toFixed(0) : '—').padStart(15)} ${median(b).toFixed(0).padStart(11)}   ${`${ref.pytorch[0]}–${ref.pytorch[1]}`.padEnd(13)}  ${(median(b) / mid).toFixed(2)}`,
    );
    stock?.dispose();
    heap.dispose();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
