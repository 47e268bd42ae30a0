import * as tf from '@tensorflow/tfjs';
import type { ModelSpec, TrainingConfig } from '@medfed/protocol';
import type { ExampleSet, ShapedArray } from '@medfed/data';

import type { FederatedModel, ModelFamilyDefinition } from './federated-model';
import { createRng, deriveSeed, Rng, shuffleInPlace } from './seeded-rng.util';
import type { TrainOptions, TrainOutcome } from './tabular-classifier.model';
import { assertWeightShapes, assignVariables, readVariables, shapeSize, WeightTensor } from './weights.util';
import { refuseGeneratorOnly, validateTrainingConfig } from './training-config.util';
import { createOptimizer } from './heap-adam.optimizer';

/**
 * The CNN's architecture, read from `ModelSpec.architecture` (every field optional, defaults in brackets):
 * - `filters` number[] — output channels of each 3×3 (or `kernelSize`) convolution + ReLU + 2×2 max-pool block [32, 64]
 * - `kernelSize` number — square convolution window [3]
 * - `padding` 'valid' | 'same' — convolution padding ['valid']
 * - `dense` number — width of the hidden dense layer (ReLU) [128]
 * - `dropout` number in [0, 1) — dropout after the flattened features and after the hidden dense layer, training only [0.25]
 * - `augmentFlip` boolean — random horizontal flips of training images [false]
 * - `augmentShift` number — random translation of training images by up to this many pixels (edge pixels repeated) [0]
 * - `testTimeFlip` boolean — `predict` averages the probabilities of each image and its mirror image [false]
 *
 * No batch normalisation, by choice: its moving mean/variance are not trained by gradients, so under FedAvg they are
 * either averaged with the weights (the averaged statistics describe no site's activations when the sites' label mixes
 * differ, as in the `skewed` BreastMNIST split; FedBN, Li et al. ICLR 2021, keeps them local for that reason) or kept
 * local (then the global model has no statistics of its own for evaluation). This shallow network trains stably
 * without it, so the federated weights stay exactly the trainable tensors.
 */
export interface CnnArchitecture {
  filters: number[];
  kernelSize: number;
  padding: 'valid' | 'same';
  dense: number;
  dropout: number;
  augmentFlip: boolean;
  augmentShift: number;
  testTimeFlip: boolean;
}

/** The defaults of {@link CnnArchitecture}: the 28×28 CNN of STACK.md (Conv32-Pool-Conv64-Pool-Dense128-Dense1). */
export const CNN_DEFAULT_ARCHITECTURE: Readonly<CnnArchitecture> = {
  filters: [32, 64],
  kernelSize: 3,
  padding: 'valid',
  dense: 128,
  dropout: 0.25,
  augmentFlip: false,
  augmentShift: 0,
  testTimeFlip: false,
};

/** Examples per forward pass in `predict` (bounds wasm memory, not a model setting). */
const PREDICT_BATCH = 256;

/** A layer's kernel and bias variables. */
interface Layer {
  kernel: tf.Variable;
  bias: tf.Variable;
}

/** Height, width and channels of one example. */
type ImageShape = [number, number, number];

function isIntegerAtLeast(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}

/**
 * Reads and checks the CNN settings of `spec`.
 * @throws RangeError naming the field when a setting is missing, of the wrong type or out of range.
 */
