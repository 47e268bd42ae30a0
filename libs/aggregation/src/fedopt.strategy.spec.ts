import { FedAdagrad } from './fedadagrad.strategy';
import { FedAdam } from './fedadam.strategy';
import { FedYogi } from './fedyogi.strategy';
import { AggregationError } from './aggregation.error';
import { describeStrategyContract } from './testing';
import type { ClientUpdate } from './strategy.types';

const f32 = (...xs: number[]) => Float32Array.from(xs);

describeStrategyContract('fedadam', () => new FedAdam());
describeStrategyContract('fedyogi', () => new FedYogi());
describeStrategyContract('fedadagrad', () => new FedAdagrad());

// Two rounds shared by the hand-computed tests below (one layer, two coordinates, global x0 = [1, 1]):
// round 1: [1, −6]×1 and [3, −2]×1 → Δ1 = [2, −4];  round 2: [4, 1]×3 and [4, −3]×1 → Δ2 = [(12+4)/4, (3−3)/4] = [4, 0].
const ROUND1: ClientUpdate[] = [
  { delta: [f32(1, -6)], numExamples: 1 },
  { delta: [f32(3, -2)], numExamples: 1 },
];
const ROUND2: ClientUpdate[] = [
  { delta: [f32(4, 1)], numExamples: 3 },
  { delta: [f32(4, -3)], numExamples: 1 },
];
// η = 1, β1 = 0.5, β2 = 0.75 keep the arithmetic exact by hand; τ = 1e-9 is below the 6 digits compared.
const OPTIONS = { serverLearningRate: 1, beta1: 0.5, beta2: 0.75, tau: 1e-9 };

/** Compares to 6 decimals: τ shifts results by ~1e-9. */
function expectClose(actual: Float32Array, expected: number[]): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((e, i) => expect(actual[i]).toBeCloseTo(e, 6));
}

function twoRounds(strategy: FedAdam | FedYogi | FedAdagrad) {
  const x0 = [f32(1, 1)];
  const r1 = strategy.aggregateTrain(x0, ROUND1, strategy.initialState(x0), 2);
  const r2 = strategy.aggregateTrain(r1.global, ROUND2, r1.state, 2);
  return { r1, r2 };
}

describe('FedAdam (Reddi et al. 2021)', () => {
  it('takes its first two steps as worked by hand', () => {
    // Round 1: m1 = 0.5·Δ1 = [1, −2];  v1 = 0.25·Δ1² = [1, 4];  x1 = [1 + 1/√1, 1 − 2/√4] = [2, 0]
    // Round 2: m2 = 0.5·[1, −2] + 0.5·[4, 0] = [2.5, −1];  v2 = 0.75·[1, 4] + 0.25·[16, 0] = [4.75, 3]
    //          x2 = [2 + 2.5/√4.75, 0 − 1/√3] = [2 + 1.1470787, −0.5773503]
    const { r1, r2 } = twoRounds(new FedAdam(OPTIONS));
    expectClose(r1.global[0], [2, 0]);
    expect(Array.from(r1.state['m'][0])).toEqual([1, -2]);
    expect(Array.from(r1.state['v'][0])).toEqual([1, 4]);
    expect(r2.global[0][0]).toBeCloseTo(3.1470787, 6);
    expect(r2.global[0][1]).toBeCloseTo(-0.5773503, 6);
    expect(Array.from(r2.state['m'][0])).toEqual([2.5, -1]);
    expect(Array.from(r2.state['v'][0])).toEqual([4.75, 3]);
  });

  it("with FLamby's settings (η 0.01, β1 0.9, β2 0.999, τ 1e-8) moves ≈ η·0.1/√0.001 per coordinate in round 1, less where τ matters", () => {
    // Δ = [0.5, −0.002]: step = η·0.1·Δ / (√0.001·|Δ| + τ)
    //   coordinate 0: 0.01·0.05 / (0.0158114 + 1e-8) = 0.0316228 (τ negligible)
    //   coordinate 1: 0.01·(−0.0002) / (6.32456e-5 + 1e-8) = −2e-6 / 6.32556e-5 = −0.0316178
    const strategy = new FedAdam({ serverLearningRate: 0.01, beta1: 0.9, beta2: 0.999, tau: 1e-8 });
    const x0 = [f32(0, 0)];
    const { global } = strategy.aggregateTrain(x0, [{ delta: [f32(0.5, -0.002)], numExamples: 7 }], strategy.initialState(x0), 1);
    expect(global[0][0]).toBeCloseTo(0.0316228, 6);
    expect(global[0][1]).toBeCloseTo(-0.0316178, 6);
  });

  it('accepts {} as a round-1 state (zero moments)', () => {
    const strategy = new FedAdam(OPTIONS);
    const r1 = strategy.aggregateTrain([f32(1, 1)], ROUND1, {}, 2);
    expectClose(r1.global[0], [2, 0]);
  });

  it('rejects a state whose moments are misshapen', () => {
    const strategy = new FedAdam(OPTIONS);
    expect(() => strategy.aggregateTrain([f32(1, 1)], ROUND1, { m: [f32(0)], v: [f32(0, 0)] }, 2)).toThrow(AggregationError);
    expect(() => strategy.aggregateTrain([f32(1, 1)], ROUND1, { m: [f32(0, 0)], v: [f32(0, Number.NaN)] }, 2)).toThrow(/fedadam state 'v'/);
  });
});

