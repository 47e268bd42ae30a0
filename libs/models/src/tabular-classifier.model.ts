import * as tf from '@tensorflow/tfjs';
import type { ModelSpec, TrainingConfig } from '@medfed/protocol';
import type { TabularSplit } from '@medfed/data';

import { createRng, deriveSeed, Rng, shuffleInPlace } from './seeded-rng.util';
import { assertWeightShapes, assignVariables, readVariables, WeightTensor } from './weights.util';
import { refuseGeneratorOnly, validateTrainingConfig } from './training-config.util';
import { createOptimizer } from './heap-adam.optimizer';

/** Aggregate evaluation statistics: enough to compute accuracy, sensitivity, specificity and mean loss, and to sum across sites. */
export interface EvaluationCounts {
  numExamples: number;
  numCorrect: number;
  /** Sum (not mean) of the per-example binary cross-entropy, in nats. */
  lossSum: number;
  truePositives: number;
  falsePositives: number;
  trueNegatives: number;
  falseNegatives: number;
}

/** What one call to `train` did. */
export interface TrainOutcome {
  /** Training-set size (the FedAvg weight). */
  numExamples: number;
  steps: number;
  /** Mean per-example binary cross-entropy over the batches seen (data term only, without l2/proximal penalties). */
  meanLoss: number;
}

/** Optional extras of one `train` call. */
export interface TrainOptions {
  /**
   * SCAFFOLD's correction c − c_i (server minus site control variate), one tensor per weight tensor in getWeights()
   * order, added to the gradient of every local step (Karimireddy et al. 2020, Algorithm 1 line 10).
   */
  gradientCorrection?: readonly WeightTensor[];
  /**
   * Train only the model's generator side and leave its predictor as it is: a study's generator phase
   * (StudySpec.generatorPhase). Only families with a generator (cgan) accept it; the others throw a RangeError.
   */
  generatorOnly?: boolean;
}

/** A dense layer's variables. */
interface DenseLayer {
  kernel: tf.Variable;
  bias: tf.Variable;
}

/** One batch's tensors, created and disposed inside the step's tidy. */
interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  size: number;
}


function validateSpec(spec: ModelSpec): void {
  if (!Number.isInteger(spec.inputDim) || spec.inputDim < 1) {
    throw new RangeError(`ModelSpec.inputDim must be a positive integer, got ${spec.inputDim}`);
  }
  if (spec.family === 'mlp') {
    const hidden = spec.hidden ?? [];
    if (hidden.length === 0 || hidden.some((h) => !Number.isInteger(h) || h < 1)) {
      throw new RangeError(`ModelSpec.hidden must be one or more positive integers for mlp, got [${hidden}]`);
    }
    const dropout = spec.dropout ?? 0;
    if (!(dropout >= 0 && dropout < 1)) {
      throw new RangeError(`ModelSpec.dropout must be in [0, 1), got ${dropout}`);
    }
  } else if (spec.family !== 'logistic-regression') {
    throw new RangeError(`unknown model family '${String(spec.family)}'`);
  }
}

/** Numerically stable binary cross-entropy from a logit z: softplus(z) − y·z. */
function bceFromLogit(z: number, y: number): number {
  return Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
}

/**
 * A binary classifier for tabular data, built from a ModelSpec: logistic regression (Linear(inputDim, 1) + sigmoid,
 * FLamby's Fed-Heart-Disease model) or an MLP (ReLU hidden layers, optional dropout). Weights are initialised like
 * torch.nn.Linear (U(±1/√fan_in) for kernels and biases), deterministically from a seed.
 * Owns tfjs variables: call dispose() when done.
 */
export class TabularClassifier {
  private readonly layers: DenseLayer[];
  private disposed = false;

  private constructor(
    readonly spec: ModelSpec,
    layers: DenseLayer[],
  ) {
    this.layers = layers;
  }

