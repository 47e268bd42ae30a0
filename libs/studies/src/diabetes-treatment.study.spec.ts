import * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import type { ExampleSet } from '@medfed/data';
import { registerModelFamily } from '@medfed/models';

import { DIABETES_FEATURES, DIABETES_MEDICATIONS, DIABETES_NUMERIC_FEATURES, DIABETES_SITES } from '@medfed/data';
import { autoencoderFamily } from '@medfed/models';
import { initBackend } from '@medfed/models';
import { diabetesDataset, diabetesRecommendationExtras, diabetesRecommendationRates, topRanked, UnknownDiabetesSiteError } from './diabetes-treatment.dataset';
import { diabetesTreatmentStudy } from './diabetes-treatment.study';
import { globalStatistics, simulateStudy } from './study-simulation';

const DATA_DIR = resolve(__dirname, '../../../data/diabetes-130');
const M = DIABETES_MEDICATIONS.length;
const D = DIABETES_FEATURES.length;
const K = DIABETES_NUMERIC_FEATURES.length;

/** A hand-made set: `regimens` lists each patient's prescribed medication indices; readmission [<30, any]. */
function handSet(regimens: number[][], readmitted: Array<[number, number]>): ExampleSet {
  const n = regimens.length;
  const labels = new Float32Array(n * M);
  regimens.forEach((meds, i) => meds.forEach((m) => (labels[i * M + m] = 1)));
  return {
    n,
    inputs: { x: { shape: [n, D], data: new Float32Array(n * D) }, readmitted: { shape: [n, 2], data: Float32Array.from(readmitted.flat()) } },
    labels: { shape: [n, M], data: labels },
  };
}

describe('recommendation metrics (hand-computed)', () => {
  it('ranks by score, ties to the lower index', () => {
    expect(topRanked([0.1, 0.9, 0.5, 0.9, 0.2], 0, 5, 3)).toEqual([1, 3, 2]);
    expect(topRanked([9, 9, 0.3, 0.1, 0.7], 2, 3, 2)).toEqual([2, 0]);
  });

  it('counts recall@3 and readmissions of matched vs unmatched patients', () => {
    // Arrange: patient 0 on {0, 1}, 1 on {5}, 2 on nothing; every patient's ranking is 0, 1, 2, 3, …
    const set = handSet([[0, 1], [5], []], [[1, 1], [0, 1], [0, 0]]);
    const ranking = Array.from({ length: M }, (_, m) => m);

    // Act
    const rates = diabetesRecommendationRates(set, () => ranking, 'x_');

    // Assert: recall 2 of 3 prescribed; only patient 0's regimen includes the top recommendation (0).
    expect(rates).toEqual({
      x_recall_at_3: { count: 2, total: 3 },
      x_readmit30_top1_matched: { count: 1, total: 1 },
      x_readmit30_top1_unmatched: { count: 0, total: 2 },
      x_readmit_any_top1_matched: { count: 1, total: 1 },
      x_readmit_any_top1_unmatched: { count: 1, total: 2 },
    });
  });

  it('scores the model by its probabilities and the popularity baseline by prescription frequency', async () => {
    // Arrange: medication 7 is the most prescribed (3 patients), then 2 (2), then 4 (1).
    const set = handSet([[7, 2], [7, 4], [7, 2], [9]], [[0, 0], [1, 1], [0, 1], [0, 0]]);
    const probabilities = new Float32Array(4 * M);
    // The model puts medication 9 first for everyone, then 4, then 2.
    for (let i = 0; i < 4; i++) [[9, 0.9], [4, 0.8], [2, 0.7]].forEach(([m, p]) => (probabilities[i * M + m] = p));

    // Act
    const { rates } = await diabetesRecommendationExtras(unusedModel(), set, probabilities);

    // Assert: model top-3 {9, 4, 2} finds one medication per patient (2, 4, 2, 9): 4 of 7 prescribed.
    expect(rates?.['recall_at_3']).toEqual({ count: 4, total: 7 });
    // Popularity top-3 {7, 2, 4}: patient 0: 2, 1: 2, 2: 2, 3: 0 → 6 of 7.
    expect(rates?.['popularity_recall_at_3']).toEqual({ count: 6, total: 7 });
    // Model top-1 (9) matches only patient 3; popularity top-1 (7) matches patients 0–2.
    expect(rates?.['readmit_any_top1_matched']).toEqual({ count: 0, total: 1 });
    expect(rates?.['popularity_readmit_any_top1_matched']).toEqual({ count: 2, total: 3 });
    expect(rates?.['popularity_readmit30_top1_unmatched']).toEqual({ count: 0, total: 1 });
  });
});

