import type { FeatureStatistics } from '@medfed/protocol';
import {
  ExampleSet,
  holdOut,
  icuSite,
  IcuSequences,
  loadPhysionet2012,
  PHYSIONET_FEATURES,
  PHYSIONET_STATIC_NAMES,
  PHYSIONET_STEPS,
} from '@medfed/data';
import { deriveSeed } from '@medfed/models';

import type { DatasetDefinition, FeatureSums, LoadedSite, SiteSource, SiteSplits } from './study-definition';

/** The four sites of the ICU-mortality federation: one per ICU type of PhysioNet 2012 set A. */
export const ICU_SITES: readonly string[] = Object.freeze(['icu-1', 'icu-2', 'icu-3', 'icu-4']);

/** Share of each site's patients held out for testing (stratified by outcome, seeded). */
export const ICU_TEST_FRACTION = 0.2;
/** Share of the remaining training part carved out for validation (early stopping, the decision threshold). */
export const ICU_VALIDATION_FRACTION = 0.2;

/**
 * Variables normalised on the log scale, log(1 + v): laboratory values whose distributions have long right tails
 * (enzymes, bilirubin, creatinine, troponins, lactate, counts, urine output), so that a z-score of a few units
 * spans their clinical range instead of being dominated by a handful of extreme patients.
 */
export const ICU_LOG_FEATURES: readonly string[] = Object.freeze([
  'ALP', 'ALT', 'AST', 'BUN', 'Bilirubin', 'Creatinine', 'Glucose', 'Lactate', 'Platelets', 'TroponinI', 'TroponinT',
  'Urine', 'WBC',
]);

/** Normalised values are clipped to ±this many standard deviations (winsorising the implausible-but-in-range tails). */
export const ICU_CLIP = 5;

/**
 * Fixed scales of the statics (Age years, Gender 0/1, Height cm, Weight kg, then three 0/1 observed flags): dividing
 * by them puts every column in [0, ~2] without statistics of any site. Missing descriptors stay 0 with flag 0.
 */
const STATIC_SCALES: readonly number[] = [100, 1, 200, 100, 1, 1, 1];

const LOG = new Set(ICU_LOG_FEATURES);
const F = PHYSIONET_FEATURES.length;
const S = PHYSIONET_STATIC_NAMES.length;

/** The site name is not one of {@link ICU_SITES}. */
export class UnknownIcuSiteError extends RangeError {
  override readonly name = 'UnknownIcuSiteError';
}

/** Value of variable `f` on the normalisation scale (log1p for {@link ICU_LOG_FEATURES}). */
function transformed(f: number, v: number): number {
  return LOG.has(PHYSIONET_FEATURES[f]) ? Math.log1p(v) : v;
}

/**
 * Per-variable count, sum and sum of squares of the observed (mask = 1) values, on the normalisation scale.
 * @param seqs a site's training split.
 */
export function icuFeatureSums(seqs: IcuSequences): FeatureSums {
  const count = new Array<number>(F).fill(0);
  const sum = new Array<number>(F).fill(0);
  const sumSquares = new Array<number>(F).fill(0);
  for (let k = 0; k < seqs.mask.length; k++) {
    if (seqs.mask[k] !== 1) continue;
    const f = k % F;
    const v = transformed(f, seqs.values[k]);
    count[f]++;
    sum[f] += v;
    sumSquares[f] += v * v;
  }
  return { count, sum, sumSquares };
}

/**
 * Mean and population standard deviation from sums (the coordinator's combination, for the local-only case);
 * std 1 where a variable has no observation or no spread.
 */
export function statisticsFromSums(sums: FeatureSums): FeatureStatistics {
  const mean = sums.count.map((c, f) => (c > 0 ? sums.sum[f] / c : 0));
  const std = sums.count.map((c, f) => {
    const variance = c > 0 ? sums.sumSquares[f] / c - mean[f] * mean[f] : 0;
    return variance > 1e-12 ? Math.sqrt(variance) : 1;
  });
  return { count: [...sums.count], mean, std };
}

/**
 * Model-ready examples: `values` z-scored with `statistics` on the normalisation scale and clipped to ±ICU_CLIP
 * (observed cells only; missing cells stay 0 — the mean — with mask 0), `mask` as is, `delta` in units of the
 * 48-hour window (hours / 48), `statics` divided by fixed scales, labels [n, 1] = in-hospital death.
 * @throws RangeError when `statistics` does not have one entry per variable.
 */
