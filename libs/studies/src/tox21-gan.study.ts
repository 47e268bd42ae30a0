import type { GeneratorPhaseSpec, ModelSpec, StudySpec, TrainingConfig } from '@medfed/protocol';

// Relative until the data barrel re-exports the loader (then: from '@medfed/data').
import { TOX21_ASSAYS, TOX21_DEFAULT_FINGERPRINT, TOX21_SITES } from '@medfed/data';
import type { StudyDefinition } from './study-definition';

/**
 * The Tox21 cgan model with its GAN in the 16-wide latent space of a fingerprint autoencoder (1024 → 512 → 16 tanh
 * → 512 → 1024): multi-task classifier C 1024→256→12 (dropout 0.3) on the fingerprints; the autoencoder trains
 * alone for its first 2,400 local steps (the main rounds' steps count, the generator phase finishes them), then is
 * frozen; G (32 noise + 12 conditions) →256→256→16 and D (16 + 12) →256→256→1 with leaky ReLU, Adam 1e-3 β (0.5, 0.9),
 * guided by a classifier of embeddings (AC-GAN term, weight 1); synthetic data come from an average of G's weights
 * (decay 0.999). No GAN step in the main rounds (`ganStepsPerStep` 0): the generator phase trains it.
 * Chosen on the federated simulation (bench/tox21-gan-sim.ts): with 64 dimensions, the federated autoencoder's
 * embeddings carried the label signal (a real-data classifier on them 0.794) but G plateaued at a train-on-synthetic
 * AUC of 0.67–0.68 even when trained centrally on them; 16 dimensions reached 0.73, 8 dimensions 0.70.
 */
export const TOX21_GAN_MODEL: ModelSpec = {
  family: 'cgan',
  inputDim: TOX21_DEFAULT_FINGERPRINT.nBits,
  outputs: TOX21_ASSAYS.length,
  architecture: {
    classifierHidden: [256],
    classifierDropout: 0.3,
    augment: 0,
    embeddingDim: 16,
    autoencoderHidden: [512],
    autoencoderSteps: 2400,
    latentDim: 32,
    generatorHidden: [256, 256],
    discriminatorHidden: [256, 256],
    ganLearningRate: 0.001,
    ganBeta2: 0.9,
    generatorAverage: 0.999,
    auxWeight: 1,
    ganStepsPerStep: 0,
  },
};

/**
 * The earlier fingerprint cGAN, trained beside C in every round: G (16 noise + 12 conditions) →256→1024 sigmoid bits,
 * D (1024 + 12)→128→1, guided by C (AC-GAN term, weight 10), bits sampled with the straight-through gradient, two GAN
 * steps (Adam lr 2e-3) per classifier step. Its train-on-synthetic AUC stayed at 0.63–0.71 (gap 0.08–0.15).
 */
export const TOX21_FINGERPRINT_GAN_MODEL: ModelSpec = {
  family: 'cgan',
  inputDim: TOX21_DEFAULT_FINGERPRINT.nBits,
  outputs: TOX21_ASSAYS.length,
  architecture: {
    latentDim: 16,
    classifierHidden: [256],
    generatorHidden: [256],
    discriminatorHidden: [128],
    classifierDropout: 0.3,
    ganLearningRate: 0.002,
    ganStepsPerStep: 2,
    auxWeight: 10,
    straightThrough: true,
    augment: 0,
  },
};

/** The fingerprint model with each classifier batch augmented by half as many synthetic molecules from G. */
export const TOX21_GAN_AUGMENTED_MODEL: ModelSpec = {
  ...TOX21_FINGERPRINT_GAN_MODEL,
  architecture: { ...TOX21_FINGERPRINT_GAN_MODEL.architecture, augment: 0.5 },
};

/**
 * The generator phase: 30 rounds of 200 steps of batch 128 from the chosen version — the first 10 finish the
 * autoencoder's warm-up, the other 20 are 4,000 GAN steps per site.
 */
export const TOX21_GAN_GENERATOR_PHASE: GeneratorPhaseSpec = { rounds: 30, localSteps: 200, batchSize: 128 };

