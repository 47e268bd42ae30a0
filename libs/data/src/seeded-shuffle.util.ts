/**
 * A seeded uniform generator on [0, 1): Mulberry32 (Tommy Ettinger's 32-bit generator), enough for
 * reproducible data splits, weight initialisation and batch order (the models lib uses this one
 * too). Not for cryptography.
 * @param seed any number; its low 32 bits are used
 */
export function mulberry32(seed: number): () => number {
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
 * Shuffles `items` in place with the Fisher–Yates (Durstenfeld) algorithm driven by `random`.
 * @returns the same array, for chaining
 */
export function shuffleInPlace<A extends { length: number; [index: number]: unknown }>(items: A, random: () => number): A {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

/**
 * Splits `total` items into parts proportional to `weights`, rounding by the largest-remainder (Hamilton)
 * method so the parts sum exactly to `total`; ties go to the earlier part.
 */
export function apportion(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (total * w) / sum);
  const parts = exact.map(Math.floor);
  let left = total - parts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (let k = 0; left > 0; k++, left--) parts[order[k].i]++;
  return parts;
}