export function icuExamples(seqs: IcuSequences, statistics: FeatureStatistics): ExampleSet {
  if (statistics.mean.length !== F || statistics.std.length !== F) {
    throw new RangeError(`statistics have ${statistics.mean.length} means and ${statistics.std.length} stds, expected ${F}`);
  }
  const values = new Float32Array(seqs.values.length);
  for (let k = 0; k < values.length; k++) {
    if (seqs.mask[k] !== 1) continue;
    const f = k % F;
    const std = statistics.std[f] > 0 ? statistics.std[f] : 1;
    const z = (transformed(f, seqs.values[k]) - statistics.mean[f]) / std;
    values[k] = Math.max(-ICU_CLIP, Math.min(ICU_CLIP, z));
  }
  const delta = seqs.delta.map((d) => d / PHYSIONET_STEPS);
  const statics = seqs.statics.map((v, k) => v / STATIC_SCALES[k % S]);
  const shape = [seqs.n, PHYSIONET_STEPS, F];
  return {
    n: seqs.n,
    inputs: {
      values: { shape, data: values },
      mask: { shape, data: Float32Array.from(seqs.mask) },
      delta: { shape, data: delta },
      statics: { shape: [seqs.n, S], data: statics },
    },
    labels: { shape: [seqs.n, 1], data: Float32Array.from(seqs.y) },
  };
}

let cached: { path: string; sequences: IcuSequences } | undefined;

/** Set A, loaded once per folder and process (the four sites of an in-process simulation share it). */
function loadSetA(path: string): IcuSequences {
  if (cached?.path !== path) cached = { path, sequences: loadPhysionet2012(path) };
  return cached.sequences;
}

/**
 * The ICU type of a site name `icu-1` … `icu-4`.
 * @throws UnknownIcuSiteError for any other name.
 */
export function icuTypeOfSite(site: string): 1 | 2 | 3 | 4 {
  const index = ICU_SITES.indexOf(site);
  if (index < 0) throw new UnknownIcuSiteError(`unknown physionet-2012 site '${site}' (expected one of ${ICU_SITES.join(', ')})`);
  return (index + 1) as 1 | 2 | 3 | 4;
}

/**
 * A site's patients of PhysioNet 2012 set A split into train / validation / test: a stratified 20 % test hold-out
 * seeded by `seed`, then a stratified 20 % of the rest for validation (seeded by a seed derived from `seed`).
 * @param source the data folder, the site (`icu-1` … `icu-4` = ICU types 1–4) and the seed (default 42).
 */
export function loadIcuSite(source: SiteSource): LoadedSite {
  const type = icuTypeOfSite(source.site);
  const seed = source.seed ?? 42;
  const patients = icuSite(loadSetA(source.path), type);
  const { train: rest, test } = holdOut(patients, ICU_TEST_FRACTION, seed);
  const { train, test: validation } = holdOut(rest, ICU_VALIDATION_FRACTION, deriveSeed(seed, 0x7a1d));
  const sums = icuFeatureSums(train);
  return {
    sums,
    sizes: { train: train.n, validation: validation.n, test: test.n },
    prepare(statistics: FeatureStatistics | null): SiteSplits {
      const stats = statistics ?? statisticsFromSums(sums);
      return { train: icuExamples(train, stats), validation: icuExamples(validation, stats), test: icuExamples(test, stats) };
    },
  };
}

/**
 * PhysioNet/CinC Challenge 2012 set A (Silva et al., CinC 2012) as four federated sites, one per ICU type: 48 hourly
 * steps of the 37 variables with masks and time gaps, 7 static columns, and in-hospital death as the outcome.
 * Federated normalisation: each site sends count/sum/sum of squares of its training split's observed values.
 */
export const physionetDataset: DatasetDefinition = {
  dataset: 'physionet-2012',
  sites: ICU_SITES,
  outputNames: ['in-hospital death'],
  featureNames: PHYSIONET_FEATURES,
  importanceAxis: { inputs: ['values', 'mask', 'delta'], names: PHYSIONET_FEATURES },
  load: loadIcuSite,
};
