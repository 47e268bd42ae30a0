/**
 * Helpers for tests of the model families and the studies built on them (not part of the library's API).
 */

/**
 * Area under the ROC curve by counting ordered (positive, negative) pairs, ties one half: O(n²), an independent
 * reference for the histogram and rank-based AUCs on small sets. Labels other than 0 and 1 are ignored.
 */
export function pairwiseAuc(scores: Float32Array, labels: Float32Array): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      pairs++;
      wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}
