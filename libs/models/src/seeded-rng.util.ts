/** A uniform [0, 1) generator. */
export type Rng = () => number;

/**
 * Mulberry32 (Tommy Ettinger, public domain): a tiny 32-bit PRNG, plenty for weight init and batch
 * shuffling and, unlike Math.random, reproducible from a seed.
 *
 * @param seed any number; its low 32 bits are used.
 */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Mixes several integers (e.g. study seed, round, site index) into one 32-bit seed, so that every
 * (round, site) pair draws an independent, reproducible stream. FNV-1a over the 32-bit words, then a
 * murmur3 finaliser to spread nearby inputs.
 */
export function deriveSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    h = Math.imul(h ^ (p >>> 0), 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Fisher–Yates shuffle of `a` in place with `rng`. */
export function shuffleInPlace(a: Int32Array | number[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}
