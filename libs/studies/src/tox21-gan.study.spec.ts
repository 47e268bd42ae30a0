import * as tf from '@tensorflow/tfjs';
import { resolve } from 'node:path';
import { DataSchemaError } from '@medfed/data';
import { validateStudySpec } from '@medfed/protocol';

import { cganFamily } from '@medfed/models';
import { registerModelFamily } from '@medfed/models';
import { initBackend } from '@medfed/models';
import { simulateStudy } from './study-simulation';
import { tox21Dataset } from './tox21-gan.dataset';
import { TOX21_GAN_AUGMENTED_MODEL, tox21GanStudy } from './tox21-gan.study';

const DATA_DIR = resolve(__dirname, '../../../data/tox21');
const fastModel = tox21GanStudy.spec('fast').model;
const small = { ...fastModel, architecture: { ...fastModel.architecture, classifierHidden: [8], generatorHidden: [8], discriminatorHidden: [8], autoencoderHidden: [8] } };

beforeAll(async () => {
  await initBackend('wasm');
  registerModelFamily(cganFamily);
});

describe('tox21Dataset.load', () => {
  it('gives the three scaffold sites every one of the 8,006 parsed molecules, split 80/10/10', () => {
    const sizes = tox21Dataset.sites.map((site) => tox21Dataset.load({ path: DATA_DIR, site }).sizes);
    const total = sizes.reduce((t, s) => t + s.train + s.validation + s.test, 0);
    expect(total).toBe(8006);
    for (const s of sizes) {
      const n = s.train + s.validation + s.test;
      expect(Math.abs(s.train / n - 0.8)).toBeLessThan(0.01);
      expect(Math.abs(s.test / n - 0.1)).toBeLessThan(0.01);
    }
  });

  it('prepares fingerprints [n, 1024] of 0/1 and 12 labels with NaN for untested assays, whatever the statistics', () => {
    const site = tox21Dataset.load({ path: DATA_DIR, site: 'site-2', seed: 7 });
    const splits = site.prepare(null);
    expect(splits.train.n).toBe(site.sizes.train);
    expect(splits.test.inputs['x'].shape).toEqual([site.sizes.test, 1024]);
    expect(splits.test.labels.shape).toEqual([site.sizes.test, 12]);
    expect(splits.train.inputs['x'].data.every((v) => v === 0 || v === 1)).toBe(true);
    expect(splits.train.labels.data.some((v) => Number.isNaN(v))).toBe(true);
    expect(site.prepare({ count: [], mean: [], std: [] }).test).toEqual(splits.test);
  });

  it('refuses an unknown site or partition', () => {
    expect(() => tox21Dataset.load({ path: DATA_DIR, site: 'site-4' })).toThrow(new DataSchemaError('tox21 has no site "site-4"; the sites are site-1, site-2, site-3'));
    expect(() => tox21Dataset.load({ path: DATA_DIR, site: 'site-1', partition: 'even' })).toThrow(/no partition "even"/);
  });
});