  /**
   * Builds a model with deterministic initial weights.
   *
   * @param spec the architecture; `inputDim` must match the data.
   * @param seed the same seed always gives the same weights.
   * @throws RangeError on an invalid spec.
   */
  static create(spec: ModelSpec, seed: number): TabularClassifier {
    validateSpec(spec);
    const widths = [spec.inputDim, ...(spec.family === 'mlp' ? (spec.hidden ?? []) : []), 1];
    const rng = createRng(deriveSeed(seed, 0x1a17));
    const uniform = (size: number, bound: number) => {
      const a = new Float32Array(size);
      for (let i = 0; i < size; i++) a[i] = (2 * rng() - 1) * bound;
      return a;
    };
    const layers: DenseLayer[] = [];
    for (let l = 0; l + 1 < widths.length; l++) {
      const [fanIn, fanOut] = [widths[l], widths[l + 1]];
      // torch.nn.Linear's default (kaiming_uniform with a=√5) reduces to U(±1/√fan_in) for both tensors.
      const bound = 1 / Math.sqrt(fanIn);
      layers.push(
        tf.tidy(() => ({
          kernel: tf.variable(tf.tensor2d(uniform(fanIn * fanOut, bound), [fanIn, fanOut]), true),
          bias: tf.variable(tf.tensor1d(uniform(fanOut, bound)), true),
        })),
      );
    }
    return new TabularClassifier({ ...spec }, layers);
  }

  private get variables(): tf.Variable[] {
    this.assertAlive();
    return this.layers.flatMap((l) => [l.kernel, l.bias]);
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('TabularClassifier has been disposed');
  }

  /** Copies of the weights in a stable order: kernel₀ [in, out], bias₀ [out], kernel₁, bias₁, … */
  getWeights(): WeightTensor[] {
    return readVariables(this.variables);
  }

  /**
   * Replaces all weights (e.g. with the global model of a round).
   *
   * @param weights same count, order and shapes as getWeights().
   * @throws RangeError on a count, shape or length mismatch.
   */
  setWeights(weights: readonly WeightTensor[]): void {
    assignVariables(this.variables, weights, 'setWeights');
  }

  /** @throws RangeError unless `weights` has the model's tensor count, order and shapes. */
  private assertShapes(weights: readonly WeightTensor[], what: string): void {
    assertWeightShapes(weights, this.variables.map((v) => v.shape), what);
  }

  /** Logits [n, 1]. Dropout only when `dropoutSeed` is given (training). */
  private logits(x: tf.Tensor2D, dropoutSeed?: number): tf.Tensor2D {
    let h: tf.Tensor2D = x;
    const rate = this.spec.dropout ?? 0;
    this.layers.forEach((layer, l) => {
      h = tf.add(tf.matMul(h, layer.kernel as tf.Tensor2D), layer.bias);
      if (l + 1 < this.layers.length) {
        h = tf.relu(h);
        if (dropoutSeed !== undefined && rate > 0) {
          h = tf.dropout(h, rate, undefined, dropoutSeed + l) as tf.Tensor2D;
        }
      }
    });
    return h;
  }

