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
  /**
   * 0: G and D work on fingerprint bits. Above 0: they work in the `embeddingDim`-wide latent space of a fingerprint
   * autoencoder trained beside them without labels (the "latent GAN" of Prykhodko et al. 2019): G's output is an
   * embedding, standardised with the set's embedding mean and deviation, G and D use leaky ReLU (0.2), and the
   * auxiliary-classifier term uses a classifier of embeddings trained on the real ones. Synthetic fingerprints are
   * decoded from G's embeddings; "train on synthetic" trains that embedding classifier on synthetic embeddings only.
   * `straightThrough` then has no effect. Default 0.
   */
  embeddingDim: number;
  /** Hidden widths of the autoencoder's encoder (the decoder mirrors them); default [512]. Used when embeddingDim > 0. */
  autoencoderHidden: number[];
  /**
   * With embeddingDim > 0: the first `autoencoderSteps` local steps (counted across rounds, and across a study's
   * generator phase, by a step counter kept with the weights) train the autoencoder and no GAN; after them the
   * autoencoder is frozen and the GAN trains in a latent space that no longer moves. 0 trains both together from
   * the start (and freezes the autoencoder in a generator phase). Default 0.
   */
  autoencoderSteps: number;
  /**
   * Synthetic data comes from an exponential moving average of G's weights with this decay per G step, kept beside G
   * (Yazıcı et al. 2019, "The unusual effectiveness of averaging in GAN training"); 0 = from G itself. Default 0.
   */
  generatorAverage: number;
  /** β2 of G's and D's Adam; default 0.999. */
  ganBeta2: number;
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
  embeddingDim: 0,
  autoencoderHidden: [512],
  autoencoderSteps: 0,
  generatorAverage: 0,
  ganBeta2: 0.999,
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
    embeddingDim: int('embeddingDim', 0, 1024),
    autoencoderHidden: widths('autoencoderHidden'),
    autoencoderSteps: int('autoencoderSteps', 0, 10_000_000),
    generatorAverage: real('generatorAverage', 0, 1, true),
    ganBeta2: real('ganBeta2', 0, 1, true),
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

/** The networks of the latent-space GAN (embeddingDim > 0). */
interface LatentNetworks {
  encoder: Dense[];
  decoder: Dense[];
  /** Multi-task classifier of standardised embeddings: G's auxiliary classifier, and the one "train on synthetic" trains. */
  classifier: Dense[];
  /** Mean and standard deviation of the training set's embeddings, per dimension; set by each train() and averaged by FedAvg. */
  mean: tf.Variable;
  std: tf.Variable;
  /** Local steps trained so far; every site adds the same count per round, so FedAvg keeps it exact. */
  progress: tf.Variable;
}

