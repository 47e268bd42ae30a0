import * as tf from '@tensorflow/tfjs';
import type { ModelSpec, TrainingConfig } from '@medfed/protocol';
import type { ExampleSet } from '@medfed/data';

import type { FederatedModel, ModelFamilyDefinition } from './federated-model';
import { createRng, deriveSeed, Rng, shuffleInPlace } from './seeded-rng.util';
import type { TrainOptions, TrainOutcome } from './tabular-classifier.model';
import { assertWeightShapes, assignVariables, readVariables, WeightTensor } from './weights.util';
import { refuseGeneratorOnly, validateTrainingConfig } from './training-config.util';
import { createOptimizer } from './heap-adam.optimizer';

/** Architecture settings of the autoencoder family, read from `ModelSpec.architecture`, with their defaults. */
export interface AutoencoderArchitecture {
  /** Width of the encoder's hidden ReLU layer. Default 64. */
  hidden: number;
  /** Width of the bottleneck (the patient representation). Default 16. */
  latent: number;
  /** Denoising: fraction of input features zeroed at random during training (masking noise), in [0, 1). Default 0.1. */
  inputNoise: number;
  /** Weight of the feature-reconstruction MSE next to the medication BCE, ≥ 0. Default 0.1. */
  reconstructionWeight: number;
}

const DEFAULTS: AutoencoderArchitecture = { hidden: 64, latent: 16, inputNoise: 0.1, reconstructionWeight: 0.1 };
// Rows per predict() chunk: keeps peak tensor memory bounded on sites with tens of thousands of patients.
const PREDICT_CHUNK = 8192;

/**
 * The autoencoder's settings with defaults filled in.
 * @throws RangeError naming the field when a value is out of range or of the wrong type
 */
export function autoencoderArchitecture(spec: ModelSpec): AutoencoderArchitecture {
  const a = spec.architecture ?? {};
  const known = new Set(Object.keys(DEFAULTS));
  const unknown = Object.keys(a).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new RangeError(`autoencoder: unknown architecture field(s) ${unknown.join(', ')}`);
  const out = { ...DEFAULTS };
  for (const key of Object.keys(DEFAULTS) as Array<keyof AutoencoderArchitecture>) {
    const v = a[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`autoencoder: architecture.${key} must be a number, got ${JSON.stringify(v)}`);
    out[key] = v;
  }
  for (const key of ['hidden', 'latent'] as const) {
    if (!Number.isInteger(out[key]) || out[key] < 1) throw new RangeError(`autoencoder: architecture.${key} must be a positive integer, got ${out[key]}`);
  }
  if (!(out.inputNoise >= 0 && out.inputNoise < 1)) throw new RangeError(`autoencoder: architecture.inputNoise must be in [0, 1), got ${out.inputNoise}`);
  if (!(out.reconstructionWeight >= 0)) throw new RangeError(`autoencoder: architecture.reconstructionWeight must be ≥ 0, got ${out.reconstructionWeight}`);
  return out;
}

function validateSpec(spec: ModelSpec): void {
  if (spec.family !== 'autoencoder') throw new RangeError(`autoencoder: ModelSpec.family must be 'autoencoder', got '${String(spec.family)}'`);
  if (!Number.isInteger(spec.inputDim) || spec.inputDim < 1) throw new RangeError(`autoencoder: ModelSpec.inputDim must be a positive integer, got ${spec.inputDim}`);
  const outputs = spec.outputs ?? 1;
  if (!Number.isInteger(outputs) || outputs < 1) throw new RangeError(`autoencoder: ModelSpec.outputs must be a positive integer, got ${outputs}`);
  autoencoderArchitecture(spec);
}


interface DenseLayer {
  kernel: tf.Variable;
  bias: tf.Variable;
}

