import { AggregationError } from './aggregation.error';
import { fedAvg } from './fed-avg.util';
import { assertFiniteLayers, assertSameShape } from './layer-checks.util';

const f32 = (...xs: number[]) => Float32Array.from(xs);

describe('fedAvg', () => {
  it('adds the example-weighted mean delta to the global model, layer by layer', () => {
    // Arrange: layer 0 deltas [1,2]x3 and [4,5]x1 → mean [1.75, 2.75]; layer 1 deltas [-1]x3, [3]x1 → 0
    const global = [f32(10, 20), f32(0.5)];
    const contributions = [
      { delta: [f32(1, 2), f32(-1)], numExamples: 3 },
      { delta: [f32(4, 5), f32(3)], numExamples: 1 },
    ];

    // Act
    const next = fedAvg(global, contributions);

    // Assert
    expect(Array.from(next[0])).toEqual([11.75, 22.75]);
    expect(Array.from(next[1])).toEqual([0.5]);
    expect(Array.from(global[0])).toEqual([10, 20]);
  });

  it('rejects an empty round', () => {
    expect(() => fedAvg([f32(1)], [])).toThrow(AggregationError);
  });

  it('rejects a delta containing NaN and names the contribution, layer and element', () => {
    // Arrange
    const contributions = [
      { delta: [f32(1, 1), f32(0)], numExamples: 2 },
      { delta: [f32(1, 1), f32(Number.NaN)], numExamples: 2 },
    ];

    // Act / Assert
    expect(() => fedAvg([f32(0, 0), f32(0)], contributions)).toThrow(/contribution 1: layer 1 element 0 is NaN/);
  });

  it('rejects a delta with the wrong layer count or length', () => {
    expect(() => fedAvg([f32(0, 0)], [{ delta: [f32(0, 0), f32(1)], numExamples: 1 }])).toThrow(
      /contribution 0: has 2 layers, expected 1/,
    );
    expect(() => fedAvg([f32(0, 0)], [{ delta: [f32(0)], numExamples: 1 }])).toThrow(
      /contribution 0: layer 0 has 1 elements, expected 2/,
    );
  });

  it('rejects a zero or non-finite example count', () => {
    expect(() => fedAvg([f32(0)], [{ delta: [f32(1)], numExamples: 0 }])).toThrow(/numExamples must be finite and > 0, got 0/);
    expect(() => fedAvg([f32(0)], [{ delta: [f32(1)], numExamples: Number.NaN }])).toThrow(AggregationError);
  });
});

describe('assertFiniteLayers', () => {
  it('passes finite layers and reports the first infinite element', () => {
    expect(() => assertFiniteLayers([f32(1, -2), f32()], 'ok')).not.toThrow();
    expect(() => assertFiniteLayers([f32(1), f32(0, 0, Number.NEGATIVE_INFINITY)], 'update from a')).toThrow(
      'update from a: layer 1 element 2 is -Infinity, expected a finite number',
    );
  });
});

describe('assertSameShape', () => {
  it('accepts equal shapes and rejects different ones', () => {
    expect(() => assertSameShape([f32(1, 2)], [f32(3, 4)], 'x')).not.toThrow();
    expect(() => assertSameShape([f32(1, 2)], [f32(3)], 'x')).toThrow(AggregationError);
  });
});
