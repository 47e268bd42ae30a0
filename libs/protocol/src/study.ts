/**
 * The plain, wire-safe description of a study: which model, how each site trains it, and how the
 * coordinator runs rounds. Shared by the coordinator (which stores and dispatches it), the node
 * (which trains by it) and the models lib (which builds the network from it). No tfjs, no Nest.
 */

/**
 * Model families the models lib can build: tabular classifiers (`logistic-regression`, `mlp`), a `cnn` for
 * images, an `rnn` (GRU/LSTM) for time series, an `autoencoder` for treatment recommendation and a
 * conditional GAN (`cgan`) for synthetic molecular fingerprints.
 */
export const MODEL_FAMILIES = ['logistic-regression', 'mlp', 'cnn', 'rnn', 'autoencoder', 'cgan'] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

/** A value of a family-specific architecture setting. */
export type ArchitectureValue = number | string | boolean | number[];

/**
 * Architecture of a model. `hidden` and `dropout` apply to `mlp`; the other families read their settings
 * (filters, recurrent units, latent size...) from `architecture` and validate them themselves.
 */
export interface ModelSpec {
  family: ModelFamily;
  /** Number of values in one example's main input, flattened (heart disease: 13; 28×28 images: 784). */
  inputDim: number;
  /** Hidden layer widths for `mlp`, e.g. [16]. */
  hidden?: number[];
  /** Dropout rate after each hidden layer for `mlp`, in [0, 1). */
  dropout?: number;
  /** Shape of one example's main input when it is not flat: cnn [height, width, channels]; rnn [steps, features]. */
  inputShape?: number[];
  /** Number of binary outputs (sigmoid heads); default 1 (Tox21: 12 assays; Diabetes: 23 medications). */
  outputs?: number;
  /** Family-specific architecture settings, part of the approved manifest like every other field. */
  architecture?: Record<string, ArchitectureValue>;
}

export const OPTIMIZERS = ['sgd', 'adam'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];

/** How each site trains the global model locally in one round. */
export interface TrainingConfig {
  /** Number of local mini-batch updates per round (FLamby's "local updates"). */
  localSteps: number;
  batchSize: number;
  learningRate: number;
  optimizer: OptimizerName;
  /** L2 penalty on the weights (not biases); 0 disables it. */
  l2: number;
  /** FedProx proximal term μ; 0 disables it. */
  proximalMu: number;
}

/** The names of the data sets a node knows how to load. */
export const DATASETS = ['fed-heart-disease', 'breastmnist', 'physionet-2012', 'diabetes-130', 'tox21'] as const;
export type DatasetName = (typeof DATASETS)[number];

/**
 * Server-side aggregation strategies, named as in their papers (Flower's names): FedAvg (McMahan et
 * al. 2017), FedProx (Li et al. 2020; the node adds μ from `training.proximalMu`), FedAdam, FedYogi,
 * FedAdagrad (Reddi et al. 2021), SCAFFOLD (Karimireddy et al. 2020; control variates at the node),
 * and the robust ones that need individual updates: coordinate-wise median, trimmed mean (Yin et al.
 * 2018) and Krum (Blanchard et al. 2017).
 */