export function cnnArchitectureOf(spec: ModelSpec): CnnArchitecture {
  const a = spec.architecture ?? {};
  const known = new Set(Object.keys(CNN_DEFAULT_ARCHITECTURE));
  const unknown = Object.keys(a).filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new RangeError(`ModelSpec.architecture has setting(s) the cnn family does not know: ${unknown.join(', ')}`);
  }
  const arch: CnnArchitecture = { ...CNN_DEFAULT_ARCHITECTURE, filters: [...CNN_DEFAULT_ARCHITECTURE.filters] };
  if (a['filters'] !== undefined) {
    const f = a['filters'];
    if (!Array.isArray(f) || f.length < 1 || !f.every((v) => isIntegerAtLeast(v, 1))) {
      throw new RangeError(`ModelSpec.architecture.filters must be one or more positive integers, got ${JSON.stringify(f)}`);
    }
    arch.filters = [...f];
  }
  const integer = (key: 'kernelSize' | 'dense' | 'augmentShift', min: number): void => {
    const v = a[key];
    if (v === undefined) return;
    if (!isIntegerAtLeast(v, min)) throw new RangeError(`ModelSpec.architecture.${key} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    arch[key] = v;
  };
  integer('kernelSize', 1);
  integer('dense', 1);
  integer('augmentShift', 0);
  if (a['padding'] !== undefined) {
    if (a['padding'] !== 'valid' && a['padding'] !== 'same') {
      throw new RangeError(`ModelSpec.architecture.padding must be 'valid' or 'same', got ${JSON.stringify(a['padding'])}`);
    }
    arch.padding = a['padding'];
  }
  if (a['dropout'] !== undefined) {
    const d = a['dropout'];
    if (typeof d !== 'number' || !(d >= 0 && d < 1)) throw new RangeError(`ModelSpec.architecture.dropout must be in [0, 1), got ${JSON.stringify(d)}`);
    arch.dropout = d;
  }
  for (const key of ['augmentFlip', 'testTimeFlip'] as const) {
    const v = a[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') throw new RangeError(`ModelSpec.architecture.${key} must be a boolean, got ${JSON.stringify(v)}`);
    arch[key] = v;
  }
  return arch;
}

/** Spatial size after one conv (+ padding) and 2×2 max-pool block. */
function blockOutput(size: number, arch: CnnArchitecture): number {
  const conv = arch.padding === 'same' ? size : size - arch.kernelSize + 1;
  return Math.floor(conv / 2);
}

/**
 * Validates a cnn ModelSpec: `inputShape` [height, width, channels], `inputDim` their product, `outputs` ≥ 1 and
 * an architecture (see {@link CnnArchitecture}) that leaves at least one pixel after the last pooling.
 * @returns the image shape and the checked architecture.
 * @throws RangeError naming the field.
 */
export function validateCnnSpec(spec: ModelSpec): { shape: ImageShape; arch: CnnArchitecture; outputs: number } {
  if (spec.family !== 'cnn') throw new RangeError(`ModelSpec.family must be 'cnn', got '${String(spec.family)}'`);
  const shape = spec.inputShape;
  if (!shape || shape.length !== 3 || !shape.every((d) => isIntegerAtLeast(d, 1))) {
    throw new RangeError(`ModelSpec.inputShape must be [height, width, channels] of positive integers for cnn, got ${JSON.stringify(shape)}`);
  }
  if (spec.inputDim !== shapeSize(shape)) {
    throw new RangeError(`ModelSpec.inputDim must be ${shape.join('×')} = ${shapeSize(shape)} for inputShape [${shape}], got ${spec.inputDim}`);
  }
  const outputs = spec.outputs ?? 1;
  if (!isIntegerAtLeast(outputs, 1)) throw new RangeError(`ModelSpec.outputs must be a positive integer, got ${outputs}`);
  const arch = cnnArchitectureOf(spec);
  let [h, w] = shape;
  for (let block = 0; block < arch.filters.length; block++) {
    [h, w] = [blockOutput(h, arch), blockOutput(w, arch)];
  }
  if (h < 1 || w < 1) {
    throw new RangeError(
      `ModelSpec.architecture: ${arch.filters.length} conv+pool blocks with kernelSize ${arch.kernelSize} (${arch.padding}) leave no pixels of a ${shape[0]}×${shape[1]} input`,
    );
  }
  return { shape: [shape[0], shape[1], shape[2]], arch, outputs };
}


/**
 * A convolutional image classifier for federated training: `filters.length` blocks of convolution + ReLU + 2×2 max
 * pooling, then flatten, dropout, a ReLU dense layer, dropout and a dense layer of `outputs` logits (sigmoid heads).
 * Kernels are He-uniform U(±√(6/fan_in)) (He et al. 2015, for ReLU), the output kernel Glorot-uniform, biases 0,
 * all drawn from a seeded generator, so a seed always gives the same model.
 * Weights (the federated wire order): conv₀ kernel [k, k, c_in, f₀], conv₀ bias [f₀], conv₁ …, dense kernel
 * [flat, dense], dense bias [dense], output kernel [dense, outputs], output bias [outputs].
 * Input: ExampleSet input `x` of shape [n, height, width, channels]. Owns tfjs variables: call dispose().
 */
export class CnnClassifier implements FederatedModel {
  private disposed = false;

  private constructor(
    readonly spec: ModelSpec,
    private readonly shape: ImageShape,
    private readonly arch: CnnArchitecture,
    private readonly convs: Layer[],
    private readonly head: Layer[],
  ) {}

  /**
   * Builds a model with deterministic initial weights.
   * @param spec a cnn ModelSpec (see {@link validateCnnSpec}).
   * @param seed the same seed always gives the same weights.
   * @throws RangeError on an invalid spec.
   */
  static create(spec: ModelSpec, seed: number): CnnClassifier {
    const { shape, arch, outputs } = validateCnnSpec(spec);
    const rng = createRng(deriveSeed(seed, 0xc0417));
    const uniform = (size: number, bound: number): Float32Array => Float32Array.from({ length: size }, () => (2 * rng() - 1) * bound);
    const layer = (kernelShape: number[], fanIn: number, bound: number): Layer =>
      tf.tidy(() => ({
        kernel: tf.variable(tf.tensor(uniform(shapeSize(kernelShape), bound), kernelShape), true),
        bias: tf.variable(tf.zeros([kernelShape[kernelShape.length - 1]]), true),
      }));
    const k = arch.kernelSize;
    let [h, w, c] = shape;
    const convs: Layer[] = [];
    for (const f of arch.filters) {
      const fanIn = k * k * c;
      convs.push(layer([k, k, c, f], fanIn, Math.sqrt(6 / fanIn)));
      [h, w, c] = [blockOutput(h, arch), blockOutput(w, arch), f];
    }
    const flat = h * w * c;
    const head = [layer([flat, arch.dense], flat, Math.sqrt(6 / flat)), layer([arch.dense, outputs], arch.dense, Math.sqrt(6 / (arch.dense + outputs)))];
    return new CnnClassifier({ ...spec, architecture: { ...spec.architecture } }, shape, arch, convs, head);
  }

  private get variables(): tf.Variable[] {
    if (this.disposed) throw new Error('CnnClassifier has been disposed');
    return [...this.convs, ...this.head].flatMap((l) => [l.kernel, l.bias]);
  }

  /** Number of sigmoid outputs. */
  get outputs(): number {
    return this.spec.outputs ?? 1;
  }

  /** Copies of the weights in the fixed order described on the class. */
  getWeights(): WeightTensor[] {
    return readVariables(this.variables);
  }

  /**
   * Replaces all weights (e.g. with the global model of a round).
   * @throws RangeError on a count, shape or length mismatch.
   */
  setWeights(weights: readonly WeightTensor[]): void {
    assignVariables(this.variables, weights, 'setWeights');
  }

  private assertShapes(weights: readonly WeightTensor[], what: string): void {
    assertWeightShapes(weights, this.variables.map((v) => v.shape), what);
  }

  /**
   * Logits [batch, outputs] of images [batch, height, width, channels]. Dropout only when `dropoutSeed` is given
   * (training). Call inside tf.tidy.
   */
  logits(x: tf.Tensor4D, dropoutSeed?: number): tf.Tensor2D {
    let h: tf.Tensor4D = x;
    for (const conv of this.convs) {
      // Fused conv + bias + ReLU: one forward kernel instead of three, and tfjs-core supplies its gradient.
      h = tf.fused.conv2d({ x: h, filter: conv.kernel as tf.Tensor4D, strides: 1, pad: this.arch.padding, bias: conv.bias, activation: 'relu' });
      h = tf.maxPool(h, 2, 2, 'valid');
    }
    const drop = (t: tf.Tensor2D, layer: number): tf.Tensor2D =>
      dropoutSeed !== undefined && this.arch.dropout > 0 ? (tf.dropout(t, this.arch.dropout, undefined, deriveSeed(dropoutSeed, layer)) as tf.Tensor2D) : t;
    let z = drop(tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D, 0);
    const [dense, out] = this.head;
    z = drop(tf.fused.matMul({ a: z, b: dense.kernel as tf.Tensor2D, bias: dense.bias, activation: 'relu' }) as tf.Tensor2D, 1);
    return tf.fused.matMul({ a: z, b: out.kernel as tf.Tensor2D, bias: out.bias }) as tf.Tensor2D;
  }

  /** The images of `set` (input `x`), checked against the model's input shape. */
  imagesOf(set: ExampleSet): ShapedArray {
    const x = set.inputs['x'];
    const expected = [set.n, ...this.shape];
    if (!x || x.shape.length !== 4 || x.shape.some((d, i) => d !== expected[i]) || x.data.length < shapeSize(expected)) {
      throw new RangeError(`a cnn needs input 'x' of shape [${expected.join(', ')}], got ${x ? `[${x.shape.join(', ')}]` : 'none'}`);
    }
    return x;
  }

  private labelsOf(set: ExampleSet): Float32Array {
    if (set.labels.shape.length !== 2 || set.labels.shape[0] !== set.n || set.labels.shape[1] !== this.outputs) {
      throw new RangeError(`labels must have shape [${set.n}, ${this.outputs}], got [${set.labels.shape.join(', ')}]`);
    }
    return set.labels.data;
  }

  /**
   * Runs `config.localSteps` mini-batch steps (batches drawn from seeded, reshuffled epochs; the last batch of an
   * epoch may be smaller), yielding to the event loop between batches. Objective per batch: mean binary cross-entropy
   * over the observed labels (NaN labels are skipped) + l2·Σ‖kernel‖² + μ/2·‖w − w_global‖² (FedProx, Li et al. 2020),
   * w_global = the weights at the start of this call. A fresh sgd/adam optimizer per call, as a site starts every
   * round from the received global model. With `options.gradientCorrection` (SCAFFOLD's c − c_i, Karimireddy et al.
   * 2020) that constant is added to every step's gradient.
   *
   * @param set training examples, input `x` [n, height, width, channels], labels [n, outputs].
   * @param seed fixes batch order, augmentation and dropout masks.
   * @throws RangeError on an invalid config, misshapen data, an empty set or a misshapen correction.
   */
  async train(set: ExampleSet, config: TrainingConfig, seed: number, options: TrainOptions = {}): Promise<TrainOutcome> {
    validateTrainingConfig(config);
    refuseGeneratorOnly('cnn', options);
    const images = this.imagesOf(set);
    const labels = this.labelsOf(set);
    if (set.n < 1) throw new RangeError('train: the training set has no examples');
    const vars = this.variables;
    if (options.gradientCorrection !== undefined) this.assertShapes(options.gradientCorrection, 'train: gradientCorrection');
    const optimizer: tf.Optimizer = createOptimizer(config.optimizer, config.learningRate);
    const anchors = config.proximalMu > 0 ? vars.map((v) => tf.keep(v.clone())) : [];
    const corrections = (options.gradientCorrection ?? []).map((w, i) => tf.tensor(Float32Array.from(w.data), vars[i].shape));
    const sampler = new ImageBatchSampler(images.data, labels, set.n, this.shape, this.outputs, config.batchSize, this.arch, createRng(deriveSeed(seed, 0xba7c)));
    let lossSum = 0;
    let observed = 0;
    try {
      for (let s = 0; s < config.localSteps; s++) {
        if (s > 0) {
          // Lets the node answer heartbeats and write its audit log during a long round.
          await new Promise(setImmediate);
        }
        const batch = sampler.next();
        if (batch.observed === 0) continue;
        const bce = tf.tidy(() => this.step(batch, config, optimizer, anchors, corrections, deriveSeed(seed, s)));
        lossSum += bce.dataSync()[0];
        bce.dispose();
        observed += batch.observed;
      }
    } finally {
      optimizer.dispose();
      tf.dispose(anchors);
      tf.dispose(corrections);
    }
    return { numExamples: set.n, steps: config.localSteps, meanLoss: observed > 0 ? lossSum / observed : Number.NaN };
  }

  /** One optimizer step; returns the batch's summed BCE over observed labels (kept past the tidy). */
  private step(batch: ImageBatch, config: TrainingConfig, optimizer: tf.Optimizer, anchors: tf.Tensor[], corrections: tf.Tensor[], dropoutSeed: number): tf.Scalar {
    const vars = this.variables;
    const x = tf.tensor4d(batch.x, [batch.size, ...this.shape]);
    const y = tf.tensor2d(batch.y, [batch.size, this.outputs]);
    const mask = tf.tensor2d(batch.mask, [batch.size, this.outputs]);
    let bceSum: tf.Scalar | undefined;
    const { grads } = tf.variableGrads(() => {
      const z = this.logits(x, dropoutSeed);
      // softplus(z) − y·z: binary cross-entropy from logits, stable for large |z|.
      const kept: tf.Scalar = tf.keep(tf.sum(tf.mul(tf.sub(tf.softplus(z), tf.mul(y, z)), mask)));
      bceSum = kept;
      let objective: tf.Tensor = tf.div(kept, batch.observed);
      if (config.l2 > 0) {
        for (const layer of [...this.convs, ...this.head]) objective = tf.add(objective, tf.mul(tf.sum(tf.square(layer.kernel)), config.l2));
      }
      if (config.proximalMu > 0) {
        vars.forEach((v, i) => {
          objective = tf.add(objective, tf.mul(tf.sum(tf.square(tf.sub(v, anchors[i]))), config.proximalMu / 2));
        });
      }
      return objective as tf.Scalar;
    }, vars);
    if (corrections.length > 0) {
      vars.forEach((v, i) => {
        grads[v.name] = tf.add(grads[v.name], corrections[i]);
      });
    }
    optimizer.applyGradients(grads);
    return bceSum as unknown as tf.Scalar;
  }

  /**
   * Sigmoid probabilities [n × outputs], row-major, in inference mode (no dropout, no training augmentation); with
   * `testTimeFlip` the mean of the probabilities of each image and its horizontal mirror.
   */
  async predict(set: ExampleSet): Promise<Float32Array> {
    const images = this.imagesOf(set);
    const out = new Float32Array(set.n * this.outputs);
    const pixels = shapeSize(this.shape);
    for (let start = 0; start < set.n; start += PREDICT_BATCH) {
      const size = Math.min(PREDICT_BATCH, set.n - start);
      const p = tf.tidy(() => {
        const x = tf.tensor4d(images.data.subarray(start * pixels, (start + size) * pixels), [size, ...this.shape]);
        const direct = tf.sigmoid(this.logits(x));
        return this.arch.testTimeFlip ? tf.div(tf.add(direct, tf.sigmoid(this.logits(tf.reverse(x, 2)))), 2) : direct;
      });
      out.set(p.dataSync() as Float32Array, start * this.outputs);
      p.dispose();
    }
    return out;
  }

  /** Frees the model's tensors. Idempotent; the model is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    tf.dispose(this.variables);
    this.disposed = true;
  }
}

/** One training batch in plain arrays; NaN labels are 0 with mask 0. */
interface ImageBatch {
  x: Float32Array;
  y: Float32Array;
  mask: Float32Array;
  size: number;
  /** Number of observed (non-NaN) labels in the batch. */
  observed: number;
}

/** Draws augmented image batches by reshuffled epochs (torch DataLoader(shuffle=True, drop_last=False) semantics). */
class ImageBatchSampler {
  private readonly order: Int32Array;
  private cursor: number;
  private readonly pixels: number;

  constructor(
    private readonly images: Float32Array,
    private readonly labels: Float32Array,
    private readonly n: number,
    private readonly shape: ImageShape,
    private readonly outputs: number,
    private readonly batchSize: number,
    private readonly arch: CnnArchitecture,
    private readonly rng: Rng,
  ) {
    this.order = Int32Array.from({ length: n }, (_, i) => i);
    this.cursor = n;
    this.pixels = shapeSize(shape);
  }

  next(): ImageBatch {
    if (this.cursor >= this.n) {
      shuffleInPlace(this.order, this.rng);
      this.cursor = 0;
    }
    const size = Math.min(this.batchSize, this.n - this.cursor);
    const x = new Float32Array(size * this.pixels);
    const y = new Float32Array(size * this.outputs);
    const mask = new Float32Array(size * this.outputs);
    let observed = 0;
    for (let r = 0; r < size; r++) {
      const row = this.order[this.cursor + r];
      this.copyImage(row, x.subarray(r * this.pixels, (r + 1) * this.pixels));
      for (let o = 0; o < this.outputs; o++) {
        const label = this.labels[row * this.outputs + o];
        if (Number.isNaN(label)) continue;
        y[r * this.outputs + o] = label;
        mask[r * this.outputs + o] = 1;
        observed++;
      }
    }
    this.cursor += size;
    return { x, y, mask, size, observed };
  }

  /** Copies image `row` into `target`, flipped and shifted when the architecture asks for augmentation. */
  private copyImage(row: number, target: Float32Array): void {
    const source = this.images.subarray(row * this.pixels, (row + 1) * this.pixels);
    const { augmentFlip, augmentShift } = this.arch;
    if (!augmentFlip && augmentShift === 0) {
      target.set(source);
      return;
    }
    const [h, w, c] = this.shape;
    const flip = augmentFlip && this.rng() < 0.5;
    const dy = augmentShift > 0 ? Math.floor(this.rng() * (2 * augmentShift + 1)) - augmentShift : 0;
    const dx = augmentShift > 0 ? Math.floor(this.rng() * (2 * augmentShift + 1)) - augmentShift : 0;
    for (let i = 0; i < h; i++) {
      // Edge pixels are repeated rather than zero-filled: an ultrasound image's border is not black.
      const si = Math.min(h - 1, Math.max(0, i - dy));
      for (let j = 0; j < w; j++) {
        const jj = Math.min(w - 1, Math.max(0, j - dx));
        const sj = flip ? w - 1 - jj : jj;
        for (let ch = 0; ch < c; ch++) target[(i * w + j) * c + ch] = source[(si * w + sj) * c + ch];
      }
    }
  }
}

/** The `cnn` model family: {@link CnnClassifier} built from a validated ModelSpec. */
export const cnnFamily: ModelFamilyDefinition = {
  family: 'cnn',
  validate(spec: ModelSpec): void {
    validateCnnSpec(spec);
  },
  create: (spec, seed) => CnnClassifier.create(spec, seed),
};

/** Options of {@link cnnSaliency}. */
export interface SaliencyOptions {
  /** Which output head to explain; default 0. */
  output?: number;
  /** Riemann steps of integrated gradients; default 64. */
  steps?: number;
  /** The integrated-gradients baseline image (same length as the image); default all zeros. */
  baseline?: Float32Array;
}

/** Attributions of one image, each a map of the image's size (height × width × channels, row-major). */
export interface SaliencyMaps {
  /** ∂logit/∂pixel at the image (Simonyan et al. 2014, "Deep inside convolutional networks"). */
  gradient: Float32Array;
  /**
   * Integrated gradients (Sundararajan et al. 2017, ICML): (x − x′) ⊙ ∫₀¹ ∂logit(x′ + α(x − x′))/∂x dα, by the midpoint
   * rule over `steps` points. Completeness: the map sums to logit(x) − logit(x′) up to the quadrature error.
   */
  integratedGradients: Float32Array;
  /** The explained output's logit at the image and at the baseline. */
  logit: number;
  baselineLogit: number;
}

/**
 * Gradient saliency and integrated gradients of one output's logit with respect to an input image, for a model of
 * the `cnn` family. Inference mode (no dropout). Runs on whatever tfjs backend is active.
 *
 * @param model a model made by `cnnFamily` (a {@link CnnClassifier}).
 * @param image one image, height × width × channels values as in the ExampleSet's `x`.
 * @throws RangeError when the model is not a CNN, the image or baseline has the wrong size, or an option is out of range.
 */
export function cnnSaliency(model: FederatedModel, image: Float32Array, options: SaliencyOptions = {}): SaliencyMaps {
  if (!(model instanceof CnnClassifier)) throw new RangeError(`saliency needs a cnn model, got family '${String(model.spec.family)}'`);
  const shape = model.spec.inputShape as ImageShape;
  const pixels = shapeSize(shape);
  const output = options.output ?? 0;
  const steps = options.steps ?? 64;
  const baseline = options.baseline ?? new Float32Array(pixels);
  if (image.length !== pixels) throw new RangeError(`saliency: the image has ${image.length} values, the model takes ${pixels} (${shape.join('×')})`);
  if (baseline.length !== pixels) throw new RangeError(`saliency: the baseline has ${baseline.length} values, the model takes ${pixels}`);
  if (!isIntegerAtLeast(output, 0) || output >= model.outputs) throw new RangeError(`saliency: output ${output} is not in [0, ${model.outputs})`);
  if (!isIntegerAtLeast(steps, 1)) throw new RangeError(`saliency: steps must be a positive integer, got ${steps}`);
  const logitOf = (x: tf.Tensor): tf.Tensor1D => tf.squeeze(tf.slice(model.logits(x as tf.Tensor4D), [0, output], [-1, 1]), [1]);
  return tf.tidy(() => {
    const x = tf.tensor4d(image, [1, ...shape]);
    const x0 = tf.tensor4d(baseline, [1, ...shape]);
    const gradient = tf.grad((t: tf.Tensor) => tf.sum(logitOf(t)))(x);
    // All interpolation points in one batch: the logit of each depends only on its own image, so the gradient of the
    // sum holds each point's own gradient.
    const alphas = tf.tensor4d(Float32Array.from({ length: steps }, (_, k) => (k + 0.5) / steps), [steps, 1, 1, 1]);
    const path = tf.add(x0, tf.mul(alphas, tf.sub(x, x0)));
    const pathGradients = tf.grad((t: tf.Tensor) => tf.sum(logitOf(t)))(path);
    const integrated = tf.mul(tf.sub(x, x0), tf.mean(pathGradients, 0, true));
    const ends = logitOf(tf.concat([x, x0], 0)).dataSync();
    return {
      gradient: Float32Array.from(gradient.dataSync() as Float32Array),
      integratedGradients: Float32Array.from(integrated.dataSync() as Float32Array),
      logit: ends[0],
      baselineLogit: ends[1],
    };
  });
}
