import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import type { FeatureStatistics } from '@medfed/protocol';
import { PHYSIONET_FEATURES } from '@medfed/data';

import { initBackend, registerModelFamily, registerWasmTrainingKernels, rnnFamily } from '@medfed/models';
import { ICU_CLIP, physionetDataset, statisticsFromSums, UnknownIcuSiteError } from './icu-mortality.dataset';
import { icuMortalityStudy } from './icu-mortality.study';
import { simulateStudy } from './study-simulation';

const DATA_DIR = join(__dirname, '..', '..', '..', 'data', 'physionet-2012');
const F = PHYSIONET_FEATURES.length;
const feature = (name: string) => PHYSIONET_FEATURES.indexOf(name);

/** Observed values of feature `f` in a [n, 48, F] input, by its mask. */
function observed(values: Float32Array, mask: Float32Array, f: number): number[] {
  const out: number[] = [];
  for (let k = f; k < values.length; k += F) if (mask[k] === 1) out.push(values[k]);
  return out;
}

const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const stdOf = (xs: number[]) => Math.sqrt(meanOf(xs.map((x) => (x - meanOf(xs)) ** 2)));

describe('physionetDataset (real set A)', () => {
  const icu3 = physionetDataset.load({ path: DATA_DIR, site: 'icu-3' });

  it('splits ICU type 3 into stratified 20 % test and 20 % of the rest for validation', () => {
    // Assert: ICU 3 = 1,206 survivors + 275 deaths. Test 241 + 55 = 296; validation round(0.2·965) + round(0.2·220)
    // = 193 + 44 = 237; train 1,481 − 296 − 237 = 948.
    expect(icu3.sizes).toEqual({ train: 948, validation: 237, test: 296 });
    const splits = icu3.prepare(null);
    expect([splits.train.n, splits.validation.n, splits.test.n]).toEqual([948, 237, 296]);
    expect(splits.train.labels.data.reduce((a, b) => a + b, 0)).toBe(275 - 55 - 44);
  });

  it('refuses a site that is not an ICU type, naming it', () => {
    // Act / Assert
    expect(() => physionetDataset.load({ path: DATA_DIR, site: 'icu-5' })).toThrow(UnknownIcuSiteError);
    expect(() => physionetDataset.load({ path: DATA_DIR, site: 'icu-5' })).toThrow(/unknown physionet-2012 site 'icu-5'/);
  });

  it('sends sums over the observed training values only, on the log scale for skewed labs', () => {
    // Arrange
    const sums = icu3.sums;
    const train = icu3.prepare(null).train;

    // Act
    const stats = statisticsFromSums(sums as NonNullable<typeof sums>);

    // Assert: counts equal the training split's observed cells; means are clinically plausible for a medical ICU
    // (heart rate 75–100 /min; creatinine 0.8–2.5 mg/dL as the back-transformed log mean; GCS 3–15).
    for (const name of ['HR', 'Cholesterol', 'Creatinine']) {
      expect(sums?.count[feature(name)]).toBe(observed(train.inputs.values.data, train.inputs.mask.data, feature(name)).length);
    }
    expect(stats.mean[feature('HR')]).toBeGreaterThan(75);
    expect(stats.mean[feature('HR')]).toBeLessThan(100);
    expect(Math.expm1(stats.mean[feature('Creatinine')])).toBeGreaterThan(0.8);
    expect(Math.expm1(stats.mean[feature('Creatinine')])).toBeLessThan(2.5);
    expect(stats.mean[feature('GCS')]).toBeGreaterThan(3);
    expect(stats.mean[feature('GCS')]).toBeLessThan(15);
  });

  it('prepare(null) z-scores observed values with the site statistics and leaves missing cells at 0', () => {
    // Act
    const { train } = icu3.prepare(null);
    const { values, mask, delta, statics } = train.inputs;

    // Assert
    for (const name of ['HR', 'Temp', 'Glucose']) {
      const z = observed(values.data, mask.data, feature(name));
      expect(Math.abs(meanOf(z))).toBeLessThan(0.02);
      expect(stdOf(z)).toBeGreaterThan(0.95);
      expect(stdOf(z)).toBeLessThan(1.001);
    }
    expect(values.data.every((v, k) => (mask.data[k] === 1 ? Math.abs(v) <= ICU_CLIP : v === 0))).toBe(true);
    expect(values.shape).toEqual([948, 48, F]);
    // Hours since the last observation, at most 47, in units of the 48-hour window.
    expect(delta.data.reduce((a, b) => Math.max(a, b), 0)).toBeCloseTo(47 / 48, 6);
    expect(delta.data.reduce((a, b) => Math.min(a, b), 1)).toBe(0);
    expect(statics.shape).toEqual([948, 7]);
  });

  it('prepare(statistics) uses the given statistics: twice the spread halves every unclipped value', () => {
    // Arrange
    const own = statisticsFromSums(icu3.sums as NonNullable<typeof icu3.sums>);
    const wider: FeatureStatistics = { ...own, std: own.std.map((s) => 2 * s) };

    // Act
    const local = icu3.prepare(null).validation.inputs.values.data;
    const global = icu3.prepare(wider).validation.inputs.values.data;

    // Assert
    let checked = 0;
    let worst = 0;
    local.forEach((v, k) => {
      if (Math.abs(v) < ICU_CLIP - 0.01 && v !== 0) {
        worst = Math.max(worst, Math.abs(global[k] - v / 2));
        checked++;
      }
    });
    expect(checked).toBeGreaterThan(10_000);
    expect(worst).toBeLessThan(1e-5);
    expect(() => icu3.prepare({ count: [1], mean: [0], std: [1] })).toThrow(/statistics have 1 means and 1 stds, expected 37/);
  });
});

