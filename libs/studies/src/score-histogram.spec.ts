import {
  addHistograms,
  bestMinSePpvThreshold,
  exactAuc,
  expectedCalibrationError,
  histogramAccuracy,
  histogramAuc,
  scoreBin,
  scoreHistograms,
  sensitivityPredictivity,
} from './score-histogram';

describe('score histograms', () => {
  it('bins probabilities with 1.0 in the last bin', () => {
    expect([0, 0.004, 0.01, 0.5, 0.999, 1].map((p) => scoreBin(p))).toEqual([0, 0, 1, 50, 99, 99]);
  });

  it('skips missing labels and counts each output separately', () => {
    const probs = new Float32Array([0.905, 0.205, 0.105, 0.705]);
    const labels = new Float32Array([1, Number.NaN, 0, 1]);
    const [a, b] = scoreHistograms(probs, labels, 2);
    expect(a.positives[90]).toBe(1);
    expect(a.negatives[10]).toBe(1);
    expect(b.positives[70]).toBe(1);
    expect(b.negatives.reduce((s, v) => s + v, 0)).toBe(0);
  });

  it('gives the Mann–Whitney AUC of a hand-worked example', () => {
    // scores: pos 0.9, 0.6, 0.35; neg 0.8, 0.3, 0.1 → pairs won: 0.9 beats 3, 0.6 beats 2, 0.35 beats 2 → 7/9.
    const [h] = scoreHistograms(new Float32Array([0.905, 0.605, 0.355, 0.805, 0.305, 0.105]), new Float32Array([1, 1, 1, 0, 0, 0]), 1);
    expect(histogramAuc(h)).toBeCloseTo(7 / 9, 12);
    expect(exactAuc([0.905, 0.605, 0.355, 0.805, 0.305, 0.105], [1, 1, 1, 0, 0, 0])).toBeCloseTo(7 / 9, 12);
  });

  it('counts ties within a bin as half', () => {
    const [h] = scoreHistograms(new Float32Array([0.512, 0.517]), new Float32Array([1, 0]), 1);
    expect(histogramAuc(h)).toBe(0.5);
    expect(exactAuc([0.512, 0.517], [1, 0])).toBe(0);
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
    expect(sensitivityPredictivity(h, 50)).toEqual({ sensitivity: 2 / 3, ppv: 2 / 3, minSePpv: 2 / 3 });
    // Calling 0.35 and above positive: TP 3, FP 1 → Se 1, PPV 3/4, the best min of any threshold.
    const best = bestMinSePpvThreshold(h);
    expect(sensitivityPredictivity(h, best).minSePpv).toBeCloseTo(3 / 4, 12);
    expect(histogramAccuracy(h)).toBeCloseTo(4 / 6, 12);
  });

  it('measures calibration error: 0 for calibrated bins, 0.4 for a confident wrong model', () => {
    // 10 examples at 0.25 with 2.5 positive on average is impossible; use 0.05 bins exactly: 20 at p≈0.205 with 4 positives → |0.2−0.205|.
    const probs = new Float32Array(20).fill(0.201);
    const labels = new Float32Array(20).map((_, i) => (i < 4 ? 1 : 0));
    const [calibrated] = scoreHistograms(probs, labels, 1);
    expect(expectedCalibrationError(calibrated)).toBeCloseTo(0.005, 10);
    const [wrong] = scoreHistograms(new Float32Array(10).fill(0.905), new Float32Array(10).fill(0).map((_, i) => (i < 5 ? 1 : 0)), 1);
    expect(expectedCalibrationError(wrong)).toBeCloseTo(0.405, 10);
  });
});
