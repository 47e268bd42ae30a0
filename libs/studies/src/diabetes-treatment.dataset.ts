import type { FeatureStatistics } from '@medfed/protocol';
import type { ExampleSet } from '@medfed/data';
import type { FederatedModel } from '@medfed/models';

// Relative until the data barrel re-exports the loader (then: from '@medfed/data').
import {
  DIABETES_FEATURES,
  DIABETES_MEDICATIONS,
  DIABETES_NUMERIC_FEATURES,
  DIABETES_SITES,
  DiabetesEncounters,
  DiabetesSite,
  loadDiabetes130,
  splitDiabetesSite,
} from '@medfed/data';
import type { DatasetDefinition, ExtraEvaluation, FeatureSums, LoadedSite, RateCount, SiteSource } from './study-definition';

/** How many recommendations recall is measured at. */
export const DIABETES_RECALL_AT = 3;

const D = DIABETES_FEATURES.length;
const K = DIABETES_NUMERIC_FEATURES.length;
const M = DIABETES_MEDICATIONS.length;

/** The site name is not one of DIABETES_SITES. */
export class UnknownDiabetesSiteError extends RangeError {
  override readonly name = 'UnknownDiabetesSiteError';
}

/** Options of {@link createDiabetesDataset}. */
export interface DiabetesDatasetOptions {
  /**
   * Whether encounters followed by a readmission within 30 days teach the medication head. Default false: their
   * training and validation labels are NaN (missing), so the model learns the regimens of similar patients who
   * were NOT readmitted within 30 days and ranks by P(prescribed | patient, no 30-day readmission); their features
   * still train the autoencoder's representation through the reconstruction term. Test labels are always complete.
   */
  learnFromReadmitted?: boolean;
}

/**
 * Per-feature count, sum and sum of squares of the numeric features (DIABETES_NUMERIC_FEATURES, the first K
 * columns) of a split: what a site sends for federated statistics. Indicator columns are not sent or scaled.
 */
export function diabetesFeatureSums(enc: DiabetesEncounters): FeatureSums {
  const count = new Array<number>(K).fill(enc.n);
  const sum = new Array<number>(K).fill(0);
  const sumSquares = new Array<number>(K).fill(0);
  for (let i = 0; i < enc.n; i++) {
    for (let k = 0; k < K; k++) {
      const v = enc.x[i * D + k];
      sum[k] += v;
      sumSquares[k] += v * v;
    }
  }
  return { count, sum, sumSquares };
}

/** Mean and population std from sums; std 1 without spread (as the coordinator's combination). */
function statisticsOf(sums: FeatureSums): FeatureStatistics {
  const mean = sums.count.map((c, k) => (c > 0 ? sums.sum[k] / c : 0));
  const std = sums.count.map((c, k) => {
    const variance = c > 0 ? sums.sumSquares[k] / c - mean[k] * mean[k] : 0;
    return variance > 1e-12 ? Math.sqrt(variance) : 1;
  });
  return { count: [...sums.count], mean, std };
}

/**
 * Model-ready examples: `x` [n, 96] with the numeric columns z-scored by `statistics`, `readmitted` [n, 2]
 * (column 0: within 30 days, column 1: at all; an outcome carried for evaluation, never a model input), labels
 * [n, 23] = the regimen (1 prescribed). With `maskReadmitted`, rows readmitted within 30 days get NaN labels.
 * @throws RangeError when `statistics` does not have one entry per numeric feature
 */
export function diabetesExamples(enc: DiabetesEncounters, statistics: FeatureStatistics, maskReadmitted: boolean): ExampleSet {
  if (statistics.mean.length !== K || statistics.std.length !== K) {
    throw new RangeError(`statistics have ${statistics.mean.length} means and ${statistics.std.length} stds, expected ${K} (numeric features)`);
  }
  const x = Float32Array.from(enc.x);
  for (let i = 0; i < enc.n; i++) {
    for (let k = 0; k < K; k++) x[i * D + k] = (x[i * D + k] - statistics.mean[k]) / (statistics.std[k] > 0 ? statistics.std[k] : 1);
  }
  const readmitted = new Float32Array(enc.n * 2);
  const labels = Float32Array.from(enc.regimen);
  for (let i = 0; i < enc.n; i++) {
    readmitted[2 * i] = enc.readmitted30[i];
    readmitted[2 * i + 1] = enc.readmittedAny[i];
    if (maskReadmitted && enc.readmitted30[i] === 1) labels.fill(Number.NaN, i * M, (i + 1) * M);
  }
  return {
    n: enc.n,
    inputs: { x: { shape: [enc.n, D], data: x }, readmitted: { shape: [enc.n, 2], data: readmitted } },
    labels: { shape: [enc.n, M], data: labels },
  };
}

/** Indices of the `k` largest scores of one row, highest first; ties go to the lower index. */
export function topRanked(scores: ArrayLike<number>, offset: number, width: number, k: number): number[] {
  const order = Array.from({ length: width }, (_, m) => m);
  order.sort((a, b) => scores[offset + b] - scores[offset + a] || a - b);
  return order.slice(0, k);
}

