import { fitStandardizer } from './standardizer.util';
import { concatSplits, TabularSplit } from './tabular-split.types';

const split = (rows: number[][], y: number[]): TabularSplit => ({
  x: Float32Array.from(rows.flat()),
  y: Float32Array.from(y),
  n: rows.length,
  dim: rows[0].length,
});

describe('fitStandardizer', () => {
  it('uses the mean and unbiased std of the fitted split', () => {
    // Arrange: column 0 = [1,2,3,4] → mean 2.5, unbiased var 5/3; column 1 constant 7 → std 0
    const fit = split([[1, 7], [2, 7], [3, 7], [4, 7]], [0, 1, 0, 1]);

    // Act
    const s = fitStandardizer(fit);
    const out = s.apply(split([[2.5 + Math.sqrt(5 / 3), 7], [0, 8]], [1, 0]));

    // Assert
    expect(Array.from(s.mean)).toEqual([2.5, 7]);
    expect(s.std[0]).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(s.std[1]).toBe(0);
    expect(out.x[0]).toBeCloseTo(1, 6);
    expect(out.x[1]).toBe(0); // constant column stays 0, as FLamby's + 1e-9 makes it
    expect(out.x[2]).toBeCloseTo(-2.5 / Math.sqrt(5 / 3), 6);
    expect(out.x[3]).toBeCloseTo(1e9, -3);
    expect(Array.from(out.y)).toEqual([1, 0]);
  });

  it('does not modify its input and rejects fewer than 2 rows or a different dim', () => {
    const fit = split([[1], [3]], [0, 1]);
    const s = fitStandardizer(fit);
    s.apply(fit);
    expect(Array.from(fit.x)).toEqual([1, 3]);
    expect(() => fitStandardizer(split([[1]], [0]))).toThrow(RangeError);
    expect(() => s.apply(split([[1, 2]], [0]))).toThrow(/fitted on dim 1/);
  });
});

describe('concatSplits', () => {
  it('stacks rows in order', () => {
    const out = concatSplits([split([[1, 2]], [0]), split([[3, 4], [5, 6]], [1, 1])]);
    expect(out).toEqual({ x: Float32Array.from([1, 2, 3, 4, 5, 6]), y: Float32Array.from([0, 1, 1]), n: 3, dim: 2 });
  });

  it('rejects an empty list and mixed widths', () => {
    expect(() => concatSplits([])).toThrow(RangeError);
    expect(() => concatSplits([split([[1]], [0]), split([[1, 2]], [0])])).toThrow(/split 1 has dim 2/);
  });
});
