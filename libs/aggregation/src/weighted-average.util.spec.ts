import { AggregationError } from './aggregation.error';
import { weightedAverage } from './weighted-average.util';

const f32 = (...xs: number[]) => Float32Array.from(xs);

describe('weightedAverage', () => {
  it('weights [1,2]x3 and [4,5]x1 to [1.75, 2.75]', () => {
    // Arrange: hand-computed (3·1 + 4)/4 = 1.75, (3·2 + 5)/4 = 2.75
    const vectors = [f32(1, 2), f32(4, 5)];

    // Act
    const out = weightedAverage(vectors, [3, 1]);

    // Assert
    expect(Array.from(out)).toEqual([1.75, 2.75]);
  });

  it('handles more vectors than the unrolled block (6 vectors, uneven weights)', () => {
    // Arrange: values i with weight i+1 → Σ i(i+1) / Σ (i+1) = 70/21 = 3.333…
    const vectors = [0, 1, 2, 3, 4, 5].map((i) => f32(i, -i, 10));
    const weights = [1, 2, 3, 4, 5, 6];

    // Act
    const out = weightedAverage(vectors, weights);

    // Assert
    expect(out[0]).toBeCloseTo(70 / 21, 5);
    expect(out[1]).toBeCloseTo(-70 / 21, 5);
    expect(out[2]).toBeCloseTo(10, 5);
  });

  it('returns a copy for a single vector and leaves the inputs untouched', () => {
    // Arrange
    const v = f32(0.5, -2);

    // Act
    const out = weightedAverage([v], [7]);

    // Assert
    expect(Array.from(out)).toEqual([0.5, -2]);
    expect(out).not.toBe(v);
    expect(Array.from(v)).toEqual([0.5, -2]);
  });

  it.each([
    ['zero', 0],
    ['negative', -1],
    ['NaN', Number.NaN],
    ['infinite', Number.POSITIVE_INFINITY],
  ])('rejects a %s weight and names it', (_label, bad) => {
    expect(() => weightedAverage([f32(1), f32(2)], [1, bad])).toThrow(AggregationError);
    expect(() => weightedAverage([f32(1), f32(2)], [1, bad])).toThrow(/weight 1/);
  });

  it('rejects empty input', () => {
    expect(() => weightedAverage([], [])).toThrow(AggregationError);
  });

  it('rejects a weight count mismatch', () => {
    expect(() => weightedAverage([f32(1), f32(2)], [1])).toThrow(/2 vectors but 1 weights/);
  });

  it('rejects vectors of different lengths', () => {
    expect(() => weightedAverage([f32(1, 2), f32(1)], [1, 1])).toThrow(/vector 1 has length 1, expected 2/);
  });
});