/** Each site's local training per round: 40 steps of batch 64 (≈ 1.2 epochs of a site's ≈ 2,130 training molecules), Adam lr 1e-3. */
export const TOX21_GAN_TRAINING: TrainingConfig = {
  localSteps: 40,
  batchSize: 64,
  learningRate: 0.001,
  optimizer: 'adam',
  l2: 0,
  proximalMu: 0,
};

/** Rounds of the full study (early stopping on the pooled validation loss usually ends it sooner). */
export const TOX21_GAN_ROUNDS = 20;

/**
 * Tox21 toxicity (12 assays) with synthetic molecules: FedAvg over three sites holding different Bemis–Murcko scaffold
 * groups of DeepChem's tox21.csv.gz, of one model holding a multi-task classifier, a fingerprint autoencoder and a
 * conditional GAN of its embeddings. Two phases: the main rounds train the classifier (and the autoencoder) with early
 * stopping on the pooled validation loss (patience 4); the generator phase then trains only the GAN from the chosen
 * version. Judged by the mean test ROC-AUC over the 12 assays (target ≥ 0.75; DeepChem: multitask network 0.783,
 * logistic regression 0.735, random split) and by "train on synthetic, test on real" at the final evaluation
 * (`tstr`, target within 0.08 of the real-data classifier). `full` is the demo (under 10 minutes on 2 cores with
 * three node processes); `fast` is the same code with 2 rounds of 2 steps and a generator phase of 2 rounds of 3.
 */
export const tox21GanStudy: StudyDefinition = {
  name: 'tox21-gan',
  dataset: 'tox21',
  description: 'Tox21 toxicity: conditional GAN + multi-task classifier over 3 scaffold-split sites (12 assays, train-on-synthetic check)',
  sites: TOX21_SITES,
  partition: 'scaffold',
  dataDir: 'data/tox21',
  headlineMetric: 'auc',
  // C trains exactly as without the autoencoder, the GAN and its phase (same initial weights and batches; tested), so
  // the baselines train C alone: with the rest they would take longer than the whole federated study.
  baselines: {
    note: 'the classifier alone (it trains exactly as inside the full model); no generator, no train-on-synthetic',
    spec(spec: StudySpec): StudySpec {
      const classifier: StudySpec = { ...spec, model: { ...spec.model, architecture: { ...spec.model.architecture, embeddingDim: 0, ganStepsPerStep: 0 } } };
      delete classifier.generatorPhase;
      delete classifier.syntheticEvaluation;
      return classifier;
    },
  },
  spec(size: 'full' | 'fast'): StudySpec {
    const fast = size === 'fast';
    return {
      name: 'tox21-gan',
      dataset: 'tox21',
      // The fast configuration warms the autoencoder up for 5 steps, so its generator phase reaches GAN steps.
      model: fast ? { ...TOX21_GAN_MODEL, architecture: { ...TOX21_GAN_MODEL.architecture, autoencoderSteps: 5 } } : TOX21_GAN_MODEL,
      training: fast ? { ...TOX21_GAN_TRAINING, localSteps: 2 } : TOX21_GAN_TRAINING,
      strategy: 'fedavg',
      rounds: fast ? 2 : TOX21_GAN_ROUNDS,
      minSites: TOX21_SITES.length,
      roundTimeoutSeconds: 300,
      seed: 42,
      earlyStopping: { patience: 4 },
      // Synthetic data is free to draw: on one saved fingerprint model (bench/tox21-tstr.ts), TSTR rose from 0.61
      // (4,096 molecules, 400 steps) to 0.65 (16k, 1,200), 0.67 (32k, 1,500), 0.68 (65k, 3,000) and 0.69 (131k,
      // 6,000); 32k costs each site about 15 s, once, as in bench/tox21-latent-gan.ts.
      syntheticEvaluation: fast ? { samples: 4096, steps: 400 } : { samples: 32768, steps: 1500 },
      generatorPhase: fast ? { rounds: 2, localSteps: 3, batchSize: 32 } : TOX21_GAN_GENERATOR_PHASE,
    };
  },
};
