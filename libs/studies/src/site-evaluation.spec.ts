import * as tf from '@tensorflow/tfjs';
import { createModel, initBackend } from '@medfed/models';

import { heartDiseaseDataset, heartDiseaseStudy } from './heart-disease.dataset';
import { SCORE_BINS, exactAuc } from './score-histogram';
import { evaluateSite, lossSumOf } from './site-evaluation';
import type { DatasetDefinition } from './study-definition';
import { combineEvaluations } from './study-metrics';

const context = { studyId: 's', round: 1, finalRound: true, seed: 1 };

describe('site evaluation on real data (Fed-Heart-Disease)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  async function trainedModel() {
    const spec = heartDiseaseStudy.spec('fast');
    const model = createModel(spec.model, 3);
    const splits = heartDiseaseDataset.load({ path: 'data/fed-heart-disease', site: 'cleveland' }).prepare(null);
    await model.train(splits.train, spec.training, 7);
    return { model, splits };
  }

  it('sends only aggregates whose AUC and counts match the per-patient predictions it keeps', async () => {
    // Arrange
    const before = tf.memory().numTensors;
    const { model, splits } = await trainedModel();

    // Act
    const body = await evaluateSite(model, heartDiseaseDataset, splits, context, 10);
    const probabilities = await model.predict(splits.test);
    model.dispose();

    // Assert: the binned AUC is within half a bin-width of the exact one; counts add up to the test split
    const exact = exactAuc(probabilities, splits.test.labels.data) as number;
    const combined = combineEvaluations([{ name: 'cleveland', body }]);
    expect(Math.abs((combined.pooled.auc as number) - exact)).toBeLessThan(0.005);
    expect(body.numExamples).toBe(104);
    expect((body.truePositives ?? 0) + (body.falsePositives ?? 0) + (body.trueNegatives ?? 0) + (body.falseNegatives ?? 0)).toBe(104);
    const correct = Array.from(probabilities).filter((p, i) => (p >= 0.5 ? 1 : 0) === splits.test.labels.data[i]).length;
    expect(body.numCorrect).toBe(correct);
    expect(body.lossSum).toBeCloseTo(lossSumOf(probabilities, splits.test.labels.data, 1), 6);
    // Nothing in the body is a per-patient value: every array is a histogram of SCORE_BINS counts.
    expect(body.scores?.[0].histograms[0].positives).toHaveLength(SCORE_BINS);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('suppresses a test split below the minimum cohort and drops rates over too few patients', async () => {
    const { model, splits } = await trainedModel();
    const withRates: DatasetDefinition = { ...heartDiseaseDataset, evaluateExtras: async () => ({ rates: { small: { count: 1, total: 5 }, large: { count: 30, total: 60 } } }) };

    const suppressed = await evaluateSite(model, heartDiseaseDataset, splits, context, 105);
    const rated = await evaluateSite(model, withRates, splits, context, 10);
    model.dispose();

    expect(suppressed).toEqual({ suppressed: true, numExamples: 104 });
    expect(rated.rates).toEqual([{ name: 'large', count: 30, total: 60 }]);
  });
});

describe('combining sites', () => {
  const h = (pos: number[], neg: number[]) => ({ positives: pos, negatives: neg });
  it('pools histograms (not AUCs), picks the min(Se,PPV) threshold on validation, and names the worst site', () => {
    // site A ranks perfectly (AUC 1); site B inverts (AUC 0). Pooled: positives at bins 3 and 0, negatives at 0 and 3.
    const a = { suppressed: false, numExamples: 4, lossSum: 1, scores: [{ group: 'model', histograms: [h([0, 0, 0, 2], [2, 0, 0, 0])] }], validation: { numExamples: 4, lossSum: 2, scores: [{ group: 'model', histograms: [h([0, 0, 1, 1], [1, 1, 0, 0])] }] } };
    const b = { suppressed: false, numExamples: 4, lossSum: 3, scores: [{ group: 'model', histograms: [h([2, 0, 0, 0], [0, 0, 0, 2])] }], validation: { numExamples: 4, lossSum: 6, scores: [] } };
    const c = { suppressed: true, numExamples: 3 };

    const m = combineEvaluations([{ name: 'A', body: a }, { name: 'B', body: b }, { name: 'C', body: c }]);

    expect(m.sites.map((s) => s.auc)).toEqual([1, 0, null]);
    // pooled: 2 positives at bin 3 beat all 4 negatives... negatives at bins 0 and 3: wins = 2·(2 + 2/2) + 2·(2/2) = 8 of 16
    expect(m.pooled.auc).toBe(0.5);
    expect(m.meanSite.auc).toBe(0.5);
    expect(m.worstSite).toEqual({ name: 'B', metric: 'auc', value: 0 });
    expect(m.validationLoss).toBe(1);
    // validation (site A only): calling bins ≥ 2 positive gives Se 1, PPV 1
    expect(m.thresholdBin).toBe(2);
    expect(m.sites[0].minSePpv).toBe(1);
    expect(m.pooled.numExamples).toBe(8);
  });
});
