/**
 * Score histograms: the sufficient statistics from which the coordinator computes ROC-AUC, sensitivity,
 * positive predictivity and calibration over all sites without seeing a single patient's prediction.
 * Each site counts its positive and negative examples per probability bin; histograms add across sites.
 */

/**
 * Bins per histogram. They are equally spaced in logit(p) over [−SCORE_LOGIT_RANGE, +SCORE_LOGIT_RANGE], so rare
 * outcomes whose probabilities all lie below 0.01 are still told apart (equal-width bins would put them all
 * in bin 0 and report AUC 0.5); ties inside a bin count half.
 */
export const SCORE_BINS = 200;
/** The logit range the bins cover: p from 0.00034 to 0.99966; beyond it, the end bins. */
export const SCORE_LOGIT_RANGE = 8;

/** Positive and negative example counts per probability bin, for one binary output. */
export interface ScoreHistogram {
  positives: number[];
  negatives: number[];
}

/** The bin of probability `p`, equally spaced in logit; p ≥ 0.5 falls in the upper half exactly. */
export function scoreBin(p: number, bins = SCORE_BINS): number {
  if (!(p > 0)) return 0;
  if (!(p < 1)) return bins - 1;
  const logit = Math.log(p) - Math.log1p(-p);
  const position = ((logit + SCORE_LOGIT_RANGE) / (2 * SCORE_LOGIT_RANGE)) * bins;
  return Math.min(bins - 1, Math.max(0, Math.floor(position)));
}

/** The probability at the centre (in logit) of bin `b`. */
export function binCentre(b: number, bins = SCORE_BINS): number {
  const logit = -SCORE_LOGIT_RANGE + ((b + 0.5) * 2 * SCORE_LOGIT_RANGE) / bins;
  return 1 / (1 + Math.exp(-logit));
}

/**
 * One histogram per output column of `probabilities` [n × outputs] against `labels` [n × outputs];
 * a NaN label (missing) is skipped, and so is a non-finite probability.
 */
export function scoreHistograms(probabilities: Float32Array, labels: Float32Array, outputs: number, bins = SCORE_BINS): ScoreHistogram[] {
  if (probabilities.length !== labels.length || probabilities.length % outputs !== 0) {
    throw new RangeError(`scoreHistograms: ${probabilities.length} probabilities and ${labels.length} labels do not make rows of ${outputs} outputs`);
  }
  const histograms = Array.from({ length: outputs }, () => ({ positives: new Array<number>(bins).fill(0), negatives: new Array<number>(bins).fill(0) }));
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i];
    const p = probabilities[i];
    if (Number.isNaN(y) || !Number.isFinite(p)) continue;
    const h = histograms[i % outputs];
    (y >= 0.5 ? h.positives : h.negatives)[scoreBin(p, bins)]++;
  }
  return histograms;
}

/** Adds histograms bin by bin (the coordinator's combination across sites). @throws RangeError on differing bin counts. */
export function addHistograms(histograms: readonly ScoreHistogram[]): ScoreHistogram {
  if (histograms.length === 0) throw new RangeError('addHistograms needs at least one histogram');
  const bins = histograms[0].positives.length;
  const sum = { positives: new Array<number>(bins).fill(0), negatives: new Array<number>(bins).fill(0) };
  for (const h of histograms) {
    if (h.positives.length !== bins || h.negatives.length !== bins) throw new RangeError(`addHistograms: a histogram has ${h.positives.length} bins, expected ${bins}`);
    for (let b = 0; b < bins; b++) {
      sum.positives[b] += h.positives[b];
      sum.negatives[b] += h.negatives[b];
    }
  }
  return sum;
}

const total = (a: readonly number[]) => a.reduce((s, v) => s + v, 0);

/** Area under the ROC curve (Mann–Whitney), examples in the same bin counting half; null without both classes. */
export function histogramAuc(h: ScoreHistogram): number | null {
  const pos = total(h.positives);
  const neg = total(h.negatives);
  if (pos === 0 || neg === 0) return null;
  let below = 0;
  let wins = 0;
  for (let b = 0; b < h.positives.length; b++) {
    wins += h.positives[b] * (below + h.negatives[b] / 2);
    below += h.negatives[b];
  }
  return wins / (pos * neg);
}

