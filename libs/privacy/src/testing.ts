import { boxMullerGaussianSource, GaussianSource, UniformSource } from './gaussian.source';

/**
 * A reproducible uniform source for tests and simulations: xoshiro128** (Blackman & Vigna 2018) seeded
 * through SplitMix32, two 32-bit outputs per 53-bit uniform. NOT cryptographic: never use it for real noise.
 * @param seed - any 32-bit integer
 */
export function seededUniformSource(seed: number): UniformSource {
  let sm = seed >>> 0;
  const splitMix32 = (): number => {
    sm = (sm + 0x9e3779b9) >>> 0;
    let z = sm;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  const s = [splitMix32(), splitMix32(), splitMix32(), splitMix32()];
  const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;
  const next32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  };
  return () => ((next32() >>> 11) * 4_294_967_296 + next32()) * 2 ** -53;
}

/** Box–Muller over {@link seededUniformSource}: reproducible N(0, 1) samples for tests. */
export function seededGaussianSource(seed: number): GaussianSource {
  return boxMullerGaussianSource(seededUniformSource(seed));
}