/**
 * Aggregate recommendation metrics of one ranking over a set, as counts:
 * - `recall_at_3`: prescribed medications found among the top 3 recommended / all prescribed medications;
 * - `readmit30_top1_matched` / `_unmatched`: readmissions within 30 days among patients whose actual regimen
 *   includes the top recommendation / among the others (patients on no diabetes medication are "unmatched");
 *   `readmit_any_…` the same for any readmission (<30 or >30 days).
 * @param rank the recommended order of the medications for row i
 */
export function diabetesRecommendationRates(set: ExampleSet, rank: (i: number) => number[], prefix: string): Record<string, RateCount> {
  const labels = set.labels.data;
  const readmitted = set.inputs['readmitted']?.data;
  const rates: Record<string, RateCount> = {};
  const recall = { count: 0, total: 0 };
  const groups = {
    readmit30_top1_matched: { count: 0, total: 0 },
    readmit30_top1_unmatched: { count: 0, total: 0 },
    readmit_any_top1_matched: { count: 0, total: 0 },
    readmit_any_top1_unmatched: { count: 0, total: 0 },
  };
  for (let i = 0; i < set.n; i++) {
    const order = rank(i);
    for (let m = 0; m < M; m++) if (labels[i * M + m] === 1) recall.total++;
    for (const m of order.slice(0, DIABETES_RECALL_AT)) if (labels[i * M + m] === 1) recall.count++;
    if (readmitted) {
      const matched = labels[i * M + order[0]] === 1 ? 'matched' : 'unmatched';
      const g30 = groups[`readmit30_top1_${matched}`];
      const gAny = groups[`readmit_any_top1_${matched}`];
      g30.total++;
      g30.count += readmitted[2 * i];
      gAny.total++;
      gAny.count += readmitted[2 * i + 1];
    }
  }
  rates[`${prefix}recall_at_${DIABETES_RECALL_AT}`] = recall;
  if (readmitted) for (const [name, r] of Object.entries(groups)) rates[`${prefix}${name}`] = r;
  return rates;
}

/**
 * Recommendation metrics of the model and of the popularity baseline, computed at the node as counts.
 * The model ranks a patient's medications by its P(prescribed); the popularity baseline ranks every patient's
 * medications by how often each is prescribed in the evaluated set (its own labels' frequencies: the most
 * favourable popularity ranking, and only an aggregate of 23 counts). Rates are named as in
 * {@link diabetesRecommendationRates}, the baseline's prefixed `popularity_`.
 */
export async function diabetesRecommendationExtras(
  _model: FederatedModel,
  set: ExampleSet,
  probabilities: Float32Array,
): Promise<ExtraEvaluation> {
  const frequency = new Float64Array(M);
  for (let i = 0; i < set.n; i++) for (let m = 0; m < M; m++) if (set.labels.data[i * M + m] === 1) frequency[m]++;
  const popular = topRanked(frequency, 0, M, M);
  return {
    rates: {
      ...diabetesRecommendationRates(set, (i) => topRanked(probabilities, i * M, M, DIABETES_RECALL_AT), ''),
      ...diabetesRecommendationRates(set, () => popular, 'popularity_'),
    },
  };
}

// Loading the CSV takes seconds; an in-process simulation loads all four sites from the same file.
const cache = new Map<string, DiabetesEncounters>();

function encountersAt(path: string): DiabetesEncounters {
  let enc = cache.get(path);
  if (enc === undefined) {
    enc = loadDiabetes130(path).encounters;
    cache.set(path, enc);
  }
  return enc;
}

/**
 * The Diabetes 130-US hospitals data set for treatment recommendation: four sites by admission source
 * (DIABETES_SITES), first encounter per patient, 70/15/15 % seeded splits, the 96 DIABETES_FEATURES as `x`
 * (numeric ones z-scored by federated or local statistics), the 23 medications as labels.
 * @param options see DiabetesDatasetOptions
 */
export function createDiabetesDataset(options: DiabetesDatasetOptions = {}): DatasetDefinition {
  const maskReadmitted = !(options.learnFromReadmitted ?? false);
  return {
    dataset: 'diabetes-130',
    sites: DIABETES_SITES,
    outputNames: DIABETES_MEDICATIONS,
    featureNames: DIABETES_FEATURES,
    importanceAxis: { inputs: ['x'], names: DIABETES_FEATURES },
    load(source: SiteSource): LoadedSite {
      if (!(DIABETES_SITES as readonly string[]).includes(source.site)) {
        throw new UnknownDiabetesSiteError(`diabetes-130 has no site ${JSON.stringify(source.site)}; the sites are ${DIABETES_SITES.join(', ')}`);
      }
      const splits = splitDiabetesSite(encountersAt(source.path), source.site as DiabetesSite, source.seed ?? 42);
      const sums = diabetesFeatureSums(splits.train);
      return {
        sums,
        sizes: { train: splits.train.n, validation: splits.validation.n, test: splits.test.n },
        prepare(statistics: FeatureStatistics | null) {
          const stats = statistics ?? statisticsOf(sums);
          return {
            train: diabetesExamples(splits.train, stats, maskReadmitted),
            validation: diabetesExamples(splits.validation, stats, maskReadmitted),
            test: diabetesExamples(splits.test, stats, false),
          };
        },
      };
    },
    evaluateExtras: diabetesRecommendationExtras,
  };
}

/** The data set as the study uses it: the medication head learns only from encounters without a 30-day readmission. */
export const diabetesDataset: DatasetDefinition = createDiabetesDataset();
