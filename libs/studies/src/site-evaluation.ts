import type { ExampleSet } from '@medfed/data';
import type { FederatedModel } from '@medfed/models';
import type { EvaluateResultBody, RateWire, ScoreGroupWire, SplitEvaluationWire } from '@medfed/protocol';

import { confusionAt, SCORE_BINS, scoreHistograms } from './score-histogram';
import { permutationImportance } from './permutation-importance';
import type { DatasetDefinition, EvaluationContext, SiteSplits } from './study-definition';

/** Σ over examples of the mean binary cross-entropy over each example's labelled outputs (missing labels skipped). */
export function lossSumOf(probabilities: Float32Array, labels: Float32Array, outputs: number): number {
  const eps = 1e-7;
  let total = 0;
  for (let row = 0; row < labels.length / outputs; row++) {
    let sum = 0;
    let labelled = 0;
    for (let k = 0; k < outputs; k++) {
      const y = labels[row * outputs + k];
      if (Number.isNaN(y)) continue;
      const p = Math.min(1 - eps, Math.max(eps, probabilities[row * outputs + k]));
      sum += -(y * Math.log(p) + (1 - y) * Math.log(1 - p));
      labelled++;
    }
    if (labelled > 0) total += sum / labelled;
  }
  return total;
}

function groupsOf(model: Float32Array, extras: Record<string, Float32Array> | undefined, labels: Float32Array, outputs: number): ScoreGroupWire[] {
  const groups: ScoreGroupWire[] = [{ group: 'model', histograms: scoreHistograms(model, labels, outputs, SCORE_BINS) }];
  for (const [group, probabilities] of Object.entries(extras ?? {})) {
    groups.push({ group, histograms: scoreHistograms(probabilities, labels, outputs, SCORE_BINS) });
  }
  return groups;
}

/** Everything a site's evaluation sends, without the task scope (study, round, version). */
export type SiteEvaluationBody = Omit<EvaluateResultBody, 'studyId' | 'round' | 'modelVersion'>;

/**
 * Evaluates `model` on a site's validation and test splits and returns only aggregates: loss sums, score
 * histograms, (for one output) the confusion counts at 0.5, and the data set's extra rates. A split smaller
 * than `minCohort` patients is not reported (test: only its size is sent; validation: left out), and so is
 * every rate over fewer than `minCohort` patients.
 */
export async function evaluateSite(
  model: FederatedModel,
  dataset: DatasetDefinition,
  splits: Pick<SiteSplits, 'validation' | 'test'>,
  context: EvaluationContext,
  minCohort: number,
): Promise<SiteEvaluationBody> {
  const outputs = model.spec.outputs ?? 1;
  const { test, validation } = splits;
  if (test.n < minCohort || test.n === 0) {
    return { suppressed: true, numExamples: test.n };
  }
  const testProbabilities = await model.predict(test);
  const extras = dataset.evaluateExtras ? await dataset.evaluateExtras(model, test, testProbabilities, context) : {};
  const scores = groupsOf(testProbabilities, extras.scoreGroups, test.labels.data, outputs);
  const rates: RateWire[] = Object.entries(extras.rates ?? {})
    .filter(([, r]) => r.total >= Math.max(1, minCohort))
    .map(([name, r]) => ({ name, count: r.count, total: r.total }));
  const body: SiteEvaluationBody = {
    suppressed: false,
    numExamples: test.n,
    lossSum: lossSumOf(testProbabilities, test.labels.data, outputs),
    scores,
    ...(rates.length > 0 ? { rates } : {}),
  };
  if (outputs === 1) {
    const { tp, fp, tn, fn } = confusionAt(scores[0].histograms[0], SCORE_BINS / 2);
    // Unlabelled rows do not appear in the histogram; the confusion identity needs every example counted.
    if (tp + fp + tn + fn === test.n) {
      Object.assign(body, { numCorrect: tp + tn, truePositives: tp, falsePositives: fp, trueNegatives: tn, falseNegatives: fn });
    }
  }
  if (validation.n >= minCohort && validation.n > 0) {
    body.validation = await evaluateValidation(model, validation, outputs);
  }
  if (context.finalRound && dataset.importanceAxis) {
    // Permutation importance once, on the final model: per-feature sums of loss increases over the whole test split.
    const importance = await permutationImportance(model, test, dataset.importanceAxis, context.seed);
    body.importance = importance.lossIncreaseSum;
  }
  return body;
}

async function evaluateValidation(model: FederatedModel, set: ExampleSet, outputs: number): Promise<SplitEvaluationWire> {
  const probabilities = await model.predict(set);
  return {
    numExamples: set.n,
    lossSum: lossSumOf(probabilities, set.labels.data, outputs),
    scores: groupsOf(probabilities, undefined, set.labels.data, outputs),
  };
}
