import { EvaluateResultBody } from './evaluate-result.dto';
import { MessageKind } from '../message-kind';
import { ProtocolError } from '../protocol-error';
import { validateBody } from '../validation';
import { combineFeatureSums } from './statistics.dto';

const base = { studyId: 'study-1', round: 2, modelVersion: 2, suppressed: false, numExamples: 10, lossSum: 4.2 };
const histogram = (pos: number[], neg: number[]) => ({ positives: pos, negatives: neg });

function problem(body: unknown): string {
  try {
    validateBody(MessageKind.EvaluateResult, body);
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    return (err as ProtocolError).message;
  }
  return 'valid';
}

describe('evaluate results with score histograms', () => {
  it('accepts a multi-output result without confusion counts, with rates and validation aggregates', () => {
    const body: EvaluateResultBody = {
      ...base,
      scores: [{ group: 'model', histograms: [histogram([0, 3, 2], [4, 1, 0]), histogram([1, 1, 0], [0, 3, 3])] }, { group: 'tstr', histograms: [histogram([0, 5, 0], [2, 2, 1])] }],
      rates: [{ name: 'recall@3', count: 7, total: 12 }],
      validation: { numExamples: 8, lossSum: 3.1, scores: [{ group: 'model', histograms: [histogram([1, 1], [3, 3])] }] },
    };
    expect(problem(body)).toBe('valid');
  });

  it('still requires confusion counts when there are no histograms', () => {
    expect(problem(base)).toMatch(/numCorrect: is required when suppressed is false/);
  });

  it('refuses histograms that count more examples than the site has, or bins of unequal length', () => {
    expect(problem({ ...base, scores: [{ group: 'model', histograms: [histogram([5, 5], [1, 0])] }] })).toMatch(/histogramsWithinExamples|more examples than numExamples/);
    expect(problem({ ...base, scores: [{ group: 'model', histograms: [histogram([1, 1, 1], [1, 1])] }] })).toMatch(/negatives: .*as many bins as positives/);
    expect(problem({ ...base, scores: [{ group: 'model', histograms: [histogram([1.5, 1], [1, 1])] }] })).toMatch(/positives/);
  });

  it('refuses a rate above its total, a bad group name, and any aggregate when suppressed', () => {
    expect(problem({ ...base, scores: [{ group: 'model', histograms: [histogram([1, 1], [1, 1])] }], rates: [{ name: 'recall@3', count: 13, total: 12 }] })).toMatch(/rates.0.count: must not exceed total/);
    expect(problem({ ...base, scores: [{ group: 'Model!', histograms: [histogram([1, 1], [1, 1])] }] })).toMatch(/scores.0.group: must be 1-32 chars/);
    expect(problem({ studyId: 'study-1', round: 2, modelVersion: 2, suppressed: true, numExamples: 3, scores: [{ group: 'model', histograms: [histogram([1, 1], [1, 0])] }] })).toMatch(
      /scores: must be absent when suppressed is true/,
    );
  });
});

describe('combineFeatureSums', () => {
  it('pools means and population variances exactly and gives std 1 to constant or unobserved features', () => {
    // site A: feature 0 {2, 4}; site B: feature 0 {6}; feature 1 constant 5 everywhere; feature 2 never observed
    const stats = combineFeatureSums([
      { count: [2, 2, 0], sum: [6, 10, 0], sumSquares: [20, 50, 0] },
      { count: [1, 1, 0], sum: [6, 5, 0], sumSquares: [36, 25, 0] },
    ]);
    expect(stats.count).toEqual([3, 3, 0]);
    expect(stats.mean[0]).toBeCloseTo(4, 12);
    expect(stats.std[0]).toBeCloseTo(Math.sqrt(8 / 3), 12);
    expect(stats.mean[1]).toBeCloseTo(5, 12);
    expect(stats.std.slice(1)).toEqual([1, 1]);
  });
});
