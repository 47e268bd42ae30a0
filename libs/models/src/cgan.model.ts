import * as tf from '@tensorflow/tfjs';
import type { ArchitectureValue, ModelSpec, TrainingConfig } from '@medfed/protocol';
import type { ExampleSet } from '@medfed/data';

import type { FederatedModel, ModelFamilyDefinition } from './federated-model';
import { createRng, deriveSeed, Rng, shuffleInPlace } from './seeded-rng.util';
import type { TrainOptions, TrainOutcome } from './tabular-classifier.model';
import { assignVariables, readVariables, WeightTensor } from './weights.util';
import { validateTrainingConfig } from './training-config.util';
import { createOptimizer } from './heap-adam.optimizer';

/** The cgan family's settings, read from `ModelSpec.architecture` (all optional). */
export interface CganArchitecture {
  /** Size of the generator's noise vector z; default 64. */
  latentDim: number;
  /** Hidden widths of the generator G(z, c); default [256]. */
  generatorHidden: number[];
  /** Hidden widths of the discriminator D(x, c); default [256]. */
  discriminatorHidden: number[];
  /** Hidden widths of the multi-task classifier C(x); default [512]. */
  classifierHidden: number[];
  /** Dropout after each hidden layer of C while training, in [0, 1); default 0.3. */
  classifierDropout: number;
  /** Synthetic examples from G added to each classifier batch, as a fraction of the real batch size, in [0, 4]; default 0 (real data only). */
  augment: number;
  /** GAN (one D step, one G step) updates per local step; 0 trains only the classifier; default 1. */
  ganStepsPerStep: number;
  /** Adam learning rate of G and D (β1 = 0.5, Radford et al. 2016); default 2e-4. */
  ganLearningRate: number;
  /**
   * Weight of the auxiliary-classifier term in G's loss: masked BCE of C(G(z, c)) against the condition's labels
   * (AC-GAN, Odena et al. 2017, with the multi-task classifier C as the auxiliary classifier). It makes G's
   * fingerprints carry the label signal C has learnt; 0 = plain conditional GAN. Default 1.
   */
  auxWeight: number;
  /**
   * G's output is sampled to 0/1 bits before D and C see it, with the straight-through gradient (Bengio et al. 2013):
   * D cannot tell real from fake by soft values, and C judges bits like the ones synthetic sets hold. Default true.
   */
  straightThrough: boolean;
}

const DEFAULTS: CganArchitecture = {
  latentDim: 64,
  generatorHidden: [256],
  discriminatorHidden: [256],
  classifierHidden: [512],
  classifierDropout: 0.3,
  augment: 0,
  ganStepsPerStep: 1,
  ganLearningRate: 2e-4,
  auxWeight: 1,
  straightThrough: true,
};