const variablesOf = (layers: Dense[]): tf.Variable[] => layers.flatMap((d) => [d.kernel, d.bias]);
/** Floor of an embedding dimension's standard deviation, so a constant dimension cannot divide by zero. */
const EMBEDDING_STD_FLOOR = 1e-4;

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
 * Weights, in this fixed order: C (kernel, bias per layer), G (…), D (…), prior [outputs]; then, with embeddingDim > 0,
 * encoder, decoder, embedding classifier (kernel, bias per layer), embedding mean and deviation [embeddingDim], step
 * counter [1]; then, with generatorAverage > 0, the average of G (kernel, bias per layer).
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
    private readonly latent: LatentNetworks | undefined,
    private readonly average: Dense[] | undefined,
    /** 'latent': predict() is the embedding classifier on the encoder's embeddings (a model from trainClassifierOnSynthetic). */
    private readonly predictor: 'classifier' | 'latent' = 'classifier',
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
    const e = arch.embeddingDim;
    const classifier = stack([spec.inputDim, ...arch.classifierHidden, heads]);
    const generator = e > 0 ? stack([arch.latentDim + heads, ...arch.generatorHidden, e]) : stack([arch.latentDim + heads, ...arch.generatorHidden, spec.inputDim], GENERATOR_BIAS_INIT);
    const discriminator = stack([(e > 0 ? e : spec.inputDim) + heads, ...arch.discriminatorHidden, 1]);
    const prior = tf.tidy(() => tf.variable(tf.fill([heads], 0.5), false));
    const latent: LatentNetworks | undefined =
      e > 0
        ? {
            encoder: stack([spec.inputDim, ...arch.autoencoderHidden, e]),
            decoder: stack([e, ...[...arch.autoencoderHidden].reverse(), spec.inputDim], GENERATOR_BIAS_INIT),
            classifier: stack([e, ...arch.classifierHidden, heads]),
            mean: tf.tidy(() => tf.variable(tf.zeros([e]), false)),
            std: tf.tidy(() => tf.variable(tf.ones([e]), false)),
            progress: tf.tidy(() => tf.variable(tf.zeros([1]), false)),
          }
        : undefined;
    const average = arch.generatorAverage > 0 ? generator.map((d) => tf.tidy(() => ({ kernel: tf.variable(d.kernel.clone()), bias: tf.variable(d.bias.clone()) }))) : undefined;
    const copy = { ...spec, architecture: spec.architecture ? { ...spec.architecture } : undefined };
    return new CganModel(copy, arch, classifier, generator, discriminator, prior, latent, average);
  }

  get heads(): number {
    return this.spec.outputs ?? 1;
  }

  private get variables(): tf.Variable[] {
    if (this.disposed) throw new Error('CganModel has been disposed');
    const vars = variablesOf([...this.classifier, ...this.generator, ...this.discriminator]).concat(this.prior);
    if (this.latent) vars.push(...variablesOf([...this.latent.encoder, ...this.latent.decoder, ...this.latent.classifier]), this.latent.mean, this.latent.std, this.latent.progress);
    if (this.average) vars.push(...variablesOf(this.average));
    return vars;
  }

  /** Copies of all weights, in the order of the class comment. */
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

  private static forward(layers: Dense[], input: tf.Tensor2D, hiddenDropout = 0, dropoutSeed?: number, leaky = false): tf.Tensor2D {
    let h = input;
    layers.forEach((layer, l) => {
      h = tf.add(tf.matMul(h, layer.kernel as tf.Tensor2D), layer.bias);
      if (l + 1 < layers.length) {
        h = leaky ? (tf.leakyRelu(h, 0.2) as tf.Tensor2D) : tf.relu(h);
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

  /** G's output: per-bit probabilities, or (embeddingDim > 0) a standardised embedding. */
  private generate(z: tf.Tensor2D, c: tf.Tensor2D, layers: Dense[] = this.generator): tf.Tensor2D {
    const out = CganModel.forward(layers, tf.concat([z, c], 1), 0, undefined, this.latent !== undefined);
    return this.latent ? out : (tf.sigmoid(out) as tf.Tensor2D);
  }

  /** Standardised embeddings of fingerprints x (embeddingDim > 0). */
  private embed(latent: LatentNetworks, x: tf.Tensor2D): tf.Tensor2D {
    return tf.div(tf.sub(tf.tanh(CganModel.forward(latent.encoder, x)), latent.mean), latent.std) as tf.Tensor2D;
  }

  /** Per-bit probabilities of synthetic fingerprints from the average of G when kept, else G; decoded in the latent space. */
  private syntheticProbabilities(z: tf.Tensor2D, c: tf.Tensor2D): tf.Tensor2D {
    const out = this.generate(z, c, this.average ?? this.generator);
    if (!this.latent) return out;
    const embedding = tf.add(tf.mul(out, this.latent.std), this.latent.mean) as tf.Tensor2D;
    return tf.sigmoid(CganModel.forward(this.latent.decoder, embedding)) as tf.Tensor2D;
  }

  /** Bits drawn from G's probabilities, with the straight-through gradient when the architecture asks for it. */
  private binarized(probs: tf.Tensor2D, seed: number): tf.Tensor2D {
    if (!this.architecture.straightThrough) return probs;
    const u = tf.randomUniform(probs.shape, 0, 1, 'float32', seed);
    return straightThroughBernoulli(probs, u) as tf.Tensor2D;
  }

  private discriminate(x: tf.Tensor2D, c: tf.Tensor2D): tf.Tensor2D {
    return CganModel.forward(this.discriminator, tf.concat([x, c], 1), 0, undefined, this.latent !== undefined);
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
   * With `options.generatorOnly` (a study's generator phase) C is not trained, nor augmented, and every local step
   * is one GAN step (plus the embedding classifier's step in a latent space, on embeddings of the set computed once);
   * the reported loss is then D's binary cross-entropy per real and fake example (and the autoencoder's per bit on
   * warm-up steps). In a latent space the set's embedding statistics are taken after the steps, from the autoencoder
   * as it then is; during the steps G and D use those the model arrived with (federated: the sites' average).
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
    const batchSize = Math.min(config.batchSize, set.n);
    const latent = this.latent;
    const generatorOnly = options.generatorOnly === true;
    const progress = latent ? Math.max(0, Math.round(latent.progress.dataSync()[0])) : 0;
    // G and D work in the embedding statistics the model arrived with (federated: the sites' average), so every site
    // standardises its real embeddings into the same coordinates as the shared G; only a new model takes its own.
    // A generator phase past the warm-up has a fixed encoder for the whole call: encode the set once, and G and D
    // train on those embeddings (and the statistics come from them) instead of encoding every batch again.
    const frozenEncoder = latent !== undefined && generatorOnly && progress >= arch.autoencoderSteps;
    const encoded = latent && (progress === 0 || frozenEncoder) ? this.encodeAll(latent, xData, set.n) : null;
    if (latent && encoded && progress === 0) this.setEmbeddingStats(latent, encoded, set.n);
    const embedded = latent && encoded && frozenEncoder ? this.standardised(latent, encoded) : null;
    const nextBatch = embedded
      ? miniBatches(embedded, arch.embeddingDim, set.labels.data, heads, set.n, batchSize, rng)
      : miniBatches(xData, dim, set.labels.data, heads, set.n, batchSize, rng);
    const cVars = variablesOf(this.classifier);
    const gVars = variablesOf(this.generator);
    const dVars = variablesOf(this.discriminator);
    const aeVars = latent ? variablesOf([...latent.encoder, ...latent.decoder]) : [];
    const lcVars = latent ? variablesOf(latent.classifier) : [];
    const averageVars = this.average ? variablesOf(this.average) : [];
    const cOpt: tf.Optimizer = createOptimizer(config.optimizer, config.learningRate);
    const aeOpt = latent ? createOptimizer(config.optimizer, config.learningRate) : undefined;
    const lcOpt = latent ? createOptimizer(config.optimizer, config.learningRate) : undefined;
    const gOpt: tf.Optimizer = createOptimizer('adam', arch.ganLearningRate, 0.5, arch.ganBeta2);
    const dOpt: tf.Optimizer = createOptimizer('adam', arch.ganLearningRate, 0.5, arch.ganBeta2);
    const anchors = new Map<tf.Variable, tf.Tensor>();
    if (config.proximalMu > 0) for (const v of [...cVars, ...gVars, ...dVars, ...aeVars, ...lcVars]) anchors.set(v, tf.keep(v.clone()));
    const proximal = (vars: tf.Variable[]): tf.Scalar =>
      vars.reduce((acc, v) => tf.add(acc, tf.sum(tf.square(tf.sub(v, anchors.get(v) as tf.Tensor)))), tf.scalar(0)).mul(config.proximalMu / 2) as tf.Scalar;
    const synthPerBatch = generatorOnly ? 0 : Math.floor(arch.augment * batchSize);
    // Set first, so this round's conditions for missing labels and synthetic labels follow the local positive rates.
    this.setPriorFrom(set);
    let lossSum = 0;
    let labelled = 0;
    try {
      for (let s = 0; s < config.localSteps; s++) {
        // The warm-up counts steps of both phases; without one, the generator phase freezes the autoencoder trained
        // beside C, so the latent space does not move under G.
        const warmingUp = latent !== undefined && progress + s < arch.autoencoderSteps;
        const autoencoderTrains = latent !== undefined && (arch.autoencoderSteps === 0 ? !generatorOnly : warmingUp);
        const { xs, ys } = nextBatch();
        const stepSeed = deriveSeed(seed, s);
        const synthLabels = synthPerBatch > 0 ? this.sampleLabels(synthPerBatch, rng, 0) : undefined;
        const [sum, count] = tf.tidy(() => {
          const y = tf.tensor2d(ys, [batchSize, heads]);
          // In the fast generator phase the batch already holds (standardised) embeddings, not fingerprints.
          const x = embedded ? null : tf.tensor2d(xs, [batchSize, dim]);
          // The reported loss: C's on the real batch; in a generator phase, D's (and the autoencoder's while warming up).
          // Reported from inside variableGrads' own scopes: kept there, added up and disposed at the end of the step.
          const reported: tf.Scalar[] = [];
          const report = (sumOf: tf.Scalar, countOf: tf.Scalar): void => {
            reported.push(tf.keep(sumOf), tf.keep(countOf));
          };
          if (!generatorOnly && x) {
            let cx = x;
            let cy = y;
            if (synthLabels !== undefined) {
              const sy = tf.tensor2d(synthLabels, [synthPerBatch, heads]);
              const probs = this.syntheticProbabilities(tf.randomNormal([synthPerBatch, arch.latentDim], 0, 1, 'float32', stepSeed ^ 0x5a5a), sy);
              const bits = tf.cast(tf.less(tf.randomUniform(probs.shape, 0, 1, 'float32', stepSeed ^ 0x3c3c), probs), 'float32');
              cx = tf.concat([x, bits as tf.Tensor2D], 0);
              cy = tf.concat([y, sy], 0);
            }
            const cStep = tf.variableGrads(() => {
              const z = CganModel.forward(this.classifier, cx, arch.classifierDropout, stepSeed);
              const real = CganModel.maskedBce(z.slice([0, 0], [batchSize, heads]) as tf.Tensor2D, y);
              report(real.sum, real.count);
              let objective: tf.Scalar = CganModel.maskedBce(z, cy).mean;
              if (config.l2 > 0) for (const layer of this.classifier) objective = tf.add(objective, tf.mul(tf.sum(tf.square(layer.kernel)), config.l2));
              if (config.proximalMu > 0) objective = tf.add(objective, proximal(cVars));
              return objective;
            }, cVars);
            cOpt.applyGradients(cStep.grads);
          }

          // The latent space: an autoencoder step on the real batch, then the embedding classifier on its embeddings.
          if (autoencoderTrains && latent && aeOpt && x) {
            const aeStep = tf.variableGrads(() => {
              const logits = CganModel.forward(latent.decoder, tf.tanh(CganModel.forward(latent.encoder, x)) as tf.Tensor2D);
              const reconstruction = tf.mean(tf.sub(tf.softplus(logits), tf.mul(x, logits))) as tf.Scalar;
              if (generatorOnly) report(reconstruction, tf.scalar(1));
              let objective = reconstruction;
              if (config.proximalMu > 0) objective = tf.add(objective, proximal(aeVars));
              return objective;
            }, aeVars);
            aeOpt.applyGradients(aeStep.grads);
          }
          let real = (embedded ? tf.tensor2d(xs, [batchSize, arch.embeddingDim]) : x) as tf.Tensor2D;
          if (latent && lcOpt && !warmingUp) {
            if (x) real = this.embed(latent, x);
            const embeddings = real;
            const lcStep = tf.variableGrads(() => {
              let objective = CganModel.maskedBce(CganModel.forward(latent.classifier, embeddings, arch.classifierDropout, stepSeed ^ 0x6e6e), y).mean;
              if (config.proximalMu > 0) objective = tf.add(objective, proximal(lcVars));
              return objective;
            }, lcVars);
            lcOpt.applyGradients(lcStep.grads);
          }
          const auxiliary = latent ? latent.classifier : this.classifier;

          const c = this.conditionOf(y);
          // In the generator phase every local step is one GAN step; otherwise ganStepsPerStep (none while warming up).
          const ganSteps = warmingUp ? 0 : generatorOnly ? 1 : arch.ganStepsPerStep;
          for (let g = 0; g < ganSteps; g++) {
            const ganSeed = deriveSeed(stepSeed, g);
            const dStep = tf.variableGrads(() => {
              const generated = this.generate(tf.randomNormal([batchSize, arch.latentDim], 0, 1, 'float32', ganSeed), c);
              const fake = latent ? generated : this.binarized(generated, ganSeed ^ 0x2b2b);
              const realLogit = this.discriminate(real, c);
              const fakeLogit = this.discriminate(fake, c);
              // BCE(D(x), 1) + BCE(D(G(z)), 0) = softplus(−D(x)) + softplus(D(G(z)))
              const bce = tf.add(tf.mean(tf.softplus(tf.neg(realLogit))), tf.mean(tf.softplus(fakeLogit))) as tf.Scalar;
              // Per example over the real and the fake half.
              if (generatorOnly) report(tf.div(bce, 2) as tf.Scalar, tf.scalar(1));
              let objective = bce;
              if (config.proximalMu > 0) objective = tf.add(objective, proximal(dVars));
              return objective;
            }, dVars);
            dOpt.applyGradients(dStep.grads);
            const gStep = tf.variableGrads(() => {
              const generated = this.generate(tf.randomNormal([batchSize, arch.latentDim], 0, 1, 'float32', ganSeed ^ 0x1f1f), c);
              const fake = latent ? generated : this.binarized(generated, ganSeed ^ 0x4d4d);
              // Non-saturating generator loss: BCE(D(G(z)), 1).
              let objective = tf.mean(tf.softplus(tf.neg(this.discriminate(fake, c)))) as tf.Scalar;
              if (arch.auxWeight > 0) objective = tf.add(objective, tf.mul(CganModel.maskedBce(CganModel.forward(auxiliary, fake), y).mean, arch.auxWeight));
              if (config.proximalMu > 0) objective = tf.add(objective, proximal(gVars));
              return objective;
            }, gVars);
            gOpt.applyGradients(gStep.grads);
            const decay = arch.generatorAverage;
            averageVars.forEach((a, j) => a.assign(tf.add(tf.mul(a, decay), tf.mul(gVars[j], 1 - decay))));
          }
          const lossTotal = reported.filter((_, i) => i % 2 === 0).reduce((a: tf.Scalar, b) => tf.add(a, b), tf.scalar(0));
          const lossCount = reported.filter((_, i) => i % 2 === 1).reduce((a: tf.Scalar, b) => tf.add(a, b), tf.scalar(0));
          tf.dispose(reported);
          return [lossTotal, lossCount];
        });
        lossSum += sum.dataSync()[0];
        labelled += count.dataSync()[0];
        sum.dispose();
        count.dispose();
        // Lets a node's event loop run (heartbeats) between steps.
        if (s % 8 === 7) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (latent) {
        tf.tidy(() => latent.progress.assign(tf.tensor1d([progress + config.localSteps])));
        // This set's statistics of the autoencoder as it now is: averaged over the sites, the next round's coordinates.
        this.setEmbeddingStats(latent, frozenEncoder && encoded ? encoded : this.encodeAll(latent, xData, set.n), set.n);
      }
    } finally {
      cOpt.dispose();
      aeOpt?.dispose();
      lcOpt?.dispose();
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

  /** Sets the embedding mean and deviation to those of `x`'s embeddings under the current encoder. */
  /** The standardised embeddings of `n` fingerprints, row-major [n × embeddingDim], encoded 1,024 rows at a time. */
  /** The encoder's outputs tanh(encoder(x)) of `n` fingerprints, row-major [n × embeddingDim], 1,024 rows at a time. */
  private encodeAll(latent: LatentNetworks, x: Float32Array, n: number): Float32Array {
    const dim = this.spec.inputDim;
    const e = this.architecture.embeddingDim;
    const out = new Float32Array(n * e);
    for (let start = 0; start < n; start += 1024) {
      const rows = Math.min(1024, n - start);
      out.set(tf.tidy(() => tf.tanh(CganModel.forward(latent.encoder, tf.tensor2d(x.subarray(start * dim, (start + rows) * dim), [rows, dim]))).dataSync() as Float32Array), start * e);
    }
    return out;
  }

  /** Encoder outputs standardised with the model's current embedding statistics (as `embed` does). */
  private standardised(latent: LatentNetworks, encoded: Float32Array): Float32Array {
    const e = this.architecture.embeddingDim;
    return tf.tidy(() => tf.div(tf.sub(tf.tensor2d(encoded, [encoded.length / e, e]), latent.mean), latent.std).dataSync() as Float32Array);
  }

  /** Sets the embedding mean and deviation to those of `encoded` (encoder outputs of `n` rows). */
  private setEmbeddingStats(latent: LatentNetworks, encoded: Float32Array, n: number): void {
    const e = this.architecture.embeddingDim;
    const sum = new Float64Array(e);
    const sumSq = new Float64Array(e);
    encoded.forEach((v, i) => {
      sum[i % e] += v;
      sumSq[i % e] += v * v;
    });
    const mean = Float32Array.from(sum, (v) => v / n);
    const std = Float32Array.from(sumSq, (v, i) => Math.max(EMBEDDING_STD_FLOOR, Math.sqrt(Math.max(0, v / n - mean[i] * mean[i]))));
    tf.tidy(() => {
      latent.mean.assign(tf.tensor1d(mean));
      latent.std.assign(tf.tensor1d(std));
    });
  }

  /** The probabilities of C (or, for a model from trainClassifierOnSynthetic in the latent space, of the embedding classifier), row-major [set.n × outputs], in inference mode (no dropout). */
  async predict(set: ExampleSet): Promise<Float32Array> {
    const xData = this.checkSet(set, 'predict');
    const dim = this.spec.inputDim;
    const out = new Float32Array(set.n * this.heads);
    const chunk = 1024;
    for (let start = 0; start < set.n; start += chunk) {
      const rows = Math.min(chunk, set.n - start);
      const p = tf.tidy(() => {
        const x = tf.tensor2d(xData.subarray(start * dim, (start + rows) * dim), [rows, dim]);
        const latent = this.predictor === 'latent' ? this.latent : undefined;
        return tf.sigmoid(latent ? CganModel.forward(latent.classifier, this.embed(latent, x)) : CganModel.forward(this.classifier, x));
      });
      out.set(p.dataSync() as Float32Array, start * this.heads);
      p.dispose();
    }
    return out;
  }

  /**
   * `n` synthetic labelled fingerprints, reproducibly from `seed`: labels drawn per assay (see SyntheticOptions), then
   * x ~ Bernoulli(p) with p = G(z, labels), z ~ N(0, I) (the average of G when kept; in the latent space, p is the
   * decoding of G's embedding).
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
        const probs = this.syntheticProbabilities(
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

  /**
   * "Train on synthetic" in the latent space: a copy of this model whose embedding classifier is re-initialised from
   * `seed` and trained only on `samples` synthetic embeddings (from the average of G when kept) with labels drawn as in
   * generateSynthetic; its predict() runs that classifier on the encoder's embeddings of real fingerprints. The encoder
   * never saw a label, so every label signal the copy has comes from G.
   */
  async trainEmbeddingClassifierOnSynthetic(seed: number, options: SyntheticTrainingOptions, config: TrainingConfig): Promise<CganModel> {
    const latent = this.latent;
    if (!latent) throw new RangeError('cgan trainEmbeddingClassifierOnSynthetic: the model has no latent space (embeddingDim 0)');
    validateTrainingConfig(config);
    const n = options.samples ?? 4096;
    const minRate = options.minPositiveRate ?? 0.1;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`cgan trainEmbeddingClassifierOnSynthetic: samples must be a positive integer, got ${n}`);
    const e = this.architecture.embeddingDim;
    const heads = this.heads;
    const rng = createRng(deriveSeed(seed, 0x5e7d));
    const labels = this.sampleLabels(n, rng, minRate);
    const embeddings = new Float32Array(n * e);
    for (let start = 0; start < n; start += 1024) {
      const rows = Math.min(1024, n - start);
      const h = tf.tidy(() =>
        this.generate(
          tf.randomNormal([rows, this.architecture.latentDim], 0, 1, 'float32', deriveSeed(seed, start)),
          tf.tensor2d(labels.subarray(start * heads, (start + rows) * heads), [rows, heads]),
          this.average ?? this.generator,
        ),
      );
      embeddings.set(h.dataSync() as Float32Array, start * e);
      h.dispose();
    }
    // A new model's variables, re-owned by a copy that predicts with the embedding classifier; all but that classifier
    // then take this model's values.
    const init = CganModel.create(this.spec, deriveSeed(seed, 2));
    const copy = new CganModel(init.spec, init.architecture, init.classifier, init.generator, init.discriminator, init.prior, init.latent, init.average, 'latent');
    const fresh = new Set(variablesOf((init.latent as LatentNetworks).classifier));
    const source = this.getWeights();
    tf.tidy(() => copy.variables.forEach((v, i) => fresh.has(v) || v.assign(tf.tensor(source[i].data, source[i].shape))));
    const layers = (copy.latent as LatentNetworks).classifier;
    const optimizer = createOptimizer(config.optimizer, config.learningRate);
    const batch = Math.min(config.batchSize, n);
    const nextBatch = miniBatches(embeddings, e, labels, heads, n, batch, rng);
    try {
      for (let s = 0; s < config.localSteps; s++) {
        const { xs, ys } = nextBatch();
        tf.tidy(() => {
          const x = tf.tensor2d(xs, [batch, e]);
          const y = tf.tensor2d(ys, [batch, heads]);
          const step = tf.variableGrads(() => {
            let objective = CganModel.maskedBce(CganModel.forward(layers, x, this.architecture.classifierDropout, deriveSeed(seed, 3, s)), y).mean;
            if (config.l2 > 0) for (const layer of layers) objective = tf.add(objective, tf.mul(tf.sum(tf.square(layer.kernel)), config.l2));
            return objective;
          }, variablesOf(layers));
          optimizer.applyGradients(step.grads);
        });
        if (s % 8 === 7) await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      copy.dispose();
      throw err;
    } finally {
      optimizer.dispose();
    }
    return copy;
  }

  /** Frees all tensors. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.variables.forEach((v) => v.dispose());
    this.disposed = true;
  }
}

/**
 * Mini-batches of `batch` rows of (x, y), row-major with `xWidth` and `heads` columns, drawn without replacement and
 * reshuffled from `rng` when fewer than a batch remain. Each call refills and returns the same two buffers.
 */
function miniBatches(x: Float32Array, xWidth: number, y: Float32Array, heads: number, n: number, batch: number, rng: Rng): () => { xs: Float32Array; ys: Float32Array } {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const xs = new Float32Array(batch * xWidth);
  const ys = new Float32Array(batch * heads);
  let cursor = n;
  return () => {
    if (cursor + batch > n) {
      shuffleInPlace(order, rng);
      cursor = 0;
    }
    for (let r = 0; r < batch; r++) {
      const row = order[cursor + r];
      xs.set(x.subarray(row * xWidth, (row + 1) * xWidth), r * xWidth);
      ys.set(y.subarray(row * heads, (row + 1) * heads), r * heads);
    }
    cursor += batch;
    return { xs, ys };
  };
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
 * a fresh classifier C (same architecture, seed-derived initial weights, no GAN steps) on it alone; in the latent
 * space (embeddingDim > 0), a fresh embedding classifier on synthetic embeddings (trainEmbeddingClassifierOnSynthetic).
 * Deterministic in (`model`'s weights, `seed`). The caller disposes the returned model; predict() gives its C.
 * @throws RangeError when `model` is not a cgan model
 */
export async function trainClassifierOnSynthetic(model: FederatedModel, seed: number, options: SyntheticTrainingOptions = {}): Promise<FederatedModel> {
  const source = asCgan(model, 'trainClassifierOnSynthetic');
  const config: TrainingConfig = { localSteps: 400, batchSize: 128, learningRate: 1e-3, optimizer: 'adam', l2: 0, proximalMu: 0, ...options.training };
  if (source.architecture.embeddingDim > 0) return source.trainEmbeddingClassifierOnSynthetic(deriveSeed(seed, 1), options, config);
  const synthetic = source.generateSynthetic(options.samples ?? 4096, deriveSeed(seed, 1), options);
  const architecture = { ...(source.spec.architecture ?? {}), augment: 0, ganStepsPerStep: 0 };
  const fresh = CganModel.create({ ...source.spec, architecture }, deriveSeed(seed, 2));
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