describe('icuMortalityStudy', () => {
  beforeAll(async () => {
    await initBackend('wasm');
    registerWasmTrainingKernels();
    registerModelFamily(rnnFamily);
  });

  it('declares four ICU-type sites, federated statistics, early stopping and a valid GRU-D in both sizes', () => {
    // Act
    const full = icuMortalityStudy.spec('full');
    const fast = icuMortalityStudy.spec('fast');

    // Assert
    expect(icuMortalityStudy.sites).toEqual(['icu-1', 'icu-2', 'icu-3', 'icu-4']);
    expect(full.preprocessing).toEqual({ federatedStatistics: true });
    expect(full.earlyStopping?.patience).toBeGreaterThanOrEqual(1);
    expect(full.minSites).toBe(4);
    expect(fast.rounds * fast.training.localSteps).toBeLessThan(full.rounds * full.training.localSteps);
    expect(() => rnnFamily.validate(full.model)).not.toThrow();
    expect(full.model.inputShape).toEqual([48, F]);
  });

  it('a short federated run on the real data beats chance clearly: pooled test AUROC above 0.70 after 3 rounds', async () => {
    // Arrange: the study's code with 3 rounds of 6 local steps (about 0.4 of the full study's first 3 rounds).
    const fast = icuMortalityStudy.spec('fast');
    const spec = { ...fast, rounds: 3, training: { ...fast.training, localSteps: 6 } };
    const before = tf.memory().numTensors;

    // Act
    const result = await simulateStudy(icuMortalityStudy, physionetDataset, { dataDir: DATA_DIR, spec, run: { federated: true, local: false, centralised: false } });

    // Assert: chance is 0.5; the validation loss falls from the first round.
    const fed = result.federated as NonNullable<typeof result.federated>;
    expect(fed.metrics.pooled.numExamples).toBe(115 + 175 + 296 + 214);
    expect(fed.metrics.pooled.auc).toBeGreaterThan(0.7);
    expect(fed.history[2].validationLoss).toBeLessThan(fed.history[0].validationLoss as number);
    expect(tf.memory().numTensors).toBe(before);
  }, 300_000);
});