/** The architecture of `spec` with defaults filled in. @throws RangeError naming the first invalid field. */
export function cganArchitecture(spec: ModelSpec): CganArchitecture {
  const a: Record<string, ArchitectureValue> = spec.architecture ?? {};
  const known = new Set(Object.keys(DEFAULTS));
  const unknown = Object.keys(a).filter((k) => !known.has(k));
  if (unknown.length > 0) throw new RangeError(`cgan: unknown architecture field(s) ${unknown.join(', ')}`);
  const int = (name: keyof CganArchitecture, min: number, max: number): number => {
    const v = a[name] ?? DEFAULTS[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new RangeError(`cgan: architecture.${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return v;
  };
  const real = (name: keyof CganArchitecture, min: number, max: number, openMax = false): number => {
    const v = a[name] ?? DEFAULTS[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (openMax && v === max)) {
      throw new RangeError(`cgan: architecture.${name} must be a number in [${min}, ${max}${openMax ? ')' : ']'}, got ${JSON.stringify(v)}`);
    }
    return v;
  };
  const flag = (name: keyof CganArchitecture): boolean => {
    const v = a[name] ?? DEFAULTS[name];
    if (typeof v !== 'boolean') throw new RangeError(`cgan: architecture.${name} must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };
  const widths = (name: keyof CganArchitecture): number[] => {
    const v = a[name] ?? DEFAULTS[name];
    if (!Array.isArray(v) || v.length === 0 || v.some((w) => !Number.isInteger(w) || w < 1 || w > 4096)) {
      throw new RangeError(`cgan: architecture.${name} must be a non-empty list of integers in [1, 4096], got ${JSON.stringify(v)}`);
    }
    return [...v];
  };
  return {
    latentDim: int('latentDim', 1, 1024),
    generatorHidden: widths('generatorHidden'),
    discriminatorHidden: widths('discriminatorHidden'),
    classifierHidden: widths('classifierHidden'),
    classifierDropout: real('classifierDropout', 0, 1, true),
    augment: real('augment', 0, 4),
    ganStepsPerStep: int('ganStepsPerStep', 0, 16),
    ganLearningRate: real('ganLearningRate', 1e-6, 1),
    auxWeight: real('auxWeight', 0, 100),
    straightThrough: flag('straightThrough'),
  };
}

function validateCganSpec(spec: ModelSpec): void {
  if (spec.family !== 'cgan') throw new RangeError(`cgan: ModelSpec.family must be 'cgan', got '${String(spec.family)}'`);
  if (!Number.isInteger(spec.inputDim) || spec.inputDim < 1) throw new RangeError(`cgan: ModelSpec.inputDim must be a positive integer, got ${spec.inputDim}`);
  const outputs = spec.outputs ?? 1;
  if (!Number.isInteger(outputs) || outputs < 1) throw new RangeError(`cgan: ModelSpec.outputs must be a positive integer, got ${spec.outputs}`);
  cganArchitecture(spec);
}


interface Dense {
  kernel: tf.Variable;
  bias: tf.Variable;
}

/** Logit of the generator's initial output bias: fingerprints are sparse (≈ 3 % of 1024 Morgan bits are set). */
const GENERATOR_BIAS_INIT = -3.5;
/** Prior probabilities are clipped into [ε, 1 − ε] before use, since FedAvg (or DP noise) may push them out of [0, 1]. */
const PRIOR_EPS = 1e-3;

/** Options of generateSyntheticFingerprints. */
export interface SyntheticOptions {
  /**
   * Each assay's label is drawn positive with probability max(prior, minPositiveRate), independently: raising
   * rare assays gives a classifier trained on the synthetic set enough positives. Default 0.1.
   */
  minPositiveRate?: number;
  /** Draw 0/1 bits from G's per-bit probabilities (like real fingerprints); false keeps the probabilities. Default true. */
  sampleBits?: boolean;
}

/**
 * A conditional GAN for molecular fingerprints (Mirza & Osindero 2014, "Conditional Generative Adversarial Nets")
 * beside a multi-task classifier, as one federated model:
 * - C(x): ReLU MLP → `outputs` sigmoid heads, trained with binary cross-entropy masked to the observed labels
 *   (DeepChem's multitask network; missing Tox21 labels are NaN and carry no loss);
 * - G(z, c): z ~ N(0, I) and the label condition c → per-bit probabilities (sigmoid);
 * - D(x, c): fingerprint and condition → real/fake logit; non-saturating GAN loss (Goodfellow et al. 2014),
 *   Adam with β1 = 0.5 (Radford et al. 2016); G's loss also has an auxiliary-classifier term, C(G(z, c)) against
 *   the labels (AC-GAN, Odena et al. 2017, with C as the auxiliary classifier; `auxWeight`).
 * The condition c is the label vector with missing labels replaced by the assay's prior (its positive rate), kept
 * as a weight tensor: each site sets it to its training split's positive rates, so FedAvg makes it the pooled rate.
 * Weights, in this fixed order: C (kernel, bias per layer), G (…), D (…), prior [outputs].
 */
export class CganModel implements FederatedModel {
  private disposed = false;

  private constructor(
    readonly spec: ModelSpec,
    readonly architecture: CganArchitecture,
    private readonly classifier: Dense[],
    private readonly generator: Dense[],
    private readonly discriminator: Dense[],
    private readonly prior: tf.Variable,
  ) {}

  /**
   * Builds the three networks with deterministic initial weights (torch.nn.Linear's U(±1/√fan_in)) and a prior of 0.5.
   * @throws RangeError on an invalid spec
   */
  static create(spec: ModelSpec, seed: number): CganModel {
    validateCganSpec(spec);
    const arch = cganArchitecture(spec);
    const heads = spec.outputs ?? 1;
    const rng = createRng(deriveSeed(seed, 0xc6a7));
    const stack = (widths: number[], lastBias?: number): Dense[] =>
      widths.slice(0, -1).map((fanIn, l) => {
        const fanOut = widths[l + 1];
        const bound = 1 / Math.sqrt(fanIn);
        const kernel = new Float32Array(fanIn * fanOut).map(() => (2 * rng() - 1) * bound);
        const bias = new Float32Array(fanOut).map(() => (2 * rng() - 1) * bound);
        if (lastBias !== undefined && l === widths.length - 2) bias.fill(lastBias);
        return tf.tidy(() => ({ kernel: tf.variable(tf.tensor2d(kernel, [fanIn, fanOut])), bias: tf.variable(tf.tensor1d(bias)) }));
      });
    const classifier = stack([spec.inputDim, ...arch.classifierHidden, heads]);
    const generator = stack([arch.latentDim + heads, ...arch.generatorHidden, spec.inputDim], GENERATOR_BIAS_INIT);
    const discriminator = stack([spec.inputDim + heads, ...arch.discriminatorHidden, 1]);
    const prior = tf.tidy(() => tf.variable(tf.fill([heads], 0.5), false));
    return new CganModel({ ...spec, architecture: spec.architecture ? { ...spec.architecture } : undefined }, arch, classifier, generator, discriminator, prior);
  }

  get heads(): number {
    return this.spec.outputs ?? 1;
  }

  private get variables(): tf.Variable[] {
    if (this.disposed) throw new Error('CganModel has been disposed');
    return [...this.classifier, ...this.generator, ...this.discriminator].flatMap((d) => [d.kernel, d.bias]).concat(this.prior);
  }

  /** Copies of all weights: C, G, D (kernel, bias per layer), then the label prior. */
  getWeights(): WeightTensor[] {
    return readVariables(this.variables);
  }

  /** @throws RangeError when the count or a shape differs from getWeights(). */
  setWeights(weights: readonly WeightTensor[]): void {
    assignVariables(this.variables, weights, 'cgan setWeights');
  }

  /** The label prior (per-assay positive rate), clipped into [1e-3, 1 − 1e-3]. */
  priorRates(): Float32Array {
    return Float32Array.from(this.prior.dataSync() as Float32Array, (p) => Math.min(1 - PRIOR_EPS, Math.max(PRIOR_EPS, Number.isFinite(p) ? p : 0.5)));
  }

  private checkSet(set: ExampleSet, what: string): Float32Array {
    const x = set.inputs['x'];
    if (!x || x.shape.length !== 2 || x.shape[1] !== this.spec.inputDim) {
      throw new RangeError(`cgan ${what}: needs input 'x' of shape [n, ${this.spec.inputDim}], got ${x ? `[${x.shape.join(', ')}]` : 'none'}`);
    }
    if (set.labels.shape.length !== 2 || set.labels.shape[1] !== this.heads) {
      throw new RangeError(`cgan ${what}: labels must be [n, ${this.heads}], got [${set.labels.shape.join(', ')}]`);
    }
    return x.data;
  }

  private static forward(layers: Dense[], input: tf.Tensor2D, hiddenDropout = 0, dropoutSeed?: number): tf.Tensor2D {
    let h = input;
    layers.forEach((layer, l) => {
      h = tf.add(tf.matMul(h, layer.kernel as tf.Tensor2D), layer.bias);
      if (l + 1 < layers.length) {
        h = tf.relu(h);
        if (dropoutSeed !== undefined && hiddenDropout > 0) h = tf.dropout(h, hiddenDropout, undefined, dropoutSeed + l) as tf.Tensor2D;
      }
    });
    return h;
  }

  /** Masked mean BCE of logits z against labels y with NaN = missing: Σ mask·(softplus(z) − y·z) / max(Σ mask, 1). */
  private static maskedBce(z: tf.Tensor2D, y: tf.Tensor2D): { mean: tf.Scalar; sum: tf.Scalar; count: tf.Scalar } {
    const mask = tf.logicalNot(tf.isNaN(y));
    const maskF = tf.cast(mask, 'float32');
    const yClean = tf.where(mask, y, tf.zerosLike(y));
    const sum = tf.sum(tf.mul(maskF, tf.sub(tf.softplus(z), tf.mul(yClean, z)))) as tf.Scalar;
    const count = tf.sum(maskF) as tf.Scalar;
    return { mean: tf.div(sum, tf.maximum(count, 1)) as tf.Scalar, sum, count };
  }

  /** Conditions: labels with NaN replaced by the prior. */
  private conditionOf(y: tf.Tensor2D): tf.Tensor2D {
    const prior = tf.clipByValue(this.prior, PRIOR_EPS, 1 - PRIOR_EPS);
    return tf.where(tf.isNaN(y), tf.mul(tf.onesLike(y), prior), y) as tf.Tensor2D;
  }

  private generate(z: tf.Tensor2D, c: tf.Tensor2D): tf.Tensor2D {
    return tf.sigmoid(CganModel.forward(this.generator, tf.concat([z, c], 1))) as tf.Tensor2D;
  }

  /** Bits drawn from G's probabilities, with the straight-through gradient when the architecture asks for it. */
  private binarized(probs: tf.Tensor2D, seed: number): tf.Tensor2D {
    if (!this.architecture.straightThrough) return probs;
    const u = tf.randomUniform(probs.shape, 0, 1, 'float32', seed);
    return straightThroughBernoulli(probs, u) as tf.Tensor2D;
  }

  private discriminate(x: tf.Tensor2D, c: tf.Tensor2D): tf.Tensor2D {
    return CganModel.forward(this.discriminator, tf.concat([x, c], 1));
  }

  /** Synthetic conditions: independent Bernoulli(max(prior, minRate)) labels from a seeded stream. */
  private sampleLabels(n: number, rng: Rng, minPositiveRate: number): Float32Array {
    const rates = this.priorRates().map((p) => Math.max(p, minPositiveRate));
    const y = new Float32Array(n * this.heads);
    for (let i = 0; i < y.length; i++) y[i] = rng() < rates[i % this.heads] ? 1 : 0;
    return y;
  }

  /**
   * Runs `config.localSteps` local steps: a classifier step on a real mini-batch (plus ⌊augment·batch⌋ synthetic
   * examples from G, labelled with their conditions, when `architecture.augment` > 0), then `ganStepsPerStep`
   * discriminator and generator steps on the same real batch's fingerprints and conditions. C uses the config's
   * optimizer, learning rate and l2 (on its kernels); G and D use Adam(ganLearningRate, β1 = 0.5). FedProx's
   * μ/2·‖w − w_global‖² is added to every network's loss. The prior is first set to this set's positive rates.
   * @throws RangeError on an invalid config, mismatched data, or a SCAFFOLD correction (not supported)
   */
  async train(set: ExampleSet, config: TrainingConfig, seed: number, options: TrainOptions = {}): Promise<TrainOutcome> {
    validateTrainingConfig(config);
    if (options.gradientCorrection !== undefined) {
      throw new RangeError('cgan: SCAFFOLD gradientCorrection is not supported by this family (use fedavg, fedprox or an adaptive strategy)');
    }
    const xData = this.checkSet(set, 'train');
    if (set.n < 1) throw new RangeError('cgan train: the set has no rows');
    const arch = this.architecture;
    const dim = this.spec.inputDim;
    const heads = this.heads;
    const rng = createRng(deriveSeed(seed, 0xba7c));
    const order = Int32Array.from({ length: set.n }, (_, i) => i);
    let cursor = set.n;
    const batchSize = Math.min(config.batchSize, set.n);
    const xs = new Float32Array(batchSize * dim);
    const ys = new Float32Array(batchSize * heads);
    const cVars = this.classifier.flatMap((d) => [d.kernel, d.bias]);
    const gVars = this.generator.flatMap((d) => [d.kernel, d.bias]);
    const dVars = this.discriminator.flatMap((d) => [d.kernel, d.bias]);
    const cOpt: tf.Optimizer = createOptimizer(config.optimizer, config.learningRate);
    const gOpt: tf.Optimizer = createOptimizer('adam', arch.ganLearningRate, 0.5, 0.999);
    const dOpt: tf.Optimizer = createOptimizer('adam', arch.ganLearningRate, 0.5, 0.999);
    const anchors = new Map<tf.Variable, tf.Tensor>();
    if (config.proximalMu > 0) for (const v of [...cVars, ...gVars, ...dVars]) anchors.set(v, tf.keep(v.clone()));
    const proximal = (vars: tf.Variable[]): tf.Scalar =>
      vars.reduce((acc, v) => tf.add(acc, tf.sum(tf.square(tf.sub(v, anchors.get(v) as tf.Tensor)))), tf.scalar(0)).mul(config.proximalMu / 2) as tf.Scalar;
    const synthPerBatch = Math.floor(arch.augment * batchSize);
    // Set first, so this round's conditions for missing labels and synthetic labels follow the local positive rates.
    this.setPriorFrom(set);
    let lossSum = 0;
    let labelled = 0;
    try {
      for (let s = 0; s < config.localSteps; s++) {
        if (cursor + batchSize > set.n) {
          shuffleInPlace(order, rng);
          cursor = 0;
        }
        for (let r = 0; r < batchSize; r++) {
          const row = order[cursor + r];
          xs.set(xData.subarray(row * dim, (row + 1) * dim), r * dim);
          ys.set(set.labels.data.subarray(row * heads, (row + 1) * heads), r * heads);
        }
        cursor += batchSize;
        const stepSeed = deriveSeed(seed, s);
        const synthLabels = synthPerBatch > 0 ? this.sampleLabels(synthPerBatch, rng, 0) : undefined;
        const [sum, count] = tf.tidy(() => {
          const x = tf.tensor2d(xs, [batchSize, dim]);
          const y = tf.tensor2d(ys, [batchSize, heads]);
          let cx = x;
          let cy = y;
          if (synthLabels !== undefined) {
            const sy = tf.tensor2d(synthLabels, [synthPerBatch, heads]);
            const probs = this.generate(tf.randomNormal([synthPerBatch, arch.latentDim], 0, 1, 'float32', stepSeed ^ 0x5a5a), sy);
            const bits = tf.cast(tf.less(tf.randomUniform(probs.shape, 0, 1, 'float32', stepSeed ^ 0x3c3c), probs), 'float32');
            cx = tf.concat([x, bits as tf.Tensor2D], 0);
            cy = tf.concat([y, sy], 0);
          }
          let realStats: { sum: tf.Scalar; count: tf.Scalar } | undefined;
          const cStep = tf.variableGrads(() => {
            const z = CganModel.forward(this.classifier, cx, arch.classifierDropout, stepSeed);
            const real = CganModel.maskedBce(z.slice([0, 0], [batchSize, heads]) as tf.Tensor2D, y);
            realStats = { sum: tf.keep(real.sum), count: tf.keep(real.count) };
            let objective: tf.Scalar = CganModel.maskedBce(z, cy).mean;
            if (config.l2 > 0) for (const layer of this.classifier) objective = tf.add(objective, tf.mul(tf.sum(tf.square(layer.kernel)), config.l2));
            if (config.proximalMu > 0) objective = tf.add(objective, proximal(cVars));
            return objective;
          }, cVars);
          cOpt.applyGradients(cStep.grads);
          const stats = realStats as { sum: tf.Scalar; count: tf.Scalar };

          const c = this.conditionOf(y);
          for (let g = 0; g < arch.ganStepsPerStep; g++) {
            const ganSeed = deriveSeed(stepSeed, g);
            const dStep = tf.variableGrads(() => {
              const fake = this.binarized(this.generate(tf.randomNormal([batchSize, arch.latentDim], 0, 1, 'float32', ganSeed), c), ganSeed ^ 0x2b2b);
              const realLogit = this.discriminate(x, c);
              const fakeLogit = this.discriminate(fake, c);
              // BCE(D(x), 1) + BCE(D(G(z)), 0) = softplus(−D(x)) + softplus(D(G(z)))
              let objective = tf.add(tf.mean(tf.softplus(tf.neg(realLogit))), tf.mean(tf.softplus(fakeLogit))) as tf.Scalar;
              if (config.proximalMu > 0) objective = tf.add(objective, proximal(dVars));
              return objective;
            }, dVars);
            dOpt.applyGradients(dStep.grads);
            const gStep = tf.variableGrads(() => {
              const fake = this.binarized(this.generate(tf.randomNormal([batchSize, arch.latentDim], 0, 1, 'float32', ganSeed ^ 0x1f1f), c), ganSeed ^ 0x4d4d);
              // Non-saturating generator loss: BCE(D(G(z)), 1).
              let objective = tf.mean(tf.softplus(tf.neg(this.discriminate(fake, c)))) as tf.Scalar;
              if (arch.auxWeight > 0) objective = tf.add(objective, tf.mul(CganModel.maskedBce(CganModel.forward(this.classifier, fake), y).mean, arch.auxWeight));
              if (config.proximalMu > 0) objective = tf.add(objective, proximal(gVars));
              return objective;
            }, gVars);
            gOpt.applyGradients(gStep.grads);
          }
          return [stats.sum, stats.count];
        });
        lossSum += sum.dataSync()[0];
        labelled += count.dataSync()[0];
        sum.dispose();
        count.dispose();
        // Lets a node's event loop run (heartbeats) between steps.
        if (s % 8 === 7) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } finally {
      cOpt.dispose();
      gOpt.dispose();
      dOpt.dispose();
      anchors.forEach((a) => a.dispose());
    }
    return { numExamples: set.n, steps: config.localSteps, meanLoss: labelled > 0 ? lossSum / labelled : 0 };
  }

  /** Sets the prior to the positive rate of each head among `set`'s observed labels (0.5 where none is observed). */
  private setPriorFrom(set: ExampleSet): void {
    const pos = new Float64Array(this.heads);
    const obs = new Float64Array(this.heads);
    set.labels.data.forEach((v, i) => {
      if (!Number.isNaN(v)) {
        obs[i % this.heads]++;
        pos[i % this.heads] += v;
      }
    });
    const rates = Float32Array.from(pos, (p, k) => (obs[k] > 0 ? p / obs[k] : 0.5));
    tf.tidy(() => this.prior.assign(tf.tensor1d(rates)));
  }

  /** C's probabilities, row-major [set.n × outputs], in inference mode (no dropout). */
  async predict(set: ExampleSet): Promise<Float32Array> {
    const xData = this.checkSet(set, 'predict');
    const dim = this.spec.inputDim;
    const out = new Float32Array(set.n * this.heads);
    const chunk = 1024;
    for (let start = 0; start < set.n; start += chunk) {
      const rows = Math.min(chunk, set.n - start);
      const p = tf.tidy(() => tf.sigmoid(CganModel.forward(this.classifier, tf.tensor2d(xData.subarray(start * dim, (start + rows) * dim), [rows, dim]))));
      out.set(p.dataSync() as Float32Array, start * this.heads);
      p.dispose();
    }
    return out;
  }

  /**
   * `n` synthetic labelled fingerprints from G, reproducibly from `seed`: labels drawn per assay (see
   * SyntheticOptions), then x ~ Bernoulli(G(z, labels)) with z ~ N(0, I).
   */
  generateSynthetic(n: number, seed: number, options: SyntheticOptions = {}): ExampleSet {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`cgan generateSynthetic: n must be a positive integer, got ${n}`);
    const minRate = options.minPositiveRate ?? 0.1;
    if (!(minRate >= 0 && minRate <= 1)) throw new RangeError(`cgan generateSynthetic: minPositiveRate must be in [0, 1], got ${minRate}`);
    const rng = createRng(deriveSeed(seed, 0x5e7d));
    const labels = this.sampleLabels(n, rng, minRate);
    const dim = this.spec.inputDim;
    const x = new Float32Array(n * dim);
    const chunk = 1024;
    for (let start = 0; start < n; start += chunk) {
      const rows = Math.min(chunk, n - start);
      const chunkSeed = deriveSeed(seed, start);
      const t = tf.tidy(() => {
        const probs = this.generate(
          tf.randomNormal([rows, this.architecture.latentDim], 0, 1, 'float32', chunkSeed),
          tf.tensor2d(labels.subarray(start * this.heads, (start + rows) * this.heads), [rows, this.heads]),
        );
        return options.sampleBits === false ? probs : tf.cast(tf.less(tf.randomUniform(probs.shape, 0, 1, 'float32', chunkSeed ^ 0x77), probs), 'float32');
      });
      x.set(t.dataSync() as Float32Array, start * dim);
      t.dispose();
    }
    return { n, inputs: { x: { shape: [n, dim], data: x } }, labels: { shape: [n, this.heads], data: labels } };
  }

  /** Frees all tensors. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.variables.forEach((v) => v.dispose());
    this.disposed = true;
  }
}

/**
 * Bernoulli bits with the straight-through gradient estimator (Bengio, Léonard & Courville 2013): 1[u < p] forward;
 * backward the identity for the probabilities p and zero for the uniform draws u.
 */
export const straightThroughBernoulli: (p: tf.Tensor, u: tf.Tensor) => tf.Tensor = tf.customGrad((...inputs) => {
  const [p, u] = inputs as [tf.Tensor, tf.Tensor];
  return { value: tf.cast(tf.less(u, p), 'float32'), gradFunc: (dy: tf.Tensor) => [dy, tf.zerosLike(u)] };
});

function asCgan(model: FederatedModel, what: string): CganModel {
  if (!(model instanceof CganModel)) throw new RangeError(`${what}: the model is of family '${model.spec.family}', not a cgan`);
  return model;
}

/**
 * `n` synthetic labelled fingerprints from a cgan model's generator, reproducibly from `seed`.
 * @throws RangeError when `model` is not a cgan model or n < 1
 */
export function generateSyntheticFingerprints(model: FederatedModel, n: number, seed: number, options: SyntheticOptions = {}): ExampleSet {
  return asCgan(model, 'generateSyntheticFingerprints').generateSynthetic(n, seed, options);
}

/** Settings of trainClassifierOnSynthetic. */
export interface SyntheticTrainingOptions extends SyntheticOptions {
  /** Synthetic examples generated; default 4096. */
  samples?: number;
  /** Classifier training: default 400 Adam steps of batch 128 at learning rate 1e-3, l2 0. */
  training?: Partial<TrainingConfig>;
}

/**
 * "Train on synthetic, test on real" (Esteban et al. 2017): generates a synthetic set from `model`'s G and trains
 * a fresh classifier C (same architecture, seed-derived initial weights, no GAN steps) on it alone.
 * Deterministic in (`model`'s weights, `seed`). The caller disposes the returned model; predict() gives its C.
 * @throws RangeError when `model` is not a cgan model
 */
export async function trainClassifierOnSynthetic(model: FederatedModel, seed: number, options: SyntheticTrainingOptions = {}): Promise<FederatedModel> {
  const source = asCgan(model, 'trainClassifierOnSynthetic');
  const synthetic = source.generateSynthetic(options.samples ?? 4096, deriveSeed(seed, 1), options);
  const architecture = { ...(source.spec.architecture ?? {}), augment: 0, ganStepsPerStep: 0 };
  const fresh = CganModel.create({ ...source.spec, architecture }, deriveSeed(seed, 2));
  const config: TrainingConfig = { localSteps: 400, batchSize: 128, learningRate: 1e-3, optimizer: 'adam', l2: 0, proximalMu: 0, ...options.training };
  try {
    await fresh.train(synthetic, config, deriveSeed(seed, 3));
  } catch (e) {
    fresh.dispose();
    throw e;
  }
  return fresh;
}

/** The `cgan` model family: conditional GAN + multi-task classifier, for Tox21 fingerprints. */
export const cganFamily: ModelFamilyDefinition = {
  family: 'cgan',
  validate: validateCganSpec,
  create: (spec, seed) => CganModel.create(spec, seed),
};
