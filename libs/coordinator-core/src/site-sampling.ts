import { createHash } from 'node:crypto';

/**
 * Picks the sites of a train round: a seeded, reproducible sample of `fraction` of the connected
 * sites (at least `minSites`, at most all), sorted. The same seed and candidates give the same
 * sample, so a rerun or a resumed coordinator selects exactly as the original did.
 */
export function sampleSites(candidates: readonly string[], fraction: number, minSites: number, seed: string): string[] {
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`site fraction must be in (0, 1], got ${fraction}`);
  const sorted = [...candidates].sort();
  const take = Math.min(sorted.length, Math.max(minSites, Math.ceil(fraction * sorted.length)));
  if (take === sorted.length) return sorted;
  // Rank by a keyed hash: a uniform random permutation that depends only on the seed and the ids.
  const ranked = sorted
    .map((id) => ({ id, key: createHash('sha256').update(`${seed}\u0000${id}`).digest('hex') }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return ranked
    .slice(0, take)
    .map((r) => r.id)
    .sort();
}
