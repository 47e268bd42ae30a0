import { ContributionRecord } from '@medfed/coordinator-store';
import type { EvaluateResultBody } from '@medfed/protocol';
import { SiteEvaluationBody, StudyMetrics, combineEvaluations } from '@medfed/studies';

/** One site's line in a round's metrics: counts and aggregates only, never a patient's value. */
export interface SiteEvaluation {
  nodeId: string;
  name: string;
  numExamples: number;
  /** True when the site had fewer test patients than its minimum cohort and sent only the count. */
  suppressed: boolean;
  accuracy: number | null;
  meanLoss: number | null;
}

/** Metrics of an evaluate round, combined from each site's confusion counts. */
export interface EvaluationMetrics {
  sites: SiteEvaluation[];
  /** Accuracy over the union of the sites' test splits: Σ correct / Σ examples. */
  pooledAccuracy: number | null;
  pooledMeanLoss: number | null;
  pooledExamples: number;
  /** Unweighted mean of the per-site accuracies (FLamby's headline metric). */
  meanSiteAccuracy: number | null;
  worstSite: { nodeId: string; name: string; accuracy: number } | null;
  /** AUC, min(Se, PPV), calibration, rates and validation loss, per site and pooled, from the sites' score histograms. */
  study: StudyMetrics;
}

function num(metrics: Record<string, unknown>, key: string): number {
  const value = metrics[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

/** A stored evaluate contribution as the body the site sent (counts, histograms, rates, validation). */
function siteBody(c: ContributionRecord): SiteEvaluationBody {
  return { ...(c.metrics as Partial<EvaluateResultBody>), suppressed: c.metrics['suppressed'] === true, numExamples: c.numExamples };
}

/**
 * Combines the sites' evaluation aggregates of one round into per-site and pooled figures. Accuracy comes from
 * the confusion counts when a site sent them (one output), else from its score histograms.
 */
export function evaluationMetrics(
  contributions: readonly ContributionRecord[],
  names: ReadonlyMap<string, string>,
  headline: 'accuracy' | 'auc' = 'accuracy',
): EvaluationMetrics {
  const study = combineEvaluations(
    contributions.map((c) => ({ name: names.get(c.nodeId) ?? c.nodeId, body: siteBody(c) })),
    headline,
  );
  const sites: SiteEvaluation[] = contributions.map((c, i) => {
    const suppressed = c.metrics['suppressed'] === true || c.numExamples === 0;
    return {
      nodeId: c.nodeId,
      name: names.get(c.nodeId) ?? c.nodeId,
      numExamples: c.numExamples,
      suppressed,
      accuracy: suppressed ? null : typeof c.metrics['numCorrect'] === 'number' ? num(c.metrics, 'numCorrect') / c.numExamples : study.sites[i].accuracy,
      meanLoss: suppressed ? null : num(c.metrics, 'lossSum') / c.numExamples,
    };
  });
  const reported = contributions.filter((c) => c.metrics['suppressed'] !== true && c.numExamples > 0);
  const pooledExamples = reported.reduce((sum, c) => sum + c.numExamples, 0);
  const allCounted = reported.every((c) => typeof c.metrics['numCorrect'] === 'number');
  const pooledLoss = reported.reduce((sum, c) => sum + num(c.metrics, 'lossSum'), 0);
  const accuracies = sites.filter((s) => s.accuracy !== null) as (SiteEvaluation & { accuracy: number })[];
  const worst = accuracies.reduce<(SiteEvaluation & { accuracy: number }) | null>(
    (w, s) => (w === null || s.accuracy < w.accuracy ? s : w),
    null,
  );
  return {
    sites,
    pooledAccuracy: pooledExamples === 0 ? null : allCounted ? reported.reduce((sum, c) => sum + num(c.metrics, 'numCorrect'), 0) / pooledExamples : study.pooled.accuracy,
    pooledMeanLoss: pooledExamples > 0 ? pooledLoss / pooledExamples : null,
    pooledExamples,
    meanSiteAccuracy: accuracies.length > 0 ? accuracies.reduce((s, a) => s + a.accuracy, 0) / accuracies.length : null,
    worstSite: worst ? { nodeId: worst.nodeId, name: worst.name, accuracy: worst.accuracy } : null,
    study,
  };
}

/** The pooled validation loss recorded with an evaluate round's metrics, or null when the sites sent none. */
export function validationLossOf(metrics: Record<string, unknown> | null): number | null {
  const study = metrics?.['study'] as { validationLoss?: unknown } | undefined;
  return typeof study?.validationLoss === 'number' && Number.isFinite(study.validationLoss) ? study.validationLoss : null;
}

/** Metrics of a train round: who took part, with how many examples, and the weighted training loss. */
export interface TrainingMetrics {
  sites: { nodeId: string; name: string; numExamples: number; meanLoss: number; durationMs: number; frameBytes: number }[];
  totalExamples: number;
  weightedMeanLoss: number | null;
}

/** Summarises the accepted contributions of one train round. */
export function trainingMetrics(contributions: readonly ContributionRecord[], names: ReadonlyMap<string, string>): TrainingMetrics {
  const sites = contributions.map((c) => ({
    nodeId: c.nodeId,
    name: names.get(c.nodeId) ?? c.nodeId,
    numExamples: c.numExamples,
    meanLoss: num(c.metrics, 'meanLoss'),
    durationMs: num(c.metrics, 'durationMs'),
    frameBytes: c.frameBytes,
  }));
  const totalExamples = sites.reduce((s, x) => s + x.numExamples, 0);
  return {
    sites,
    totalExamples,
    weightedMeanLoss: totalExamples > 0 ? sites.reduce((s, x) => s + x.meanLoss * x.numExamples, 0) / totalExamples : null,
  };
}
