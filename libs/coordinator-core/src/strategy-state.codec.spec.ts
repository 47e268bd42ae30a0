import { decodeStrategyState, encodeStrategyState } from './strategy-state.codec';

describe('strategy state codec', () => {
  it('round-trips named layer lists, including empty ones', () => {
    const state = { m: [new Float32Array([1, -2.5]), new Float32Array([3])], v: [new Float32Array([0.25])], none: [] };
    const back = decodeStrategyState(encodeStrategyState(state));
    expect(Object.keys(back).sort()).toEqual(['m', 'none', 'v']);
    expect(back['m'].map((l) => Array.from(l))).toEqual([[1, -2.5], [3]]);
    expect(back['v'].map((l) => Array.from(l))).toEqual([[0.25]]);
    expect(back['none']).toEqual([]);
  });

  it('reads no bytes as the empty state', () => {
    expect(decodeStrategyState(null)).toEqual({});
    expect(decodeStrategyState(encodeStrategyState({}))).toEqual({});
  });
});
