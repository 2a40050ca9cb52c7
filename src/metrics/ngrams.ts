/** N-gram counting shared by BLEU (word n-grams) and chrF (character n-grams). */

/** Counts of the n-grams of `tokens`, keyed by the tokens joined with a separator no token holds. */
export function ngramCounts(tokens: readonly string[], n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join('\u0000');
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

/** Σ over n-grams of min(count in hyp, count in ref): the matches, each clipped by the reference. */
export function clippedMatches(hyp: Map<string, number>, ref: Map<string, number>): number {
  let matches = 0;
  for (const [key, count] of hyp) matches += Math.min(count, ref.get(key) ?? 0);
  return matches;
}

/** The total count of a bag of n-grams. */
export function total(counts: Map<string, number>): number {
  let sum = 0;
  for (const count of counts.values()) sum += count;
  return sum;
}
