import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { DataSchemaError, loadBreastMnist } from '@medfed/data';
import type { ExampleSet } from '@medfed/data';

import { cnnFamily, initBackend } from '@medfed/models';
import type { WeightTensor } from '@medfed/models';
import { BREASTMNIST_SITES, breastMnistDataset } from './breast-ultrasound.dataset';
import { breastUltrasoundStudy } from './breast-ultrasound.study';
import type { SiteSplits } from './study-definition';
import { pairwiseAuc } from '@medfed/models/testing';

const DATA_DIR = join(__dirname, '..', '..', '..', 'data', 'breastmnist');

function loadAll(partition: string): Array<{ sizes: { train: number; validation: number; test: number }; splits: SiteSplits }> {
  return BREASTMNIST_SITES.map((site) => {
    const loaded = breastMnistDataset.load({ path: DATA_DIR, site, partition });
    return { sizes: loaded.sizes, splits: loaded.prepare(null) };
  });
}

function countLabel(set: ExampleSet, label: number): number {
  return set.labels.data.reduce((c, y) => c + (y === label ? 1 : 0), 0);
}

/** Sum of all pixel values: equal for two sets holding the same images in any order. */
function pixelSum(data: Float32Array): number {
  return data.reduce((a, b) => a + b, 0);
}

describe('breastMnistDataset', () => {
  it('divides every official split evenly among three sites: sizes and label counts differ by at most one', () => {
    // Act
    const sites = loadAll('even');

    // Assert: official sizes 546/78/156 (147/21/42 malignant) over three sites.
    expect(sites.map((s) => s.sizes)).toEqual([
      { train: 182, validation: 26, test: 52 },
      { train: 182, validation: 26, test: 52 },
      { train: 182, validation: 26, test: 52 },
    ]);
    for (const [split, malignant] of [['train', 147], ['validation', 21], ['test', 42]] as const) {
      const counts = sites.map((s) => countLabel(s.splits[split], 0));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(malignant);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });

  it('skews the label mix by site: malignant training images 25/49/73 of 147, benign 200/133/66 of 399', () => {
    // Arrange: shares 1/6, 2/6, 3/6 of label 0 and 3/6, 2/6, 1/6 of label 1, largest remainder, ties to the first site:
    // 147 → 24.5, 49, 73.5 → 25, 49, 73; 399 → 199.5, 133, 66.5 → 200, 133, 66.

    // Act
    const sites = loadAll('skewed');

    // Assert
    expect(sites.map((s) => countLabel(s.splits.train, 0))).toEqual([25, 49, 73]);
    expect(sites.map((s) => countLabel(s.splits.train, 1))).toEqual([200, 133, 66]);
    expect(sites.map((s) => s.sizes.train)).toEqual([225, 182, 139]);
  });

  it('gives each site its own part of the official test set: together exactly the official test images', () => {
    // Arrange
    const official = loadBreastMnist(DATA_DIR).test;

    // Act
    const sites = loadAll('skewed');

    // Assert: the same number of images and the same pixel total after the fixed scaling (x/255 − 0.5)/0.5.
    const parts = sites.map((s) => s.splits.test);
    expect(parts.reduce((n, p) => n + p.n, 0)).toBe(official.n);
    const expected = official.x.reduce((a, v) => a + (v - 0.5) / 0.5, 0);
    expect(parts.reduce((a, p) => a + pixelSum(p.inputs['x'].data), 0)).toBeCloseTo(expected, 0);
  });

  it('prepares the cnn ExampleSet: x [n, 28, 28, 1] scaled to [−1, 1], labels [n, 1], no federated sums', () => {
    const loaded = breastMnistDataset.load({ path: DATA_DIR, site: 'site-2' });
    const { train } = loaded.prepare(null);

    expect(loaded.sums).toBeUndefined();
    expect(train.inputs['x'].shape).toEqual([182, 28, 28, 1]);
    expect(train.labels.shape).toEqual([182, 1]);
    const x = train.inputs['x'].data;
    expect(x.reduce((m, v) => Math.min(m, v), 0)).toBeGreaterThanOrEqual(-1);
    expect(x.reduce((m, v) => Math.max(m, v), 0)).toBeLessThanOrEqual(1);
    // Statistics are ignored: the scaling is fixed, so every site and the global model agree without a statistics round.
    expect(Array.from(loaded.prepare({ count: [1], mean: [100], std: [7] }).train.inputs['x'].data.subarray(0, 50))).toEqual(Array.from(x.subarray(0, 50)));
  });

  it('refuses an unknown site or partition, naming it', () => {
    expect(() => breastMnistDataset.load({ path: DATA_DIR, site: 'site-4' })).toThrow(DataSchemaError);
    expect(() => breastMnistDataset.load({ path: DATA_DIR, site: 'site-4' })).toThrow('breastmnist has no site "site-4"');
    expect(() => breastMnistDataset.load({ path: DATA_DIR, site: 'site-1', partition: 'iid' })).toThrow('no partition "iid"');
  });
});

describe('breastUltrasoundStudy', () => {
  it('declares FedAvg of a valid cnn over the three sites, with a small fast variant', () => {
    const full = breastUltrasoundStudy.spec('full');
    const fast = breastUltrasoundStudy.spec('fast');

    expect(() => cnnFamily.validate(full.model)).not.toThrow();
    expect(full).toMatchObject({ dataset: 'breastmnist', strategy: 'fedavg', minSites: 3 });
    expect(breastUltrasoundStudy.sites).toEqual(['site-1', 'site-2', 'site-3']);
    expect(fast.rounds * fast.training.localSteps).toBeLessThan(full.rounds * full.training.localSteps);
    expect(fast.model).toEqual(full.model);
  });

  it('a few FedAvg rounds on the real data beat chance on the pooled validation set', async () => {
    // Arrange: the full study's model and training, 3 rounds.
    await initBackend('wasm');
    const spec = breastUltrasoundStudy.spec('full');
    const sites = loadAll('even').map((s) => s.splits);
    const model = cnnFamily.create(spec.model, spec.seed);
    const before = tf.memory().numTensors;
    let global = model.getWeights();

    // Act: FedAvg, weighted by training-set size.
    for (let round = 1; round <= 3; round++) {
      const updates: Array<{ weights: WeightTensor[]; n: number }> = [];
      for (const [i, site] of sites.entries()) {
        model.setWeights(global);
        const outcome = await model.train(site.train, spec.training, round * 10 + i);
        updates.push({ weights: model.getWeights(), n: outcome.numExamples });
      }
      const total = updates.reduce((t, u) => t + u.n, 0);
      global = global.map((w, l) => ({
        shape: w.shape,
        data: w.data.map((_, k) => updates.reduce((a, u) => a + (u.n / total) * u.weights[l].data[k], 0)),
      }));
    }
    model.setWeights(global);
    const scores: number[] = [];
    const labels: number[] = [];
    for (const site of sites) {
      scores.push(...(await model.predict(site.validation)));
      labels.push(...site.validation.labels.data);
    }
    const auc = pairwiseAuc(Float32Array.from(scores), Float32Array.from(labels));

    // Assert: chance is 0.5.
    expect(auc).toBeGreaterThan(0.7);
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    await initBackend('cpu');
  }, 180_000);
});
