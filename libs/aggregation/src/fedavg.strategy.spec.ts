import { FedAvg } from './fedavg.strategy';
import { FedProx } from './fedprox.strategy';
import { describeStrategyContract } from './testing';

const f32 = (...xs: number[]) => Float32Array.from(xs);

describeStrategyContract('fedavg', () => new FedAvg());
describeStrategyContract('fedprox', () => new FedProx());

describe.each([
  ['FedAvg', () => new FedAvg()],
  ['FedProx', () => new FedProx()],
])('%s', (_label, make) => {
  it('adds the example-weighted mean delta to the global model', () => {
    // Arrange: layer 0 deltas [1,2]×3 and [4,5]×1 → mean [(3+4)/4, (6+5)/4] = [1.75, 2.75]; layer 1 [-1]×3, [3]×1 → 0
    const global = [f32(10, 20), f32(0.5)];
    const updates = [
      { delta: [f32(1, 2), f32(-1)], numExamples: 3 },
      { delta: [f32(4, 5), f32(3)], numExamples: 1 },
    ];

    // Act
    const { global: next, state } = make().aggregateTrain(global, updates, {}, 2);

    // Assert
    expect(next.map((l) => Array.from(l))).toEqual([[11.75, 22.75], [0.5]]);
    expect(state).toEqual({});
  });

  it('is stateless, sends no extra payload and can run under secure aggregation', () => {
    const s = make();
    expect(s.initialState([f32(1)])).toEqual({});
    expect(s.trainPayload({})).toEqual([]);
    expect(s.needsIndividualUpdates).toBe(false);
  });
});

describe('names', () => {
  it('FedAvg is fedavg, FedProx is fedprox', () => {
    expect(new FedAvg().name).toBe('fedavg');
    expect(new FedProx().name).toBe('fedprox');
  });
});
