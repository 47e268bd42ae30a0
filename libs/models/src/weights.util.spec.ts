import { shapeSize, weightsDelta, withShapes } from './weights.util';

describe('weightsDelta', () => {
  it('subtracts layer by layer', () => {
    // Arrange
    const before = [{ shape: [2, 1], data: Float32Array.from([1, 2]) }, { shape: [1], data: Float32Array.from([0.5]) }];
    const after = [{ shape: [2, 1], data: Float32Array.from([1.5, 1]) }, { shape: [1], data: Float32Array.from([0]) }];

    // Act
    const delta = weightsDelta(after, before);

    // Assert
    expect(delta.map((d) => Array.from(d))).toEqual([[0.5, -1], [-0.5]]);
  });

  it('rejects different layer counts or shapes', () => {
    const a = [{ shape: [2], data: new Float32Array(2) }];
    expect(() => weightsDelta(a, [])).toThrow(RangeError);
    expect(() => weightsDelta(a, [{ shape: [1, 2], data: new Float32Array(2) }])).toThrow(/layer 0 is \[2\] after but \[1,2\] before/);
  });
});

describe('withShapes / shapeSize', () => {
  it('re-attaches shapes and checks sizes', () => {
    const like = [{ shape: [3, 2], data: new Float32Array(6) }];
    expect(withShapes([new Float32Array(6)], like)[0].shape).toEqual([3, 2]);
    expect(() => withShapes([new Float32Array(5)], like)).toThrow(RangeError);
    expect(shapeSize([])).toBe(1);
    expect(shapeSize([13, 1])).toBe(13);
  });
});
