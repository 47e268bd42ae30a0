import { quantize } from './quantize.util';
import type { MaskedInput, SecAggParams } from './secagg.types';
import { runSecAggRound, SecAggTranscript } from './testing';

// What the coordinator sees of one site — its masked input — must look like uniform noise over
// Z_{2^bits} whatever the update. Fixed seeds make every statistic below deterministic.

const SITES = ['site-1', 'site-2', 'site-3', 'site-4', 'site-5'];
const LENGTH = 100_000;
const BINS = 256;
/** χ²(255) upper 0.1 % point (scipy.stats.chi2.ppf(0.999, 255) = 330.52). */
const CHI2_255_999 = 330.52;
/** Two-sample Kolmogorov–Smirnov c(α) for α = 0.001: √(−ln(α/2)/2) = 1.9495. */
const KS_C_001 = 1.9495;

function bucketCounts(words: Uint32Array, bits: number): Float64Array {
  const counts = new Float64Array(BINS);
  const shift = bits - 8;
  for (const w of words) counts[w >>> shift] += 1;
  return counts;
}

function chiSquareUniform(counts: Float64Array): number {
  const total = counts.reduce((a, c) => a + c, 0);
  const expected = total / counts.length;
  return counts.reduce((a, c) => a + (c - expected) ** 2 / expected, 0);
}

/** Two-sample KS statistic D over the 256 ordered buckets, and its α = 0.001 critical value. */
function ksOnBuckets(a: Float64Array, b: Float64Array): { d: number; critical: number } {
  const na = a.reduce((x, c) => x + c, 0);
  const nb = b.reduce((x, c) => x + c, 0);
  let fa = 0;
  let fb = 0;
  let d = 0;
  for (let k = 0; k < BINS; k++) {
    fa += a[k] / na;
    fb += b[k] / nb;
    d = Math.max(d, Math.abs(fa - fb));
  }
  return { d, critical: KS_C_001 * Math.sqrt((na + nb) / (na * nb)) };
}

/** Runs a full round where site-1 sends `vector` and returns site-1's masked input as the coordinator saw it. */
function maskedViewOfSite1(vector: Float32Array, weight: number, bits: number, label: string): MaskedInput {
  const params: SecAggParams = { studyId: label, round: 1, siteIds: SITES, threshold: 3, vectorLength: LENGTH, clipRange: 1, maxWeight: 100, bits };
  const transcript: SecAggTranscript = { advertise: [], shares: new Map(), masked: [], unmasking: [] };
  const inputs = new Map(SITES.map((id) => [id, { vector: id === 'site-1' ? vector : new Float32Array(LENGTH), weight: 10 }]));
  runSecAggRound(params, inputs, { transcript });
  return transcript.masked.find((m) => m.siteId === 'site-1') as MaskedInput;
}

const zeros = new Float32Array(LENGTH);
const ramp = Float32Array.from({ length: LENGTH }, (_, i) => (i % 200) / 100 - 1);

describe.each([32, 16])('the coordinator’s view of one masked update, ring Z_2^%i', (bits) => {
  const maskedZeros = maskedViewOfSite1(zeros, 0, bits, `privacy-${bits}-a`);
  const maskedRamp = maskedViewOfSite1(ramp, 100, bits, `privacy-${bits}-b`);

  it('stays in the ring', () => {
    expect(maskedRamp.masked.length).toBe(LENGTH + 1);
    expect(maskedRamp.masked.every((w) => w < 2 ** bits)).toBe(true);
  });

  it('passes a χ² uniformity test over 256 buckets of the ring (α = 0.001), for an all-zero and a ramp update', () => {
    expect(chiSquareUniform(bucketCounts(maskedZeros.masked, bits))).toBeLessThan(CHI2_255_999);
    expect(chiSquareUniform(bucketCounts(maskedRamp.masked, bits))).toBeLessThan(CHI2_255_999);
  });

  it('the same test rejects the unmasked quantised update, so it has the power to fail', () => {
    const plain = quantize(Float64Array.from(ramp, (v) => v * 100), 100, SITES.length, bits);
    expect(chiSquareUniform(bucketCounts(plain, bits))).toBeGreaterThan(100 * CHI2_255_999);
  });

  it('two very different updates give masked vectors with the same bucket distribution (two-sample KS, α = 0.001)', () => {
    const { d, critical } = ksOnBuckets(bucketCounts(maskedZeros.masked, bits), bucketCounts(maskedRamp.masked, bits));
    expect(d).toBeLessThan(critical);
    // And the unmasked encodings of the same two updates are told apart at once.
    const plainZeros = quantize(zeros, 100, SITES.length, bits);
    const plainRamp = quantize(Float64Array.from(ramp, (v) => v * 100), 100, SITES.length, bits);
    expect(ksOnBuckets(bucketCounts(plainZeros, bits), bucketCounts(plainRamp, bits)).d).toBeGreaterThan(10 * critical);
  });
});