/** Confusion counts when every example in bin ≥ `thresholdBin` is called positive. */
export function confusionAt(h: ScoreHistogram, thresholdBin: number): { tp: number; fp: number; tn: number; fn: number } {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  for (let b = 0; b < h.positives.length; b++) {
    if (b >= thresholdBin) {
      tp += h.positives[b];
      fp += h.negatives[b];
    } else {
      fn += h.positives[b];
      tn += h.negatives[b];
    }
  }
  return { tp, fp, tn, fn };
}

/** Sensitivity, positive predictivity (precision) and their minimum (PhysioNet 2012's event-1 score) at a threshold bin. */
export function sensitivityPredictivity(h: ScoreHistogram, thresholdBin: number): { sensitivity: number; ppv: number; minSePpv: number } {
  const { tp, fp, fn } = confusionAt(h, thresholdBin);
  const sensitivity = tp + fn === 0 ? 0 : tp / (tp + fn);
  const ppv = tp + fp === 0 ? 0 : tp / (tp + fp);
  return { sensitivity, ppv, minSePpv: Math.min(sensitivity, ppv) };
}

/** The threshold bin that maximises min(Se, PPV) on `h` (choose it on validation, apply it to test). */
export function bestMinSePpvThreshold(h: ScoreHistogram): number {
  let best = 0;
  let bestScore = -1;
  for (let b = 0; b < h.positives.length; b++) {
    const { minSePpv } = sensitivityPredictivity(h, b);
    if (minSePpv > bestScore) {
      bestScore = minSePpv;
      best = b;
    }
  }
  return best;
}

/**
 * Expected calibration error over `groups` equal-width probability groups: Σ_g (n_g/n)·|observed rate − mean
 * predicted|; each bin joins the group of its centre, and its examples are taken at that centre (the bins
 * are narrow in probability where examples crowd, at most 0.04 wide around p = 0.5).
 */
export function expectedCalibrationError(h: ScoreHistogram, groups = 10): number | null {
  const bins = h.positives.length;
  const n = total(h.positives) + total(h.negatives);
  if (n === 0) return null;
  const count = new Array<number>(groups).fill(0);
  const positives = new Array<number>(groups).fill(0);
  const predicted = new Array<number>(groups).fill(0);
  for (let b = 0; b < bins; b++) {
    const centre = binCentre(b, bins);
    const g = Math.min(groups - 1, Math.floor(centre * groups));
    const inBin = h.positives[b] + h.negatives[b];
    count[g] += inBin;
    positives[g] += h.positives[b];
    predicted[g] += inBin * centre;
  }
  let ece = 0;
  for (let g = 0; g < groups; g++) {
    if (count[g] > 0) ece += (count[g] / n) * Math.abs(positives[g] / count[g] - predicted[g] / count[g]);
  }
  return ece;
}

/** Accuracy at probability 0.5 (bin SCORE_BINS/2 and above is positive). */
export function histogramAccuracy(h: ScoreHistogram): number | null {
  const { tp, fp, tn, fn } = confusionAt(h, Math.ceil(h.positives.length / 2));
  const n = tp + fp + tn + fn;
  return n === 0 ? null : (tp + tn) / n;
}

/** Exact ROC-AUC from per-example scores (average rank of ties), to check the binned estimate against. */
export function exactAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number | null {
  const idx = Array.from({ length: scores.length }, (_, i) => i).filter((i) => !Number.isNaN(labels[i]));
  idx.sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  let pos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) {
      if (labels[idx[k]] >= 0.5) {
        rankSumPos += rank;
        pos++;
      }
    }
    i = j + 1;
  }
  const neg = idx.length - pos;
  if (pos === 0 || neg === 0) return null;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/**
 * Mean over heads of the exact ROC-AUC, for row-major [n × heads] scores and labels (NaN = missing), as the Tox21
 * benchmarks report it; a head without both classes counts as 0.5 (chance).
 */
export function meanExactAuc(scores: Float32Array, labels: Float32Array, heads: number): number {
  if (!Number.isInteger(heads) || heads < 1 || scores.length !== labels.length || labels.length % heads !== 0) {
    throw new RangeError(`meanExactAuc: need equal-length scores and labels of [n × ${heads}], got ${scores.length} and ${labels.length}`);
  }
  let total = 0;
  for (let k = 0; k < heads; k++) {
    const column = (a: Float32Array) => a.filter((_, i) => i % heads === k);
    total += exactAuc(column(scores), column(labels)) ?? 0.5;
  }
  return total / heads;
}
