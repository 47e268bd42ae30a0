import { addGaussianNoise, clipUpdate, noiseStddev } from './dp-fed-avg.util';
import { cryptoGaussianSource } from './gaussian.source';
import { PrivacyConfigError } from './privacy.errors';
import { seededGaussianSource, seededUniformSource } from './testing';

function moments(values: ArrayLike<number>): { mean: number; sd: number; withinOneSd: number; kurtosis: number } {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i];
  const mean = sum / values.length;
  let m2 = 0;
  let m4 = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i] - mean;
    m2 += d * d;
    m4 += d * d * d * d;
  }
  const variance = m2 / values.length;
  const sd = Math.sqrt(variance);
  let within = 0;
  for (let i = 0; i < values.length; i++) if (Math.abs(values[i] - mean) <= sd) within++;
  return { mean, sd, withinOneSd: within / values.length, kurtosis: m4 / values.length / (variance * variance) };
}

function l2(layers: readonly Float32Array[]): number {
  let s = 0;
  for (const layer of layers) for (const v of layer) s += v * v;
  return Math.sqrt(s);
}

describe('clipUpdate', () => {
  it('scales [3, 4] (norm 5) to norm 1 as [0.6, 0.8]', () => {
    const { clipped, norm, scale } = clipUpdate([new Float32Array([3, 4])], 1);

    expect(norm).toBe(5);
    expect(scale).toBeCloseTo(0.2, 6);
    // float32 rounding of 0.6 and 0.8 lands just above norm 1, so the result may sit one step below them.
    expect(clipped[0][0]).toBeCloseTo(0.6, 6);
    expect(clipped[0][1]).toBeCloseTo(0.8, 6);
    expect(l2(clipped)).toBeLessThanOrEqual(1);
  });

  it('treats all layers as one vector', () => {
    const { clipped, norm } = clipUpdate([new Float32Array([3]), new Float32Array([4])], 2.5);

    expect(norm).toBe(5);
    expect(clipped[0][0]).toBeCloseTo(1.5, 6);
    expect(clipped[1][0]).toBeCloseTo(2, 6);
  });

  it('leaves an update already within C unchanged (as a copy) and never modifies its input', () => {
    const input = [new Float32Array([0.1, -0.2]), new Float32Array([0.3])];

    const { clipped, scale } = clipUpdate(input, 1);

    expect(scale).toBe(1);
    expect(clipped.map((l) => Array.from(l))).toEqual(input.map((l) => Array.from(l)));
    expect(clipped[0]).not.toBe(input[0]);
    clipped[0][0] = 42;
    expect(input[0][0]).toBe(Math.fround(0.1));
  });

  it('holds ‖clipped‖ ≤ C + 1e-6 for 500 random updates of many sizes and scales, keeping the direction', () => {
    const uniform = seededUniformSource(7);
    for (let trial = 0; trial < 500; trial++) {
      const magnitude = 10 ** (uniform() * 8 - 4);
      const layers = [1 + Math.floor(uniform() * 50), 1 + Math.floor(uniform() * 300)].map((n) =>
        Float32Array.from({ length: n }, () => (uniform() * 2 - 1) * magnitude),
      );
      const clipNorm = 10 ** (uniform() * 4 - 2);

      const { clipped, norm } = clipUpdate(layers, clipNorm);

      expect(norm).toBeCloseTo(l2(layers), 6);
      expect(l2(clipped)).toBeLessThanOrEqual(clipNorm + 1e-6);
      if (norm > clipNorm) {
        expect(l2(clipped)).toBeGreaterThan(clipNorm * (1 - 1e-5));
        expect(clipped[1][0] / layers[1][0]).toBeCloseTo(clipNorm / norm, 5);
      } else {
        expect(clipped.map((l) => Array.from(l))).toEqual(layers.map((l) => Array.from(l)));
      }
    }
  });

  it('refuses non-finite updates and a non-positive clip norm', () => {
    expect(() => clipUpdate([new Float32Array([1, NaN])], 1)).toThrow(/layer 0.*index 1/);
    expect(() => clipUpdate([new Float32Array([1])], 0)).toThrow(PrivacyConfigError);
  });
});

describe('noiseStddev', () => {
  it('is z·C/divisor centrally and z·C/(divisor·√n) per site when split', () => {
    const settings = { noiseMultiplier: 1.1, clipNorm: 2 };

    expect(noiseStddev({ ...settings, noisePlacement: 'central' }, { divisor: 4 })).toBeCloseTo(0.55, 12);
    expect(noiseStddev({ ...settings, noisePlacement: 'split' }, { divisor: 4, sites: 4 })).toBeCloseTo(0.275, 12);
    expect(() => noiseStddev({ ...settings, noisePlacement: 'split' })).toThrow(/sites/);
  });
});

describe('addGaussianNoise', () => {
  const N = 1_000_000;

  it('adds noise whose measured sd is the configured one within 1% (10^6 draws, fixed seed)', () => {
    const layers = [new Float32Array(N / 2), new Float32Array(N / 2)];

    addGaussianNoise(layers, 0.55, seededGaussianSource(2024));

    const all = new Float32Array(N);
    all.set(layers[0]);
    all.set(layers[1], N / 2);
    const m = moments(all);
    expect(Math.abs(m.sd / 0.55 - 1)).toBeLessThan(0.01);
    expect(Math.abs(m.mean)).toBeLessThan((5 * 0.55) / Math.sqrt(N));
    // Shape, not just scale: P(|Z| ≤ 1) = erf(1/√2) = 0.682689…, kurtosis 3.
    expect(Math.abs(m.withinOneSd - 0.682689)).toBeLessThan(0.003);
    expect(Math.abs(m.kurtosis - 3)).toBeLessThan(0.05);
  });

  it('has the configured sd with the default CSPRNG source too', () => {
    const layer = new Float32Array(N);

    addGaussianNoise([layer], 3);

    expect(Math.abs(moments(layer).sd / 3 - 1)).toBeLessThan(0.01);
  });

  it('split: the sum of n sites’ noise has sd σ within 1%', () => {
    const sites = 5;
    const settings = { noiseMultiplier: 1.1, clipNorm: 2, noisePlacement: 'split' as const };
    const perSite = noiseStddev(settings, { divisor: 4, sites });
    const rng = cryptoGaussianSource();
    const sum = new Float64Array(N);

    for (let s = 0; s < sites; s++) {
      const update = new Float32Array(N);
      addGaussianNoise([update], perSite, rng);
      for (let i = 0; i < N; i++) sum[i] += update[i];
    }

    expect(Math.abs(moments(sum).sd / 0.55 - 1)).toBeLessThan(0.01);
  });

  it('adds nothing for sd 0 and refuses a negative sd', () => {
    const layer = new Float32Array([1, 2]);

    addGaussianNoise([layer], 0, seededGaussianSource(1));

    expect(Array.from(layer)).toEqual([1, 2]);
    expect(() => addGaussianNoise([layer], -1)).toThrow(PrivacyConfigError);
  });
});