/**
 * A denoising bottleneck autoencoder for treatment recommendation (after Vincent et al. 2008, denoising
 * autoencoders; multi-task as in Miotto et al. 2016, Deep Patient): the patient features `x` [n, inputDim] are
 * corrupted by masking noise, encoded x → ReLU(hidden) → ReLU(latent), and from the latent representation the
 * model both reconstructs the clean features (linear decoder, MSE) and predicts `outputs` sigmoid heads (the
 * medications prescribed). Objective per batch:
 *   Σ BCE over the observed (non-NaN) labels / their count + reconstructionWeight · mean squared error
 *   + l2 · Σ‖kernel‖² + μ/2 · ‖w − w_global‖² (FedProx).
 * A row whose labels are all NaN still trains the representation through the reconstruction term.
 * Weights, in this fixed order (the FedAvg wire order): encoder kernel [in, hidden], bias; bottleneck kernel
 * [hidden, latent], bias; decoder kernel [latent, in], bias; medication head kernel [latent, outputs], bias.
 * Initialised like torch.nn.Linear (U(±1/√fan_in)) from the seed.
 */
export class AutoencoderModel implements FederatedModel {
  private disposed = false;

  private constructor(
    readonly spec: ModelSpec,
    private readonly architecture: AutoencoderArchitecture,
    private readonly layers: { encoder: DenseLayer; bottleneck: DenseLayer; decoder: DenseLayer; head: DenseLayer },
  ) {}

  /**
   * Builds a model with deterministic initial weights.
   * @param spec family 'autoencoder', inputDim = features, outputs = medications
   * @param seed the same seed always gives the same weights
   * @throws RangeError on an invalid spec
   */
  static create(spec: ModelSpec, seed: number): AutoencoderModel {
    validateSpec(spec);
    const arch = autoencoderArchitecture(spec);
    const rng = createRng(deriveSeed(seed, 0xae01));
    const dense = (fanIn: number, fanOut: number): DenseLayer => {
      const bound = 1 / Math.sqrt(fanIn);
      const uniform = (size: number) => Float32Array.from({ length: size }, () => (2 * rng() - 1) * bound);
      return tf.tidy(() => ({
        kernel: tf.variable(tf.tensor2d(uniform(fanIn * fanOut), [fanIn, fanOut]), true),
        bias: tf.variable(tf.tensor1d(uniform(fanOut)), true),
      }));
    };
    const d = spec.inputDim;
    const outputs = spec.outputs ?? 1;
    return new AutoencoderModel({ ...spec }, arch, {
      encoder: dense(d, arch.hidden),
      bottleneck: dense(arch.hidden, arch.latent),
      decoder: dense(arch.latent, d),
      head: dense(arch.latent, outputs),
    });
  }

  private get variables(): tf.Variable[] {
    if (this.disposed) throw new Error('AutoencoderModel has been disposed');
    const { encoder, bottleneck, decoder, head } = this.layers;
    return [encoder, bottleneck, decoder, head].flatMap((l) => [l.kernel, l.bias]);
  }

  private get kernels(): tf.Variable[] {
    return this.variables.filter((_, i) => i % 2 === 0);
  }

  /** Copies of the weights in the fixed order documented on the class. */
  getWeights(): WeightTensor[] {
    return readVariables(this.variables);
  }

  /** @throws RangeError when the count or a shape differs from getWeights(). */
  setWeights(weights: readonly WeightTensor[]): void {
    assignVariables(this.variables, weights, 'setWeights');
  }

  private assertShapes(weights: readonly WeightTensor[], what: string): void {
    assertWeightShapes(weights, this.variables.map((v) => v.shape), what);
  }

  /** The `x` input, checked against the spec. */
  private features(set: ExampleSet): Float32Array {
    const x = set.inputs['x'];
    if (x === undefined) throw new RangeError(`autoencoder: the example set has no input 'x' (has ${Object.keys(set.inputs).join(', ') || 'none'})`);
    if (x.shape.length !== 2 || x.shape[0] !== set.n || x.shape[1] !== this.spec.inputDim) {
      throw new RangeError(`autoencoder: input 'x' is [${x.shape}], expected [${set.n}, ${this.spec.inputDim}]`);
    }
    return x.data;
  }

  /** Latent representation [n, latent] of (possibly corrupted) features. */
  private encode(x: tf.Tensor2D): tf.Tensor2D {
    const { encoder, bottleneck } = this.layers;
    const h = tf.relu(tf.add(tf.matMul(x, encoder.kernel as tf.Tensor2D), encoder.bias)) as tf.Tensor2D;
    return tf.relu(tf.add(tf.matMul(h, bottleneck.kernel as tf.Tensor2D), bottleneck.bias)) as tf.Tensor2D;
  }

