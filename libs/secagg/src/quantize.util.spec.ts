import { dequantize, quantizationErrorBound, quantizationLevels, quantize } from './quantize.util';

/** Deterministic uniform floats in [−scale, scale) (mulberry32). */
function uniform(seed: number, n: number, scale: number): Float64Array {
  let a = seed >>> 0;
  return Float64Array.from({ length: n }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1) * scale;
  });
}

describe('quantize / dequantize', () => {
  it('hand-computed: bits 8, 1 site → L = 127; 0.3 → round(38.1) = 38, −0.3 → 256 − 38 = 218, ±2 clipped to ±127', () => {
    expect(quantizationLevels(1, 8)).toBe(127);
    expect(Array.from(quantize([0.3, -0.3, 2, -2, 0], 1, 1, 8))).toEqual([38, 218, 127, 129, 0]);
    expect(Array.from(dequantize(Uint32Array.of(38, 218, 127, 129), 1, 1, 8))).toEqual([38 / 127, -38 / 127, 1, -1]);
  });

  it('hand-computed levels: bits 32, 5 sites → ⌊(2^31 − 1)/5⌋ = 429496729', () => {
    expect(quantizationLevels(5, 32)).toBe(429496729);
    expect(quantizationErrorBound(1, 5, 32)).toBeCloseTo(5 / (2 * 429496729), 20);
  });

  it.each([
    [32, 5],
    [32, 50],
    [16, 5],
    [12, 3],
  ])('bits %i, %i sites: the decoded ring sum is within n·range/(2L) of the true sum of clipped values', (bits, sites) => {
    // Arrange
    const range = 2.5;
    const n = 2000;
    const values = Array.from({ length: sites }, (_, s) => uniform(1000 + s, n, 3));
    const mod = 2 ** bits;
    // Act: sum the encodings in the ring, as the masked protocol does.
    const ring = new Uint32Array(n);
    for (const v of values) {
      const q = quantize(v, range, sites, bits);
      for (let i = 0; i < n; i++) ring[i] = (ring[i] + q[i]) % mod;
    }
    const decoded = dequantize(ring, range, sites, bits);
    // Assert
    const bound = quantizationErrorBound(range, sites, bits);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const truth = values.reduce((acc, v) => acc + Math.min(range, Math.max(-range, v[i])), 0);
      worst = Math.max(worst, Math.abs(decoded[i] - truth));
    }
    expect(worst).toBeLessThanOrEqual(bound);
    // The bound is not vacuous: errors of a sizeable fraction of it do occur.
    expect(worst).toBeGreaterThan(bound / 4);
  });

  it('never wraps: all sites at +range or −range decode to ±sites·range', () => {
    for (const sign of [1, -1]) {
      const ring = new Uint32Array(1);
      for (let s = 0; s < 7; s++) ring[0] = ring[0] + quantize([sign * 10], 1, 7, 32)[0];
      expect(dequantize(ring, 1, 7, 32)[0]).toBeCloseTo(sign * 7, 6);
    }
  });

  it('refuses non-finite values and bad parameters', () => {
    expect(() => quantize([NaN], 1, 2)).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
    expect(() => quantize([1], 0, 2)).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
    expect(() => quantize([1], 1, 2, 33)).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
    expect(() => quantizationLevels(200, 8)).toThrow(expect.objectContaining({ code: 'MALFORMED' }));
  });
});
