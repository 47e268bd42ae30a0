import { mulberry32, shuffleInPlace } from '@medfed/data';

/** A uniform [0, 1) generator. */
export type Rng = () => number;

/**
 * Mulberry32, shared with the data lib (one generator, so a seed means the same stream everywhere):
 * reproducible weight init and batch shuffling, unlike Math.random.
 */
export const createRng: (seed: number) => Rng = mulberry32;

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

/** Fisher–Yates shuffle in place (the data lib's). */
export { shuffleInPlace };
