import { mulberry32, shuffleInPlace } from '@medfed/data';
import type { ExampleSet, ShapedArray } from '@medfed/data';
import type { FederatedModel } from '@medfed/models';

import { FeatureAxis, featureAxisLayout } from './feature-axis.util';
import { lossSumOf } from './site-evaluation';

/** One site's permutation importance: per feature Σ over examples of (loss permuted − loss original), and n. */
export interface ImportanceSum {
  lossIncreaseSum: number[];
  numExamples: number;
}

/** A site whose set was smaller than the minimum cohort: only its size is sent. */
export interface SuppressedImportance {
  suppressed: true;
  numExamples: number;
}

/** What a site may send about permutation importance (see `importanceReport`). */
export type SiteImportance = (ImportanceSum & { suppressed: false }) | SuppressedImportance;

/** A feature's importance across sites: Σ_sites lossIncreaseSum / Σ_sites numExamples. */
export interface FeatureImportance {
  name: string;
  meanLossIncrease: number;
}

/** Options of `permutationImportance`. */
export interface PermutationImportanceOptions {
  /** Independent permutations per feature, averaged (Breiman's single permutation when 1). Default 1. */
  repeats?: number;
}

/**
 * Model-agnostic permutation feature importance (Breiman 2001, "Random Forests", §10; Fisher, Rudin &
 * Dominici 2019, "model reliance"): for each feature j, shuffle j between the examples of `set` (one seeded
 * permutation applied to every input of `features.inputs` together, at every position of the inner axes, so a
 * sequence's values, mask and time gaps of variable j move as one), predict, and take the increase of the
 * loss (mean binary cross-entropy over each example's labelled outputs, NaN labels skipped; `lossSumOf`).
 * Returns SUMS over examples so that sites combine exactly: Σ_sites sum / Σ_sites n (`combineImportance`).
 * Runs at the node; send it only through `importanceReport` (minimum cohort).
 *
 * @param features which inputs carry feature j on their last axis, and the feature names.
 * @param seed drives the permutations (same seed, same set → same result).
 * @param options.repeats permutations per feature, averaged; default 1.
 * @throws FeatureAxisError when `features` does not fit `set`; RangeError on repeats < 1.
 */
export async function permutationImportance(
  model: FederatedModel,
  set: ExampleSet,
  features: FeatureAxis,
  seed: number,
  options: PermutationImportanceOptions = {},
): Promise<ImportanceSum> {
  const repeats = options.repeats ?? 1;
  if (!Number.isInteger(repeats) || repeats < 1) throw new RangeError(`repeats must be an integer ≥ 1, got ${repeats}`);
  const layouts = featureAxisLayout(set, features);
  const d = features.names.length;
  const lossIncreaseSum = new Array<number>(d).fill(0);
  if (set.n === 0) return { lossIncreaseSum, numExamples: 0 };

  const outputs = set.labels.shape[1] ?? 1;
  const baseLoss = lossSumOf(await model.predict(set), set.labels.data, outputs);
  // Working copies that hold the permuted column; every other column stays the original (restored after each feature).
  const working: Record<string, ShapedArray> = { ...set.inputs };
  for (const l of layouts) working[l.input] = { shape: l.array.shape, data: Float32Array.from(l.array.data) };
  const permuted: ExampleSet = { n: set.n, inputs: working, labels: set.labels };
  const random = mulberry32(seed);
  const order = Array.from({ length: set.n }, (_, i) => i);

  for (let j = 0; j < d; j++) {
    for (let r = 0; r < repeats; r++) {
      shuffleInPlace(order, random);
      for (const l of layouts) copyColumn(l.array.data, working[l.input].data, l.rowSize, d, j, order);
      const loss = lossSumOf(await model.predict(permuted), set.labels.data, outputs);
      lossIncreaseSum[j] += (loss - baseLoss) / repeats;
    }
    for (const l of layouts) copyColumn(l.array.data, working[l.input].data, l.rowSize, d, j, null);
  }
  return { lossIncreaseSum, numExamples: set.n };
}

/** target[i, …, j] = source[from(i), …, j] for every example i and inner position; from = identity when `order` is null. */
function copyColumn(source: Float32Array, target: Float32Array, rowSize: number, d: number, j: number, order: readonly number[] | null): void {
  const n = source.length / rowSize;
  for (let i = 0; i < n; i++) {
    const to = i * rowSize;
    const from = (order ? order[i] : i) * rowSize;
    for (let k = j; k < rowSize; k += d) target[to + k] = source[from + k];
  }
}

/**
 * What a site sends about permutation importance: the sums when its set has at least `minCohort` examples,
 * otherwise only its size (like `evaluateSite`'s suppression).
 */
export function importanceReport(result: ImportanceSum, minCohort: number): SiteImportance {
  if (result.numExamples < Math.max(1, minCohort)) return { suppressed: true, numExamples: result.numExamples };
  return { suppressed: false, lossIncreaseSum: [...result.lossIncreaseSum], numExamples: result.numExamples };
}

/**
 * Combines sites' permutation importances: per feature Σ_sites lossIncreaseSum / Σ_sites numExamples
 * (suppressed sites are skipped), sorted by decreasing mean loss increase (ties: feature order).
 * @throws RangeError when a site's sums do not have one entry per name, or no site reports any example.
 */
export function combineImportance(sites: ReadonlyArray<ImportanceSum | SuppressedImportance>, names: readonly string[]): FeatureImportance[] {
  const totals = new Array<number>(names.length).fill(0);
  let n = 0;
  sites.forEach((site, s) => {
    if ('suppressed' in site && site.suppressed) return;
    const sums = (site as ImportanceSum).lossIncreaseSum;
    if (sums.length !== names.length) {
      throw new RangeError(`combineImportance: site ${s} has ${sums.length} importances for ${names.length} features`);
    }
    sums.forEach((v, j) => (totals[j] += v));
    n += site.numExamples;
  });
  if (n === 0) throw new RangeError(`combineImportance: no examples over ${sites.length} sites (all empty or suppressed)`);
  return names
    .map((name, j) => ({ name, meanLossIncrease: totals[j] / n, j }))
    .sort((a, b) => b.meanLossIncrease - a.meanLossIncrease || a.j - b.j)
    .map(({ name, meanLossIncrease }) => ({ name, meanLossIncrease }));
}