export const STRATEGIES = ['fedavg', 'fedprox', 'fedadam', 'fedyogi', 'fedadagrad', 'scaffold', 'median', 'trimmed-mean', 'krum'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/** Hyper-parameters of the server-side strategy; each strategy reads only its own. */
export interface StrategyConfig {
  /** Server learning rate η of FedAdam/FedYogi/FedAdagrad and SCAFFOLD's global step size. Default 1 for SCAFFOLD, 0.1 otherwise. */
  serverLearningRate?: number;
  /** First-moment decay β1 of FedAdam, FedYogi and FedAdagrad (as in Reddi et al. and FLamby). Default 0.9. */
  beta1?: number;
  /** FedAdam/FedYogi second-moment decay β2. Default 0.99. */
  beta2?: number;
  /** Adaptivity τ of the adaptive strategies. Default 1e-9. */
  tau?: number;
  /** Trimmed mean: fraction trimmed at each end, in [0, 0.5). Default 0.1. */
  trimFraction?: number;
  /** Krum: number of Byzantine sites f tolerated. Default 0 (= the most central update). */
  byzantine?: number;
}

/**
 * Client-level differential privacy (DP-FedAvg, McMahan et al. 2018): each site's update is clipped to
 * L2 norm `clipNorm`, sites are averaged with equal weights, and Gaussian noise of standard deviation
 * noiseMultiplier · clipNorm is added to the sum — by the coordinator (`central`) or split across the n
 * sites, each adding σ/√n (`split`, so the coordinator never sees an un-noised update).
 */
export interface DifferentialPrivacySpec {
  noiseMultiplier: number;
  clipNorm: number;
  placement: 'central' | 'split';
}

/** Everything the coordinator needs to run a study, as created through the REST API or CLI. */
export interface StudySpec {
  name: string;
  dataset: DatasetName;
  model: ModelSpec;
  training: TrainingConfig;
  strategy: StrategyName;
  /** Parameters of `strategy`; omitted fields take the strategy's defaults. */
  strategyConfig?: StrategyConfig;
  rounds: number;
  /** A round fails when fewer sites than this answer before the deadline. */
  minSites: number;
  /** Fraction of the connected sites sampled for each train round, in (0, 1]; at least minSites are taken. Seeded by `seed` and the round; recorded with the round. Default 1 (all). */
  siteFraction?: number;
  /** How many times a train round that closed below minSites is extended (new deadline, re-sent to sites that have not answered, joined by sites that connected since) before the study fails. Default 0. */
  maxRoundRetries?: number;
  /** Per-round deadline in seconds, counted from dispatch. */
  roundTimeoutSeconds: number;
  /** Seed for the initial global model. */
  seed: number;
  /** Differential privacy of the sites' updates; absent = none. Part of the manifest a hospital approves. */
  dp?: DifferentialPrivacySpec;
  /** Secure aggregation: the coordinator learns only the sum of the updates; absent = off. */
  secureAggregation?: SecureAggregationSpec;
  /** Federated early stopping on the sites' pooled validation loss; absent = run all `rounds`. */
  earlyStopping?: EarlyStoppingSpec;
  /** Preprocessing the sites apply before training; absent = the data set's default (local only). */
  preprocessing?: PreprocessingSpec;
  /** Train-on-synthetic check of the final evaluation, for models with a generator (the cgan family). */
  syntheticEvaluation?: SyntheticEvaluationSpec;
  /** Rounds after the main ones that train only the generator of the chosen model (the cgan family); absent = none. */
  generatorPhase?: GeneratorPhaseSpec;
}

/**
 * A second phase of a study whose model holds a generator (the cgan family). When the main phase ends — after
 * `rounds`, or when early stopping picks its best version — rounds `rounds + 1 … rounds + generatorPhase.rounds`
 * start from the version the main phase chose and train only the generator side (G, D and the embedding
 * classifier that guides G); the classifier and the autoencoder stay exactly as chosen. The phase has its own
 * budget instead of early stopping: the classifier's validation loss cannot change in it, and a GAN's losses do
 * not say when its samples are good. Its last version, evaluated once with the end-of-study checks
 * (train-on-synthetic), is the study's model. Each of its rounds sends an update like any other: under
 * differential privacy they count in the privacy budget.
 */
export interface GeneratorPhaseSpec {
  /** Train rounds of the phase, 1–10,000. */
  rounds: number;
  /** GAN steps (one D step, one G step) per site and round, 1–100,000. */
  localSteps: number;
  /** Real examples per GAN step; default the study's `training.batchSize`. */
  batchSize?: number;
}

/** Every train round of a study: the main rounds and those of its generator phase. */
export function totalRounds(spec: Pick<StudySpec, 'rounds' | 'generatorPhase'>): number {
  return spec.rounds + (spec.generatorPhase?.rounds ?? 0);
}

/** True for the rounds of the study's generator phase (after its main `rounds`). */
export function isGeneratorRound(spec: Pick<StudySpec, 'rounds' | 'generatorPhase'>, round: number): boolean {
  return spec.generatorPhase !== undefined && round > spec.rounds && round <= totalRounds(spec);
}

/**
 * How a site trains in `round`: the study's `training`, or in the generator phase the same with the phase's local
 * steps and batch size. The coordinator sends it with the task and the node checks it against its approved manifest.
 */
export function trainingForRound(spec: Pick<StudySpec, 'rounds' | 'generatorPhase' | 'training'>, round: number): TrainingConfig {
  const phase = spec.generatorPhase;
  if (!phase || !isGeneratorRound(spec, round)) return spec.training;
  return { ...spec.training, localSteps: phase.localSteps, batchSize: phase.batchSize ?? spec.training.batchSize };
}

/**
 * Federated early stopping: after each round the sites evaluate the new global model on their validation
 * split; the coordinator pools the losses (Σ loss / Σ examples) and completes the study when the pooled
 * validation loss has not improved by more than `minDelta` for `patience` rounds. The best version is the
 * one with the lowest pooled validation loss.
 */
export interface EarlyStoppingSpec {
  /** Rounds without improvement before stopping, ≥ 1. */
  patience: number;
  /** Smallest decrease of the pooled validation loss that counts as an improvement, ≥ 0. Default 0. */
  minDelta?: number;
}

/**
 * "Train on synthetic, test on real" (Esteban et al. 2017) at the final evaluation: every site draws `samples`
 * synthetic examples from the global generator (seeded by the study, so every site draws the same), trains a
 * fresh classifier on them alone for `steps` Adam steps, and scores its own test split with it. It runs on the
 * node, so it is part of what the hospital approves; only score histograms leave, as for every metric.
 */
export interface SyntheticEvaluationSpec {
  /** Synthetic examples drawn, 1–1,048,576. */
  samples: number;
  /** Adam steps of batch 128 of the classifier trained on them, 1–100,000. */
  steps: number;
}

/**
 * Preprocessing settings. With `federatedStatistics`, before round 1 every site sends only per-feature sums,
 * sums of squares and counts of its training split (sealed, and only when it has at least its minimum
 * cohort); the coordinator adds them up and sends the global mean and standard deviation with every task,
 * so every site normalises with the same statistics.
 */
export interface PreprocessingSpec {
  federatedStatistics: boolean;
}

/** Global per-feature statistics computed from the sites' sums and counts; sent with train and evaluate tasks. */
export interface FeatureStatistics {
  /** Σ count over the sites, per feature (observed values only). */
  count: number[];
  mean: number[];
  /** Population standard deviation; 1 where a feature had no spread or no observation. */
  std: number[];
}

/**
 * Secure aggregation (Bonawitz et al. 2017): updates are clipped to [−clipRange, clipRange] per
 * coordinate, quantised, and masked so only their sum can be recovered, with up to n − threshold sites
 * dropping out after masking. Strategies that need individual updates (median, trimmed mean, Krum,
 * SCAFFOLD's control variates) cannot run under it.
 */
export interface SecureAggregationSpec {
  /** t: the fewest sites that must remain; also the Shamir threshold. 2..n; default ⌊2n/3⌋ + 1. */
  threshold?: number;
  /** Per-coordinate clipping range of the updates before quantisation. */
  clipRange: number;
}
