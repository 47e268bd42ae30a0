import type { RateWire, ScoreGroupWire, SplitEvaluationWire } from '@medfed/protocol';

import {
  ScoreHistogram,
  addHistograms,
  bestMinSePpvThreshold,
  expectedCalibrationError,
  histogramAccuracy,
  histogramAuc,
  scoreBin,
  sensitivityPredictivity,
} from './score-histogram';
import type { SiteEvaluationBody } from './site-evaluation';

/** One site's evaluation as the coordinator received it. */
export interface SiteEvaluationInput {
  name: string;
  body: SiteEvaluationBody;
}

/** Metrics of one set of predictions over one population (a site, or all sites pooled). */
export interface EvaluationFigures {
  numExamples: number;
  meanLoss: number | null;
  /** Accuracy at 0.5 over all labelled (example, output) pairs. */
  accuracy: number | null;
  /** ROC-AUC, averaged over the outputs that have both classes. */
  auc: number | null;
  /** ROC-AUC per output (null where an output lacks a class). */
  aucPerOutput: (number | null)[];
  /** Sensitivity, PPV and min(Se, PPV) of output 0 at the threshold chosen on pooled validation (0.5 without validation). */
  sensitivity: number | null;
  ppv: number | null;
  minSePpv: number | null;
  /** Expected calibration error of output 0 (10 groups). */
  calibrationError: number | null;
  /** Other prediction groups (e.g. `tstr`): their mean AUC. */
  groups: Record<string, { auc: number | null }>;
  /** Study-specific rates, count/total. */
  rates: Record<string, { rate: number; count: number; total: number }>;
}

/** A site's line: its figures, or only its size when it was below the minimum cohort. */
export interface SiteFigures extends EvaluationFigures {
  name: string;
  suppressed: boolean;
}

/** Per-site, pooled and worst-site metrics of one evaluation round. */
export interface StudyMetrics {
  sites: SiteFigures[];
  /** Figures over the union of the sites' test splits (histograms and counts added). */
  pooled: EvaluationFigures;
  /** Unweighted means of the per-site figures. */
  meanSite: { accuracy: number | null; auc: number | null; minSePpv: number | null };
  /** The site with the lowest value of the headline metric. */
  worstSite: { name: string; metric: 'accuracy' | 'auc'; value: number } | null;
  /** Σ validation loss / Σ validation examples: what early stopping watches; null when no site reported validation. */
  validationLoss: number | null;
  validationExamples: number;
  /** Permutation importance pooled over the sites that sent it: Σ loss increase / Σ examples, per feature (final round only). */
  importance: number[] | null;
  /** The threshold bin (of SCORE_BINS, logit-spaced) chosen on pooled validation for min(Se, PPV); p ≥ 0.5 without validation. */
  thresholdBin: number;
}

const mean = (values: readonly (number | null)[]): number | null => {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  return v.length === 0 ? null : v.reduce((a, b) => a + b, 0) / v.length;
};

function addGroups(groups: readonly ScoreGroupWire[][]): Map<string, ScoreHistogram[]> {
  const out = new Map<string, ScoreHistogram[][]>();
  for (const site of groups) {
    for (const g of site) {
      const list = out.get(g.group) ?? [];
      list.push(g.histograms);
      out.set(g.group, list);
    }
  }
  const summed = new Map<string, ScoreHistogram[]>();
  for (const [group, perSite] of out) {
    const outputs = Math.min(...perSite.map((h) => h.length));
    summed.set(
      group,
      Array.from({ length: outputs }, (_, k) => addHistograms(perSite.map((h) => h[k]))),
    );
  }
  return summed;
}

function figures(
  numExamples: number,
  lossSum: number | null,
  groups: Map<string, ScoreHistogram[]>,
  rates: readonly RateWire[],
  thresholdBin: number,
  confusionAccuracy: number | null,
): EvaluationFigures {
  const model = groups.get('model') ?? [];
  const aucPerOutput = model.map((h) => histogramAuc(h));
  const first = model[0];
  const sePpv = first ? sensitivityPredictivity(first, thresholdBin) : null;
  // Pool all outputs' labelled pairs for accuracy: add the histograms of every output.
  const accuracy = confusionAccuracy ?? (model.length > 0 ? histogramAccuracy(addHistograms(model)) : null);
  const other: Record<string, { auc: number | null }> = {};
  for (const [group, hs] of groups) if (group !== 'model') other[group] = { auc: mean(hs.map((h) => histogramAuc(h))) };
  const rateTable: EvaluationFigures['rates'] = {};
  for (const r of rates) {
    const prev = rateTable[r.name] ?? { rate: 0, count: 0, total: 0 };
    const count = prev.count + r.count;
    const total = prev.total + r.total;
    rateTable[r.name] = { count, total, rate: total > 0 ? count / total : 0 };
  }
  return {
    numExamples,
    meanLoss: lossSum === null || numExamples === 0 ? null : lossSum / numExamples,
    accuracy,
    auc: mean(aucPerOutput),
    aucPerOutput,
    sensitivity: sePpv?.sensitivity ?? null,
    ppv: sePpv?.ppv ?? null,
    minSePpv: sePpv?.minSePpv ?? null,
    calibrationError: first ? expectedCalibrationError(first) : null,
    groups: other,
    rates: rateTable,
  };
}