describe('FedYogi (Reddi et al. 2021)', () => {
  it('takes its first two steps as worked by hand', () => {
    // Round 1: v1 = 0 − 0.25·Δ1²·sign(0 − Δ1²) = [1, 4] (as Adam);  x1 = [2, 0]
    // Round 2: coordinate 0: v = 1 − 0.25·16·sign(1 − 16) = 5;  coordinate 1: Δ² = 0 → v stays 4 (Adam: 3)
    //          m2 = [2.5, −1];  x2 = [2 + 2.5/√5, 0 − 1/√4] = [3.1180340, −0.5]
    const { r1, r2 } = twoRounds(new FedYogi(OPTIONS));
    expectClose(r1.global[0], [2, 0]);
    expect(Array.from(r2.state['v'][0])).toEqual([5, 4]);
    expect(r2.global[0][0]).toBeCloseTo(3.118034, 6);
    expect(r2.global[0][1]).toBeCloseTo(-0.5, 6);
  });
});

describe('FedAdagrad (Reddi et al. 2021)', () => {
  it('takes its first two steps as worked by hand', () => {
    // Round 1: m1 = [1, −2];  v1 = Δ1² = [4, 16];  x1 = [1 + 1/2, 1 − 2/4] = [1.5, 0.5]
    // Round 2: m2 = [2.5, −1];  v2 = [4 + 16, 16 + 0] = [20, 16];  x2 = [1.5 + 2.5/√20, 0.5 − 1/4] = [2.0590170, 0.25]
    const { r1, r2 } = twoRounds(new FedAdagrad(OPTIONS));
    expectClose(r1.global[0], [1.5, 0.5]);
    expect(Array.from(r2.state['v'][0])).toEqual([20, 16]);
    expect(r2.global[0][0]).toBeCloseTo(2.059017, 6);
    expect(r2.global[0][1]).toBeCloseTo(0.25, 6);
  });
});

describe('FedOpt options', () => {
  it('default to Flower’s η 0.1, β1 0.9, β2 0.99, τ 1e-9', () => {
    const s = new FedAdam();
    expect([s.serverLearningRate, s.beta1, s.beta2, s.tau]).toEqual([0.1, 0.9, 0.99, 1e-9]);
  });

  it.each([
    [{ serverLearningRate: 0 }, /FedAdam: serverLearningRate must be a finite number > 0, got 0/],
    [{ beta1: 1 }, /beta1 must be in \[0, 1\), got 1/],
    [{ beta2: -0.1 }, /beta2 must be in \[0, 1\), got -0.1/],
    [{ tau: 0 }, /tau must be a finite number > 0, got 0/],
    [{ tau: Number.NaN }, /tau .* got NaN/],
  ])('rejects %p with a RangeError naming the value', (options, message) => {
    expect(() => new FedAdam(options)).toThrow(RangeError);
    expect(() => new FedAdam(options)).toThrow(message);
  });
});
