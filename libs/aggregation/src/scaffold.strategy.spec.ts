import { AggregationError } from './aggregation.error';
import { Scaffold, scaffoldClientControl } from './scaffold.strategy';
import { describeStrategyContract } from './testing';

const f32 = (...xs: number[]) => Float32Array.from(xs);

describeStrategyContract('scaffold', () => new Scaffold());

describe('Scaffold (Karimireddy et al. 2020)', () => {
  it('steps x by η_g·mean Δy and c by (|S|/N)·mean Δc, as worked by hand', () => {
    // Arrange: x = [1, 2], c = [0.5, −0.5], η_g = 0.5, 2 of N = 4 sites answer
    //   mean Δy = ([2, 0]·1 + [−2, 4]·3)/4 = [−1, 3]  → x = [1 − 0.5, 2 + 1.5] = [0.5, 3.5]
    //   mean Δc = ([4, 0]·1 + [0, 8]·3)/4 = [1, 6]    → c = [0.5 + 0.5·1, −0.5 + 0.5·6] = [1, 2.5]
    const strategy = new Scaffold({ serverLearningRate: 0.5 });
    const updates = [
      { delta: [f32(2, 0)], numExamples: 1, controlDelta: [f32(4, 0)] },
      { delta: [f32(-2, 4)], numExamples: 3, controlDelta: [f32(0, 8)] },
    ];

    // Act
    const { global, state } = strategy.aggregateTrain([f32(1, 2)], updates, { c: [f32(0.5, -0.5)] }, 4);

    // Assert
    expect(Array.from(global[0])).toEqual([0.5, 3.5]);
    expect(Array.from(state['c'][0])).toEqual([1, 2.5]);
    expect(strategy.trainPayload(state).map((l) => Array.from(l))).toEqual([[1, 2.5]]);
  });

  it('starts with c = 0 and sends it to the clients', () => {
    const strategy = new Scaffold();
    expect(strategy.serverLearningRate).toBe(1);
    expect(strategy.trainPayload(strategy.initialState([f32(1, 2), f32(3)])).map((l) => Array.from(l))).toEqual([[0, 0], [0]]);
    expect(() => strategy.trainPayload({})).toThrow(AggregationError);
  });

  it('rejects an update without controlDelta and a bad server learning rate', () => {
    const strategy = new Scaffold();
    const x = [f32(0)];
    expect(() => strategy.aggregateTrain(x, [{ delta: [f32(1)], numExamples: 1 }], strategy.initialState(x), 1)).toThrow(
      /scaffold: update 0 has no controlDelta/,
    );
    expect(() => new Scaffold({ serverLearningRate: -1 })).toThrow(/serverLearningRate must be a finite number > 0, got -1/);
  });
});

describe('scaffoldClientControl (option II)', () => {
  it('computes c_i⁺ = c_i − c + (x − y)/(K·η_l) as worked by hand', () => {
    // K·η_l = 4·0.05 = 0.2;  −delta/0.2 = [1, −2];  c_i⁺ = [1 − 0.5 + 1, −1 − 0.5 − 2] = [1.5, −3.5]
    const ci = [f32(1, -1)];
    const next = scaffoldClientControl(ci, [f32(0.5, 0.5)], [f32(-0.2, 0.4)], 4, 0.05);
    expect(Array.from(next[0])).toEqual([1.5, -3.5]);
    expect(Array.from(ci[0])).toEqual([1, -1]);
  });

  it('recovers a constant local gradient g: K corrected SGD steps give y − x = −Kη(g + c − c_i), so c_i⁺ = g', () => {
    // g = 0.25, c = 3, c_i = 1, K = 4, η = 0.05: delta = −0.2·(0.25 + 3 − 1) = −0.45;  c_i⁺ = 1 − 3 + 0.45/0.2 = 0.25
    const next = scaffoldClientControl([f32(1)], [f32(3)], [f32(-0.45)], 4, 0.05);
    expect(next[0][0]).toBeCloseTo(0.25, 6);
  });

  it('rejects bad K, η_l and shapes', () => {
    expect(() => scaffoldClientControl([f32(0)], [f32(0)], [f32(0)], 0, 0.1)).toThrow(/localSteps must be an integer ≥ 1, got 0/);
    expect(() => scaffoldClientControl([f32(0)], [f32(0)], [f32(0)], 1, 0)).toThrow(/localLearningRate must be a finite number > 0, got 0/);
    expect(() => scaffoldClientControl([f32(0)], [f32(0, 1)], [f32(0)], 1, 0.1)).toThrow(AggregationError);
  });
});
