import type { HeartDiseaseCenter } from '@medfed/data';

import type { EvaluationCounts } from './tabular-classifier.model';

/** One site's test accuracy. */
export interface CenterAccuracy {
  center: HeartDiseaseCenter;
  accuracy: number;
  numExamples: number;
}

/** Accuracy per site, their unweighted mean (FLamby's headline figure) and on the pooled test set. */
export interface AccuracyReport {
  perCenter: CenterAccuracy[];
  /** Unweighted mean of the per-site accuracies. */
  meanPerCenter: number;
  /** Accuracy on all sites' test rows together, each standardised like the rows the model saw for that site (Σ correct / Σ rows over sites). */
  pooled: number;
  /**
   * FLamby's "Pooled Test" figure: all 254 test rows standardised with pooled-train statistics, whatever the
   * method (FedHeartDisease(train=False, pooled=True)). Only a simulation that sees every site's data can
   * compute it; a real federation reports `pooled`.
   */
  pooledFlamby?: number;
}

/** Builds an AccuracyReport from per-site evaluation counts (pooled = Σ correct / Σ examples). */
export function accuracyReport(centers: readonly HeartDiseaseCenter[], counts: readonly EvaluationCounts[]): AccuracyReport {
  const perCenter = counts.map((c, i) => ({
    center: centers[i],
    accuracy: c.numExamples === 0 ? 0 : c.numCorrect / c.numExamples,
    numExamples: c.numExamples,
  }));
  const correct = counts.reduce((a, c) => a + c.numCorrect, 0);
  const total = counts.reduce((a, c) => a + c.numExamples, 0);
  return {
    perCenter,
    meanPerCenter: perCenter.reduce((a, c) => a + c.accuracy, 0) / perCenter.length,
    pooled: total === 0 ? 0 : correct / total,
  };
}