  /**
   * Runs `config.localSteps` mini-batch updates (FLamby's "local updates"): batches of `batchSize` drawn from
   * epochs reshuffled with a seeded RNG (the last batch of an epoch may be smaller, like torch's DataLoader).
   * Objective per batch: mean BCE + l2·Σ‖kernel‖² + μ/2·‖w − w_global‖² (FedProx, Li et al. 2020, MLSys),
   * with w_global the weights at the start of this call. A fresh optimizer (sgd or adam) is made per call,
   * as a federated site starts each round from the received global model.
   *
   * Logistic regression uses its closed-form gradient (one matMul each way): for a model this small, tfjs's
   * per-op overhead dominates and autodiff would triple the step time. MLPs use autodiff.
   *
   * With `options.gradientCorrection` = c − c_i (SCAFFOLD, Karimireddy et al. 2020), that constant is added to
   * every step's gradient: y ← y − η·(g(y) + c − c_i) under SGD, the update SCAFFOLD's analysis assumes.
   *
   * @param data training rows; `dim` must equal spec.inputDim.
   * @param config the site's training settings.
   * @param seed fixes batch order (and dropout masks).
   * @param options.gradientCorrection one tensor per weight tensor, shaped like getWeights().
   * @throws RangeError on an invalid config, data of the wrong width or a misshapen correction.
   */
  train(data: TabularSplit, config: TrainingConfig, seed: number, options: TrainOptions = {}): TrainOutcome {
    refuseGeneratorOnly(this.spec.family, options);
    validateTrainingConfig(config);
    if (data.dim !== this.spec.inputDim) {
      throw new RangeError(`train: data has dim ${data.dim}, model expects ${this.spec.inputDim}`);
    }
    if (data.n < 1) {
      throw new RangeError('train: data has no rows');
    }
    const vars = this.variables;
    if (options.gradientCorrection !== undefined) {
      this.assertShapes(options.gradientCorrection, 'train: gradientCorrection');
    }
    const optimizer: tf.Optimizer =
      createOptimizer(config.optimizer, config.learningRate);
    const anchors = config.proximalMu > 0 ? vars.map((v) => tf.keep(v.clone())) : [];
    const corrections = (options.gradientCorrection ?? []).map((w, i) => tf.tensor(Float32Array.from(w.data), vars[i].shape));
    const rng = createRng(deriveSeed(seed, 0xba7c));
    const sampler = new BatchSampler(data, config.batchSize, rng);
    const closedForm = this.spec.family === 'logistic-regression';
    let lossSum = 0;
    let seen = 0;
    try {
      for (let s = 0; s < config.localSteps; s++) {
        const { xs, ys, size } = sampler.next();
        const lossTensor = tf.tidy(() => {
          const batch: Batch = { x: tf.tensor2d(xs, [size, data.dim]), y: tf.tensor2d(ys, [size, 1]), size };
          return closedForm
            ? this.logisticStep(batch, config, optimizer, anchors, corrections)
            : this.autodiffStep(batch, config, optimizer, anchors, corrections, deriveSeed(seed, s));
        });
        lossSum += lossTensor.dataSync()[0];
        lossTensor.dispose();
        seen += size;
      }
    } finally {
      optimizer.dispose();
      anchors.forEach((a) => a.dispose());
      corrections.forEach((c) => c.dispose());
    }
    return { numExamples: data.n, steps: config.localSteps, meanLoss: lossSum / seen };
  }

  /** One SGD/Adam step for logistic regression; returns the batch's summed BCE. */
  private logisticStep(
    batch: Batch,
    config: TrainingConfig,
    optimizer: tf.Optimizer,
    anchors: tf.Tensor[],
    corrections: tf.Tensor[],
  ): tf.Scalar {
    const { kernel, bias } = this.layers[0];
    const z = tf.add(tf.matMul(batch.x, kernel as tf.Tensor2D), bias);
    // d(mean BCE)/dz = (σ(z) − y) / batch
    const dz = tf.mul(tf.sub(tf.sigmoid(z), batch.y), 1 / batch.size);
    let dKernel: tf.Tensor = tf.matMul(batch.x, dz, true, false);
    let dBias: tf.Tensor = tf.sum(dz, 0);
    if (config.l2 > 0) {
      dKernel = tf.add(dKernel, tf.mul(kernel, 2 * config.l2));
    }
    if (config.proximalMu > 0) {
      dKernel = tf.add(dKernel, tf.mul(tf.sub(kernel, anchors[0]), config.proximalMu));
      dBias = tf.add(dBias, tf.mul(tf.sub(bias, anchors[1]), config.proximalMu));
    }
    if (corrections.length > 0) {
      dKernel = tf.add(dKernel, corrections[0]);
      dBias = tf.add(dBias, corrections[1]);
    }
    optimizer.applyGradients({ [kernel.name]: dKernel, [bias.name]: dBias });
    return tf.sum(tf.sub(tf.softplus(z), tf.mul(batch.y, z)));
  }