function confusionAccuracyOf(body: SiteEvaluationBody): number | null {
  return typeof body.numCorrect === 'number' && body.numExamples > 0 ? body.numCorrect / body.numExamples : null;
}

/**
 * Combines the sites' aggregate evaluations into per-site, pooled and worst-site figures. The min(Se, PPV)
 * threshold is chosen on the pooled validation histograms and applied to every site's test histograms,
 * as the PhysioNet 2012 challenge fixes the decision rule before scoring.
 */
export function combineEvaluations(inputs: readonly SiteEvaluationInput[], headline: 'accuracy' | 'auc' = 'auc'): StudyMetrics {
  const reported = inputs.filter((s) => !s.body.suppressed);
  const validations = reported.map((s) => s.body.validation).filter((v): v is SplitEvaluationWire => v !== undefined);
  const validationExamples = validations.reduce((t, v) => t + v.numExamples, 0);
  const validationLoss = validationExamples > 0 ? validations.reduce((t, v) => t + v.lossSum, 0) / validationExamples : null;
  const validationModel = addGroups(validations.map((v) => v.scores)).get('model');
  const thresholdBin = validationModel && validationModel.length > 0 ? bestMinSePpvThreshold(validationModel[0]) : scoreBin(0.5);

  const sites: SiteFigures[] = inputs.map((s) => {
    if (s.body.suppressed) {
      return { name: s.name, suppressed: true, ...figures(s.body.numExamples, null, new Map(), [], thresholdBin, null), accuracy: null };
    }
    const groups = addGroups([s.body.scores ?? []]);
    return { name: s.name, suppressed: false, ...figures(s.body.numExamples, s.body.lossSum ?? null, groups, s.body.rates ?? [], thresholdBin, confusionAccuracyOf(s.body)) };
  });
  const pooledExamples = reported.reduce((t, s) => t + s.body.numExamples, 0);
  const pooledLoss = reported.reduce((t, s) => t + (s.body.lossSum ?? 0), 0);
  const allCorrect = reported.every((s) => typeof s.body.numCorrect === 'number');
  const pooledConfusion = allCorrect && pooledExamples > 0 ? reported.reduce((t, s) => t + (s.body.numCorrect ?? 0), 0) / pooledExamples : null;
  const pooled = figures(
    pooledExamples,
    pooledLoss,
    addGroups(reported.map((s) => s.body.scores ?? [])),
    reported.flatMap((s) => s.body.rates ?? []),
    thresholdBin,
    pooledConfusion,
  );
  const candidates = sites.filter((s) => !s.suppressed && s[headline] !== null);
  const worst = candidates.reduce<SiteFigures | null>((w, s) => (w === null || (s[headline] as number) < (w[headline] as number) ? s : w), null);
  return {
    sites,
    pooled,
    meanSite: { accuracy: mean(sites.map((s) => s.accuracy)), auc: mean(sites.map((s) => s.auc)), minSePpv: mean(sites.map((s) => s.minSePpv)) },
    worstSite: worst ? { name: worst.name, metric: headline, value: worst[headline] as number } : null,
    validationLoss,
    validationExamples,
    importance: pooledImportance(reported.map((s) => s.body)),
    thresholdBin,
  };
}

function pooledImportance(bodies: readonly SiteEvaluationBody[]): number[] | null {
  const withImportance = bodies.filter((b) => Array.isArray(b.importance) && b.importance.length > 0);
  if (withImportance.length === 0) return null;
  const features = withImportance[0].importance?.length ?? 0;
  const same = withImportance.filter((b) => b.importance?.length === features);
  const n = same.reduce((t, b) => t + b.numExamples, 0);
  return Array.from({ length: features }, (_, j) => same.reduce((t, b) => t + (b.importance?.[j] ?? 0), 0) / n);
}