/** evaluateExtras does not use the model; any object of the right type will do. */
function unusedModel(): Parameters<typeof diabetesRecommendationExtras>[0] {
  return {} as Parameters<typeof diabetesRecommendationExtras>[0];
}

describe('diabetesDataset on the real data', () => {
  it('refuses an unknown site', () => {
    expect(() => diabetesDataset.load({ path: DATA_DIR, site: 'icu-1' })).toThrow(UnknownDiabetesSiteError);
  });

  it('gives every site thousands of patients, numeric sums only, and standardises with the global statistics', () => {
    // Act
    const loaded = DIABETES_SITES.map((site) => diabetesDataset.load({ path: DATA_DIR, site, seed: 42 }));
    const statistics = globalStatistics(diabetesTreatmentStudy.spec('full'), loaded);
    const splits = loaded.map((l) => l.prepare(statistics));

    // Assert
    loaded.forEach((l) => expect(l.sizes.train + l.sizes.validation + l.sizes.test).toBeGreaterThan(4000));
    expect(loaded.map((l) => l.sums?.count.length)).toEqual([K, K, K, K]);
    expect(statistics?.count[0]).toBe(loaded.reduce((t, l) => t + l.sizes.train, 0));
    // Pooled over all sites' training splits, every numeric column has mean 0 and variance 1 under global statistics.
    const n = splits.reduce((t, s) => t + s.train.n, 0);
    for (let k = 0; k < K; k++) {
      let sum = 0;
      let squares = 0;
      for (const s of splits) for (let i = 0; i < s.train.n; i++) {
        const v = s.train.inputs['x'].data[i * D + k];
        sum += v;
        squares += v * v;
      }
      expect(Math.abs(sum / n)).toBeLessThan(1e-4);
      expect(squares / n).toBeCloseTo(1, 3);
    }
    // Indicator columns are left as 0/1.
    const last = splits[0].train.inputs['x'].data.slice(K, D);
    expect(last.every((v) => v === 0 || v === 1)).toBe(true);
  }, 120_000);

  it('hides the regimens of 30-day readmissions from training and validation, not from the test split', () => {
    // Act
    const { train, validation, test } = diabetesDataset.load({ path: DATA_DIR, site: 'transfer' }).prepare(null);

    // Assert
    const check = (set: ExampleSet, masked: boolean) => {
      let readmitted = 0;
      for (let i = 0; i < set.n; i++) {
        const row = set.labels.data.slice(i * M, (i + 1) * M);
        if (set.inputs['readmitted'].data[2 * i] === 1) {
          readmitted++;
          expect(row.every((v) => Number.isNaN(v))).toBe(masked);
        } else {
          expect(row.every((v) => v === 0 || v === 1)).toBe(true);
        }
      }
      expect(readmitted).toBeGreaterThan(20);
    };
    check(train, true);
    check(validation, true);
    check(test, false);
  }, 60_000);
});

describe('diabetesTreatmentStudy', () => {
  it('declares a valid autoencoder spec with federated statistics and early stopping', () => {
    for (const size of ['full', 'fast'] as const) {
      const spec = diabetesTreatmentStudy.spec(size);
      expect(() => autoencoderFamily.validate(spec.model)).not.toThrow();
      expect(spec).toMatchObject({ dataset: 'diabetes-130', strategy: 'fedavg', preprocessing: { federatedStatistics: true } });
      expect(spec.earlyStopping?.patience).toBeGreaterThanOrEqual(1);
      expect(spec.model.inputDim).toBe(diabetesDataset.featureNames.length);
      expect(spec.model.outputs).toBe(diabetesDataset.outputNames.length);
    }
    expect(diabetesTreatmentStudy.spec('fast').rounds).toBeLessThan(diabetesTreatmentStudy.spec('full').rounds);
  });

  it('fast federation on the real data: recall@3 over twice a random ranking (3/23), AUC above 0.5', async () => {
    // Arrange
    await initBackend('wasm');
    registerModelFamily(autoencoderFamily);
    const before = tf.memory().numTensors;

    // Act
    const result = await simulateStudy(diabetesTreatmentStudy, diabetesDataset, {
      dataDir: DATA_DIR,
      spec: diabetesTreatmentStudy.spec('fast'),
      run: { federated: true, local: false, centralised: false },
    });

    // Assert
    const pooled = result.federated?.metrics.pooled;
    expect(pooled?.rates['recall_at_3'].rate).toBeGreaterThan(0.3);
    expect(pooled?.rates['popularity_recall_at_3'].total).toBe(pooled?.rates['recall_at_3'].total);
    expect(pooled?.auc).toBeGreaterThan(0.52);
    expect(tf.memory().numTensors).toBe(before);
  }, 180_000);
});