  /**
   * Runs `config.localSteps` mini-batch steps (batches from seeded, reshuffled epochs) of the objective
   * documented on the class, with a fresh sgd/adam optimizer per call. With `options.gradientCorrection`
   * (SCAFFOLD's c − c_i) that constant is added to every step's gradient.
   * @returns meanLoss = mean BCE per observed label over the batches seen (data term only)
   * @throws RangeError on an invalid config, mis-shaped inputs/labels, an empty set or a misshapen correction
   */
  async train(set: ExampleSet, config: TrainingConfig, seed: number, options: TrainOptions = {}): Promise<TrainOutcome> {
    validateTrainingConfig(config);
    refuseGeneratorOnly('autoencoder', options);
    const x = this.features(set);
    const outputs = this.spec.outputs ?? 1;
    if (set.labels.shape.length !== 2 || set.labels.shape[0] !== set.n || set.labels.shape[1] !== outputs) {
      throw new RangeError(`autoencoder: labels are [${set.labels.shape}], expected [${set.n}, ${outputs}]`);
    }
    if (set.n < 1) throw new RangeError('autoencoder: train needs at least one example, got 0');
    const vars = this.variables;
    if (options.gradientCorrection !== undefined) this.assertShapes(options.gradientCorrection, 'train: gradientCorrection');
    const optimizer: tf.Optimizer = createOptimizer(config.optimizer, config.learningRate);
    const anchors = config.proximalMu > 0 ? vars.map((v) => tf.keep(v.clone())) : [];
    const corrections = (options.gradientCorrection ?? []).map((w, i) => tf.tensor(Float32Array.from(w.data), vars[i].shape));
    const sampler = new RowSampler(x, set.labels.data, set.n, this.spec.inputDim, outputs, config.batchSize, createRng(deriveSeed(seed, 0xba7c)));
    let bceSum = 0;
    let observed = 0;
    try {
      for (let s = 0; s < config.localSteps; s++) {
        const batch = sampler.next();
        const result = tf.tidy(() => this.step(batch, config, optimizer, anchors, corrections, deriveSeed(seed, s)));
        const [loss] = await result.data();
        result.dispose();
        bceSum += loss;
        observed += batch.observed;
        // Lets a node answer heartbeats during long rounds.
        if (s % 50 === 49) await new Promise((r) => setImmediate(r));
      }
    } finally {
      optimizer.dispose();
      anchors.forEach((a) => a.dispose());
      corrections.forEach((c) => c.dispose());
    }
    return { numExamples: set.n, steps: config.localSteps, meanLoss: observed > 0 ? bceSum / observed : 0 };
  }

  /** One optimizer step; returns the batch's summed BCE over observed labels. */
  private step(
    batch: Batch,
    config: TrainingConfig,
    optimizer: tf.Optimizer,
    anchors: tf.Tensor[],
    corrections: tf.Tensor[],
    noiseSeed: number,
  ): tf.Scalar {
    const vars = this.variables;
    const d = this.spec.inputDim;
    const outputs = this.spec.outputs ?? 1;
    const x = tf.tensor2d(batch.x, [batch.size, d]);
    const y = tf.tensor2d(batch.y, [batch.size, outputs]);
    const mask = tf.tensor2d(batch.mask, [batch.size, outputs]);
    let bce: tf.Scalar | undefined;
    const { grads } = tf.variableGrads(() => {
      const noisy = this.architecture.inputNoise > 0 ? this.maskingNoise(x, noiseSeed) : x;
      const z = this.encode(noisy);
      const logits = tf.add(tf.matMul(z, this.layers.head.kernel as tf.Tensor2D), this.layers.head.bias);
      const perCell = tf.mul(tf.sub(tf.softplus(logits), tf.mul(y, logits)), mask);
      const kept: tf.Scalar = tf.keep(tf.sum(perCell));
      bce = kept;
      let objective: tf.Tensor = tf.div(kept, Math.max(1, batch.observed));
      if (this.architecture.reconstructionWeight > 0) {
        const recon = tf.add(tf.matMul(z, this.layers.decoder.kernel as tf.Tensor2D), this.layers.decoder.bias);
        objective = tf.add(objective, tf.mul(tf.mean(tf.square(tf.sub(recon, x))), this.architecture.reconstructionWeight));
      }
      if (config.l2 > 0) {
        for (const k of this.kernels) objective = tf.add(objective, tf.mul(tf.sum(tf.square(k)), config.l2));
      }
      if (config.proximalMu > 0) {
        vars.forEach((v, i) => {
          objective = tf.add(objective, tf.mul(tf.sum(tf.square(tf.sub(v, anchors[i]))), config.proximalMu / 2));
        });
      }
      return objective as tf.Scalar;
    }, vars);
    if (corrections.length > 0) {
      // A variable the objective does not reach (the decoder when reconstructionWeight = 0) has no gradient; its data gradient is 0.
      vars.forEach((v, i) => (grads[v.name] = tf.add(grads[v.name] ?? tf.zerosLike(v), corrections[i])));
    }
    optimizer.applyGradients(grads);
    return bce as unknown as tf.Scalar;
  }

