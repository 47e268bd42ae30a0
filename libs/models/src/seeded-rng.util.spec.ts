import { createRng, deriveSeed, shuffleInPlace } from './seeded-rng.util';

describe('createRng', () => {
  it('repeats for a seed, differs across seeds and stays in [0, 1)', () => {
    const a = createRng(42);
    const b = createRng(42);
    const c = createRng(43);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    // mean of U(0,1) over 1000 draws: within ±0.05 of 0.5 (about 5.5 standard errors)
    expect(Math.abs(xs.reduce((s, x) => s + x, 0) / 1000 - 0.5)).toBeLessThan(0.05);
  });
});

describe('deriveSeed', () => {
  it('is deterministic and separates neighbouring inputs and orders', () => {
    expect(deriveSeed(42, 1, 0)).toBe(deriveSeed(42, 1, 0));
    const seeds = new Set([deriveSeed(42, 1, 0), deriveSeed(42, 0, 1), deriveSeed(42, 1, 1), deriveSeed(43, 1, 0)]);
    expect(seeds.size).toBe(4);
  });
});

describe('shuffleInPlace', () => {
  it('produces a permutation', () => {
    const a = Int32Array.from({ length: 50 }, (_, i) => i);
    shuffleInPlace(a, createRng(1));
    expect(Array.from(a).sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(Array.from(a)).not.toEqual(Array.from({ length: 50 }, (_, i) => i));
  });
});