describe('tox21Dataset.evaluateExtras (train on synthetic, test on real)', () => {
  it('runs only in the final round of a study that asks for it, and gives every site the same classifier from the same generator and seed', async () => {
    // Arrange
    const before = tf.memory().numTensors;
    const model = cganFamily.create(small, 3);
    const test = tox21Dataset.load({ path: DATA_DIR, site: 'site-1' }).prepare(null).test;
    const p = await model.predict(test);
    const context = { studyId: 's', round: 3, finalRound: false, seed: 42, syntheticEvaluation: { samples: 1024, steps: 50 } };
    const extras = tox21Dataset.evaluateExtras;
    if (!extras) throw new Error('tox21Dataset has no evaluateExtras');

    // Act
    const notFinal = await extras(model, test, p, context);
    const notAsked = await extras(model, test, p, { ...context, finalRound: true, syntheticEvaluation: undefined });
    const a = await extras(model, test, p, { ...context, finalRound: true });
    const b = await extras(model, test, p, { ...context, finalRound: true });

    // Assert
    expect(notFinal).toEqual({});
    expect(notAsked).toEqual({});
    const tstr = a.scoreGroups?.['tstr'] as Float32Array;
    expect(tstr.length).toBe(test.n * 12);
    expect(tstr.every((v) => v > 0 && v < 1)).toBe(true);
    expect(b.scoreGroups?.['tstr']).toEqual(tstr);
    expect(tstr).not.toEqual(p);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);
});

describe('tox21GanStudy', () => {
  it('declares valid cgan specs for three sites with early stopping', () => {
    for (const size of ['full', 'fast'] as const) {
      const spec = tox21GanStudy.spec(size);
      expect(() => cganFamily.validate(spec.model)).not.toThrow();
      expect([spec.dataset, spec.minSites, spec.strategy]).toEqual(['tox21', 3, 'fedavg']);
      expect(spec.earlyStopping?.patience).toBeGreaterThanOrEqual(1);
      expect(() => validateStudySpec(spec)).not.toThrow();
    }
    // Both have a generator phase; the demo's train-on-synthetic set is the large one, the tests' the small one.
    expect(tox21GanStudy.spec('full').generatorPhase).toEqual({ rounds: 30, localSteps: 200, batchSize: 128 });
    expect(tox21GanStudy.spec('fast').generatorPhase?.rounds).toBe(2);
    expect(tox21GanStudy.spec('full').syntheticEvaluation).toEqual({ samples: 32768, steps: 1500 });
    expect(tox21GanStudy.spec('fast').syntheticEvaluation).toEqual({ samples: 4096, steps: 400 });
    expect(() => cganFamily.validate(TOX21_GAN_AUGMENTED_MODEL)).not.toThrow();
    expect(tox21GanStudy.spec('fast').rounds).toBeLessThan(tox21GanStudy.spec('full').rounds);
  });

  it('trains the baselines\' classifier exactly as the full model trains its own, on real fingerprints', async () => {
    const before = tf.memory().numTensors;
    const spec = tox21GanStudy.spec('full');
    const baseline = tox21GanStudy.baselines?.spec(spec);
    if (!baseline) throw new Error('tox21-gan declares no baseline configuration');
    expect(baseline.generatorPhase).toBeUndefined();
    expect(baseline.syntheticEvaluation).toBeUndefined();
    const site = tox21Dataset.load({ path: DATA_DIR, site: 'site-3' }).prepare(null);
    const full = cganFamily.create(spec.model, spec.seed);
    const alone = cganFamily.create(baseline.model, spec.seed);
    const training = { ...spec.training, localSteps: 4 };
    await full.train(site.train, training, 7);
    await alone.train(site.train, training, 7);
    // C is the first four tensors of both; the full model also trained its autoencoder meanwhile.
    expect(alone.getWeights().slice(0, 4)).toEqual(full.getWeights().slice(0, 4));
    expect(alone.getWeights().length).toBeLessThan(full.getWeights().length);
    expect(await alone.predict(site.test)).toEqual(await full.predict(site.test));
    [full, alone].forEach((m) => m.dispose());
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it("simulates both phases (fast spec, small networks): 12 assays' AUCs, TSTR, and the chosen round's classifier kept", async () => {
    const before = tf.memory().numTensors;
    const result = await simulateStudy(tox21GanStudy, tox21Dataset, {
      dataDir: DATA_DIR,
      spec: { ...tox21GanStudy.spec('fast'), model: small },
      run: { federated: true, local: false, centralised: false },
    });
    const federated = result.federated;
    if (!federated) throw new Error('no federated result');
    expect(federated.metrics.pooled.aucPerOutput).toHaveLength(12);
    expect(federated.metrics.pooled.auc).toBeGreaterThan(0);
    const chosen = federated.history[federated.bestRound - 1].metrics;
    // C did not move in the phase: every assay's pooled AUC and the validation loss are exactly the chosen round's.
    expect(federated.metrics.pooled.aucPerOutput).toEqual(chosen.pooled.aucPerOutput);
    expect(federated.metrics.validationLoss).toBe(chosen.validationLoss);
    expect(federated.metrics.pooled.groups['tstr']?.auc).toBeGreaterThan(0);
    expect(tf.memory().numTensors).toBe(before);
  }, 180_000);
});
