import {
  binCentre,
  addHistograms,
  bestMinSePpvThreshold,
  exactAuc,
  meanExactAuc,
  expectedCalibrationError,
  histogramAccuracy,
  histogramAuc,
  scoreBin,
  scoreHistograms,
  sensitivityPredictivity,
} from './score-histogram';

describe('score histograms', () => {
  it('bins probabilities equally in logit, with 0.5 on the middle boundary and the ends saturating', () => {
    // bin = ⌊(logit(p) + 8) / 16 · 200⌋: logit(0.01) = −4.595 → 42; logit(0.7) = 0.847 → 110
    expect([0, 1e-6, 0.01, 0.4999, 0.5, 0.7, 0.999999, 1].map((p) => scoreBin(p))).toEqual([0, 0, 42, 99, 100, 110, 199, 199]);
    expect(binCentre(100)).toBeCloseTo(1 / (1 + Math.exp(-0.04)), 12);
  });

  it('tells apart rare-outcome scores that all lie below 0.01', () => {
    const [h] = scoreHistograms(new Float32Array([0.008, 0.006, 0.002, 0.001]), new Float32Array([1, 1, 0, 0]), 1);
    expect(histogramAuc(h)).toBe(1);
  });

  it('skips missing labels and counts each output separately', () => {
    const probs = new Float32Array([0.905, 0.205, 0.105, 0.705]);
    const labels = new Float32Array([1, Number.NaN, 0, 1]);
    const [a, b] = scoreHistograms(probs, labels, 2);
    expect(a.positives[scoreBin(0.905)]).toBe(1);
    expect(a.negatives[scoreBin(0.105)]).toBe(1);
    expect(b.positives[scoreBin(0.705)]).toBe(1);
    expect(b.negatives.reduce((s, v) => s + v, 0)).toBe(0);
  });

  it('gives the Mann–Whitney AUC of a hand-worked example', () => {
    // scores: pos 0.9, 0.6, 0.35; neg 0.8, 0.3, 0.1 → pairs won: 0.9 beats 3, 0.6 beats 2, 0.35 beats 2 → 7/9.
    const [h] = scoreHistograms(new Float32Array([0.905, 0.605, 0.355, 0.805, 0.305, 0.105]), new Float32Array([1, 1, 1, 0, 0, 0]), 1);
    expect(histogramAuc(h)).toBeCloseTo(7 / 9, 12);
    expect(exactAuc([0.905, 0.605, 0.355, 0.805, 0.305, 0.105], [1, 1, 1, 0, 0, 0])).toBeCloseTo(7 / 9, 12);
  });

  it('averages the exact AUC over interleaved heads, skipping missing labels and scoring a one-class head as chance', () => {
    // Head 0 is the 7/9 example above; head 1's observed pairs (pos 0.8, 0.9 against neg 0.7, 0.1) are all won, and
    // its two missing labels carry the scores 0.5 and 0.95 that would lose pairs if they were counted.
    const head0 = [0.905, 0.605, 0.355, 0.805, 0.305, 0.105];
    const labels0 = [1, 1, 1, 0, 0, 0];
    const head1 = [0.8, 0.7, 0.5, 0.9, 0.95, 0.1];
    const labels1 = [1, 0, NaN, 1, NaN, 0];
    const interleave = (a: number[], b: number[]) => new Float32Array(a.flatMap((v, i) => [v, b[i]]));
    expect(meanExactAuc(interleave(head0, head1), interleave(labels0, labels1), 2)).toBeCloseTo((7 / 9 + 1) / 2, 6);
    const negativesOnly = [0, 0, 0, 0, 0, 0];
    expect(meanExactAuc(interleave(head0, head1), interleave(labels0, negativesOnly), 2)).toBeCloseTo((7 / 9 + 0.5) / 2, 6);
    expect(() => meanExactAuc(new Float32Array(5), new Float32Array(5), 2)).toThrow(/\[n × 2\]/);
  });

  it('counts ties within a bin as half', () => {
    const [h] = scoreHistograms(new Float32Array([0.502, 0.507]), new Float32Array([1, 0]), 1);
    expect(histogramAuc(h)).toBe(0.5);
    expect(exactAuc([0.502, 0.507], [1, 0])).toBe(0);
  });

  it('adds across sites to the histogram of the pooled examples', () => {
    const probs = new Float32Array([0.905, 0.605, 0.355, 0.805, 0.305, 0.105]);
    const labels = new Float32Array([1, 1, 1, 0, 0, 0]);
    const [whole] = scoreHistograms(probs, labels, 1);
    const [a] = scoreHistograms(probs.slice(0, 2), labels.slice(0, 2), 1);
    const [b] = scoreHistograms(probs.slice(2), labels.slice(2), 1);
    expect(addHistograms([a, b])).toEqual(whole);
  });

  it('computes sensitivity, PPV and the best min(Se, PPV) threshold', () => {
    const [h] = scoreHistograms(new Float32Array([0.905, 0.605, 0.355, 0.805, 0.305, 0.105]), new Float32Array([1, 1, 1, 0, 0, 0]), 1);
    // At 0.5: TP 2 (0.9, 0.6), FP 1 (0.8), FN 1 → Se 2/3, PPV 2/3.
    expect(sensitivityPredictivity(h, scoreBin(0.5))).toEqual({ sensitivity: 2 / 3, ppv: 2 / 3, minSePpv: 2 / 3 });
    // Calling 0.35 and above positive: TP 3, FP 1 → Se 1, PPV 3/4, the best min of any threshold.
    const best = bestMinSePpvThreshold(h);
    expect(sensitivityPredictivity(h, best).minSePpv).toBeCloseTo(3 / 4, 12);
    expect(histogramAccuracy(h)).toBeCloseTo(4 / 6, 12);
  });

  it('measures calibration error against the bin centre: near 0 for a calibrated bin, about 0.4 for a confident wrong model', () => {
    // 20 examples at p = 0.2 with 4 positives: observed 0.2, predicted the centre of 0.2's bin.
    const probs = new Float32Array(20).fill(0.2);
    const labels = new Float32Array(20).map((_, i) => (i < 4 ? 1 : 0));
    const [calibrated] = scoreHistograms(probs, labels, 1);
    expect(expectedCalibrationError(calibrated)).toBeCloseTo(Math.abs(0.2 - binCentre(scoreBin(0.2))), 12);
    expect(expectedCalibrationError(calibrated)).toBeLessThan(0.02);
    const [wrong] = scoreHistograms(new Float32Array(10).fill(0.9), new Float32Array(10).fill(0).map((_, i) => (i < 5 ? 1 : 0)), 1);
    expect(expectedCalibrationError(wrong)).toBeCloseTo(binCentre(scoreBin(0.9)) - 0.5, 12);
  });
});
