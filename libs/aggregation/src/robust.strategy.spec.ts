import { AggregationError } from './aggregation.error';
import { Krum } from './krum.strategy';
import { FedMedian } from './median.strategy';
import { describeStrategyContract } from './testing';
import { FedTrimmedAvg } from './trimmed-mean.strategy';

const f32 = (...xs: number[]) => Float32Array.from(xs);
const upd = (numExamples: number, ...xs: number[]) => ({ delta: [f32(...xs)], numExamples });

describeStrategyContract('median', () => new FedMedian());
describeStrategyContract('trimmed-mean', () => new FedTrimmedAvg());
describeStrategyContract('krum', () => new Krum());

describe('FedMedian (Yin et al. 2018)', () => {
  it('takes the coordinate-wise median and ignores an outlier, whatever its example count', () => {
    // Even n = 4: sorted [1, 2, 3, 1000] → (2 + 3)/2 = 2.5;  [−1000, 10, 20, 30] → (10 + 20)/2 = 15
    const even = [upd(1, 1, 10), upd(1, 2, 20), upd(1, 3, 30), upd(1e6, 1000, -1000)];
    // Odd n = 5: sorted [1, 2, 3, 4, 1000] → 3;  [−1000, 10, 20, 30, 40] → 20
    const odd = [...even, upd(1, 4, 40)];
    const s = new FedMedian();
    expect(Array.from(s.aggregateTrain([f32(0, 1)], even, {}, 4).global[0])).toEqual([2.5, 16]);
    expect(Array.from(s.aggregateTrain([f32(0, 1)], odd, {}, 5).global[0])).toEqual([3, 21]);
    expect(s.needsIndividualUpdates).toBe(true);
  });
});

describe('FedTrimmedAvg (Yin et al. 2018)', () => {
  it('drops ⌊β·n⌋ values at each end and averages the rest, ignoring an outlier', () => {
    const updates = [upd(1, 4), upd(1, 1000), upd(1, 1), upd(1, 3), upd(1e6, 2)];
    // β = 0.2, n = 5 → k = 1: drop 1 and 1000 → (2 + 3 + 4)/3 = 3 (unweighted)
    expect(Array.from(new FedTrimmedAvg({ trimFraction: 0.2 }).aggregateTrain([f32(10)], updates, {}, 5).global[0])).toEqual([13]);
    // β = 0.1, n = 5 → k = ⌊0.5⌋ = 0: plain mean (4 + 1000 + 1 + 3 + 2)/5 = 202
    expect(Array.from(new FedTrimmedAvg({ trimFraction: 0.1 }).aggregateTrain([f32(10)], updates, {}, 5).global[0])).toEqual([212]);
  });

  it.each([0.5, 0.6, -0.1, Number.NaN])('rejects trimFraction %p with a RangeError naming it', (beta) => {
    expect(() => new FedTrimmedAvg({ trimFraction: beta })).toThrow(RangeError);
    expect(() => new FedTrimmedAvg({ trimFraction: beta })).toThrow(`got ${beta}`);
  });
});

describe('Krum (Blanchard et al. 2017)', () => {
  it('picks the honest update with the smallest score when an attacker is present', () => {
    // Arrange: attacker e = (101, −99) first; honest a = (1,1), b = (2,1), c = (1,3), d = (3,3).
    // Squared distances among honest: ab 1, ac 4, ad 8, bc 5, bd 5, cd 4; every distance to e is > 9000.
    // f = 1, n = 5 → n − f − 2 = 2 nearest: a 1+4 = 5, b 1+5 = 6, c 4+4 = 8, d 4+5 = 9, e > 18000 → a.
    const updates = [upd(1e6, 101, -99), upd(1, 1, 1), upd(1, 2, 1), upd(1, 1, 3), upd(1, 3, 3)];
    const krum = new Krum({ byzantine: 1 });

    // Act / Assert
    expect(krum.select(updates)).toBe(1);
    expect(Array.from(krum.aggregateTrain([f32(10, 10)], updates, {}, 5).global[0])).toEqual([11, 11]);
  });

  it('with f = 0 scores on n − 2 neighbours: [0], [1], [2], [100] → [1] (scores 5, 2, 5, huge)', () => {
    const updates = [upd(1, 0), upd(1, 1), upd(1, 2), upd(1, 100)];
    expect(new Krum().select(updates)).toBe(1);
  });

  it('needs n > 2f + 2 updates', () => {
    const four = [upd(1, 0), upd(1, 1), upd(1, 2), upd(1, 3)];
    expect(() => new Krum({ byzantine: 1 }).aggregateTrain([f32(0)], four, {}, 4)).toThrow(AggregationError);
    expect(() => new Krum({ byzantine: 1 }).aggregateTrain([f32(0)], four, {}, 4)).toThrow(/needs more than 4 updates, got 4/);
    expect(() => new Krum().aggregateTrain([f32(0)], four.slice(0, 2), {}, 4)).toThrow(/needs more than 2 updates, got 2/);
  });

  it.each([-1, 1.5, Number.NaN])('rejects byzantine %p with a RangeError naming it', (f) => {
    expect(() => new Krum({ byzantine: f })).toThrow(`byzantine must be an integer ≥ 0, got ${f}`);
  });
});
