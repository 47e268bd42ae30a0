import type { DatasetName, FeatureStatistics, StudySpec, SyntheticEvaluationSpec } from '@medfed/protocol';
import type { ExampleSet } from '@medfed/data';
import type { FederatedModel } from '@medfed/models';

/** A site's model-ready examples: seeded, recorded train/validation/test splits. */
export interface SiteSplits {
  train: ExampleSet;
  validation: ExampleSet;
  test: ExampleSet;
}

/**
 * Per-feature sufficient statistics of a site's training split, the only thing a site sends for
 * federated normalisation: counts of observed values, their sums and sums of squares.
 */
export interface FeatureSums {
  count: number[];
  sum: number[];
  sumSquares: number[];
}

/** A site's data after loading, schema checks and cleaning, before normalisation. */
export interface LoadedSite {
  /** Training-split sums for federated statistics; absent when the data set normalises without them. */
  sums?: FeatureSums;
  /** Number of patients (rows) in each split, for reports and the minimum-cohort checks. */
  sizes: { train: number; validation: number; test: number };
  /**
   * Normalises with `statistics` (the global ones from federated statistics) or, when null, with the
   * site's own training statistics, and returns the model-ready splits.
   */
  prepare(statistics: FeatureStatistics | null): SiteSplits;
}

/** Where a node's data lives and which part of it is this site's. */
export interface SiteSource {
  /** Folder holding the data set's files (see its PROVENANCE.md). */
  path: string;
  /** This site's name within the data set (a hospital, an ICU type, a partition index). */
  site: string;
  /** How a single-file data set is divided among sites, when it has several ways (BreastMNIST: `even` or `skewed`). */
  partition?: string;
  /** Seed of the site's splits; default 42. The same seed always gives the same splits. */
  seed?: number;
}

/** A count out of a total over at least the minimum cohort, e.g. recall@3 hits out of patients. */
export interface RateCount {
  count: number;
  total: number;
}

/** Study-specific evaluation beyond the model's own probabilities. */
export interface ExtraEvaluation {
  /** Named rates; the node drops every rate whose `total` is below its minimum cohort. */
  rates?: Record<string, RateCount>;
  /** Other probabilities [n × outputs] to score against the same labels (Tox21: a classifier trained on synthetic data). */
  scoreGroups?: Record<string, Float32Array>;
}

/** Context of an evaluation, for extras that depend on it. */
export interface EvaluationContext {
  studyId: string;
  round: number;
  /** True on the study's last scheduled round (expensive extras run only then). */
  finalRound: boolean;
  seed: number;
  /** The study's train-on-synthetic settings, when it has them (`StudySpec.syntheticEvaluation`). */
  syntheticEvaluation?: SyntheticEvaluationSpec;
}

/**
 * How a node loads, checks and prepares one data set. A node refuses data that does not match the
 * declared schema with a DataSchemaError naming the column and how many rows, never a patient.
 */
export interface DatasetDefinition {
  dataset: DatasetName;
  /** The site names the data set can be divided into. */
  sites: readonly string[];
  /** Names of the output heads (assays, medications); one name for a single binary outcome. */
  outputNames: readonly string[];
  /** Names of the input features (columns or time-series variables), for importance reports. */
  featureNames: readonly string[];
  /**
   * Which inputs share the feature axis (their last axis) for permutation importance and LIME, e.g. `x` for
   * tabular data, `values`/`mask`/`delta` for the ICU sequences; absent for images and fingerprints.
   */
  importanceAxis?: { inputs: string[]; names: readonly string[] };
  load(source: SiteSource): LoadedSite;
  /** Extra aggregate metrics on `set`, computed at the node; `probabilities` are the model's. */
  evaluateExtras?(model: FederatedModel, set: ExampleSet, probabilities: Float32Array, context: EvaluationContext): Promise<ExtraEvaluation>;
}

/** A federated study the demo and the coordinator can run: a data set, a model and how to train it. */
export interface StudyDefinition {
  name: string;
  dataset: DatasetName;
  description: string;
  /** The sites the demo starts, one node each. */
  sites: readonly string[];
  /** Default partition of a single-file data set among sites (see SiteSource.partition). */
  partition?: string;
  /** The data folder in this repository. */
  dataDir: string;
  /** The demo's configuration (`full`, under 10 minutes on 2 cores) or a small, fast one of the same code for tests. */
  spec(size: 'full' | 'fast'): StudySpec;
  /** The metric the study is judged by, for the summary's headline (e.g. `auc`). */
  headlineMetric: 'accuracy' | 'auc';
  /**
   * How the local-only and centralised baselines differ from the federated configuration, when they do (e.g. only the
   * parts of the model that decide the headline metric): the baselines' spec from the federated one, and a note for
   * the summary. Default: the same spec.
   */
  baselines?: { spec(spec: StudySpec): StudySpec; note: string };
}