  /** One step by autodiff (any family); returns the batch's summed BCE. */
  private autodiffStep(
    batch: Batch,
    config: TrainingConfig,
    optimizer: tf.Optimizer,
    anchors: tf.Tensor[],
    corrections: tf.Tensor[],
    dropoutSeed: number,
  ): tf.Scalar {
    const vars = this.variables;
    let bceSum: tf.Scalar | undefined;
    const { grads } = tf.variableGrads(() => {
      const z = this.logits(batch.x, dropoutSeed);
      const perExample = tf.sub(tf.softplus(z), tf.mul(batch.y, z));
      // Kept past variableGrads' inner tidy so train() can read the data loss; train() disposes it.
      const kept: tf.Scalar = tf.keep(tf.sum(perExample));
      bceSum = kept;
      let objective: tf.Tensor = tf.div(kept, batch.size);
      if (config.l2 > 0) {
        for (const layer of this.layers) {
          objective = tf.add(objective, tf.mul(tf.sum(tf.square(layer.kernel)), config.l2));
        }
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
   * Predicted probabilities of the positive class.
   *
   * @param x row-major n × inputDim features.
   * @param n number of rows.
   */
  predictProba(x: Float32Array, n: number): Float32Array {
    const z = this.logitsOf(x, n);
    return z.map((v) => 1 / (1 + Math.exp(-v)));
  }

  private logitsOf(x: Float32Array, n: number): Float32Array {
    this.assertAlive();
    const dim = this.spec.inputDim;
    if (x.length < n * dim) {
      throw new RangeError(`expected ${n} × ${dim} = ${n * dim} features, got ${x.length}`);
    }
    if (n === 0) return new Float32Array(0);
    const out = tf.tidy(() => this.logits(tf.tensor2d(x.subarray(0, n * dim), [n, dim])));
    const values = Float32Array.from(out.dataSync() as Float32Array);
    out.dispose();
    return values;
  }

  /**
   * Evaluates on a labelled split: BCE loss sum and confusion counts, predicting positive when p > threshold
   * (FLamby's heart-disease metric uses `y_pred > 0.5`).
   *
   * @param threshold default 0.5.
   */
  evaluate(data: TabularSplit, threshold = 0.5): EvaluationCounts {
    if (data.dim !== this.spec.inputDim) {
      throw new RangeError(`evaluate: data has dim ${data.dim}, model expects ${this.spec.inputDim}`);
    }
    const z = this.logitsOf(data.x, data.n);
    const counts: EvaluationCounts = {
      numExamples: data.n,
      numCorrect: 0,
      lossSum: 0,
      truePositives: 0,
      falsePositives: 0,
      trueNegatives: 0,
      falseNegatives: 0,
    };
    for (let i = 0; i < data.n; i++) {
      const y = data.y[i];
      const positive = 1 / (1 + Math.exp(-z[i])) > threshold;
      counts.lossSum += bceFromLogit(z[i], y);
      if (positive && y === 1) counts.truePositives++;
      else if (positive) counts.falsePositives++;
      else if (y === 1) counts.falseNegatives++;
      else counts.trueNegatives++;
    }
    counts.numCorrect = counts.truePositives + counts.trueNegatives;
    return counts;
  }

  /** Frees the model's tensors. Idempotent; the model is unusable afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.layers.forEach((l) => {
      l.kernel.dispose();
      l.bias.dispose();
    });
    this.disposed = true;
  }
}

/** Draws mini-batches by reshuffled epochs (torch DataLoader(shuffle=True, drop_last=False) semantics). */
class BatchSampler {
  private readonly order: Int32Array;
  private cursor: number;
  private readonly xs: Float32Array;
  private readonly ys: Float32Array;

  constructor(
    private readonly data: TabularSplit,
    private readonly batchSize: number,
    private readonly rng: Rng,
  ) {
    this.order = Int32Array.from({ length: data.n }, (_, i) => i);
    this.cursor = data.n; // forces a shuffle on the first draw
    const size = Math.min(batchSize, data.n);
    this.xs = new Float32Array(size * data.dim);
    this.ys = new Float32Array(size);
  }

  next(): { xs: Float32Array; ys: Float32Array; size: number } {
    if (this.cursor >= this.data.n) {
      shuffleInPlace(this.order, this.rng);
      this.cursor = 0;
    }
    const size = Math.min(this.batchSize, this.data.n - this.cursor);
    const dim = this.data.dim;
    for (let r = 0; r < size; r++) {
      const row = this.order[this.cursor + r];
      this.xs.set(this.data.x.subarray(row * dim, (row + 1) * dim), r * dim);
      this.ys[r] = this.data.y[row];
    }
    this.cursor += size;
    return { xs: this.xs.subarray(0, size * dim), ys: this.ys.subarray(0, size), size };
  }
}