  /** Zeroes each input cell with probability inputNoise (no rescaling: the decoder must restore the clean value). */
  private maskingNoise(x: tf.Tensor2D, seed: number): tf.Tensor2D {
    const keep = tf.cast(tf.greaterEqual(tf.randomUniform(x.shape, 0, 1, 'float32', seed), this.architecture.inputNoise), 'float32');
    return tf.mul(x, keep) as tf.Tensor2D;
  }

  /** P(prescribed) per output, row-major [n × outputs]; no noise. @throws RangeError on a mis-shaped `x`. */
  async predict(set: ExampleSet): Promise<Float32Array> {
    const x = this.features(set);
    const d = this.spec.inputDim;
    const outputs = this.spec.outputs ?? 1;
    const out = new Float32Array(set.n * outputs);
    for (let start = 0; start < set.n; start += PREDICT_CHUNK) {
      const rows = Math.min(PREDICT_CHUNK, set.n - start);
      const p = tf.tidy(() => {
        const z = this.encode(tf.tensor2d(x.subarray(start * d, (start + rows) * d), [rows, d]));
        return tf.sigmoid(tf.add(tf.matMul(z, this.layers.head.kernel as tf.Tensor2D), this.layers.head.bias));
      });
      out.set(await p.data(), start * outputs);
      p.dispose();
    }
    return out;
  }

  /** Frees the model's tensors. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.variables.forEach((v) => v.dispose());
    this.disposed = true;
  }
}

interface Batch {
  x: Float32Array;
  /** Labels with NaN replaced by 0. */
  y: Float32Array;
  /** 1 where the label is observed. */
  mask: Float32Array;
  size: number;
  observed: number;
}

/** Mini-batches from reshuffled epochs (torch DataLoader(shuffle=True, drop_last=False) semantics). */
class RowSampler {
  private readonly order: Int32Array;
  private cursor: number;

  constructor(
    private readonly x: Float32Array,
    private readonly labels: Float32Array,
    private readonly n: number,
    private readonly d: number,
    private readonly outputs: number,
    private readonly batchSize: number,
    private readonly rng: Rng,
  ) {
    this.order = Int32Array.from({ length: n }, (_, i) => i);
    this.cursor = n;
  }

  next(): Batch {
    if (this.cursor >= this.n) {
      shuffleInPlace(this.order, this.rng);
      this.cursor = 0;
    }
    const size = Math.min(this.batchSize, this.n - this.cursor);
    const { d, outputs } = this;
    const batch: Batch = { x: new Float32Array(size * d), y: new Float32Array(size * outputs), mask: new Float32Array(size * outputs), size, observed: 0 };
    for (let r = 0; r < size; r++) {
      const row = this.order[this.cursor + r];
      batch.x.set(this.x.subarray(row * d, (row + 1) * d), r * d);
      for (let m = 0; m < outputs; m++) {
        const v = this.labels[row * outputs + m];
        if (!Number.isNaN(v)) {
          batch.y[r * outputs + m] = v;
          batch.mask[r * outputs + m] = 1;
          batch.observed++;
        }
      }
    }
    this.cursor += size;
    return batch;
  }
}

/**
 * The `autoencoder` model family: {@link AutoencoderModel}. Spec: inputDim = patient features, outputs = number
 * of medications, architecture {hidden, latent, inputNoise, reconstructionWeight} (see AutoencoderArchitecture).
 */
export const autoencoderFamily: ModelFamilyDefinition = {
  family: 'autoencoder',
  validate: validateSpec,
  create: (spec, seed) => AutoencoderModel.create(spec, seed),
};
