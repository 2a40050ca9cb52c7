/**
 * Corpus BLEU (Papineni et al. 2002) on pre-tokenised input, computed as sacrebleu does with
 * `tokenize='none'`, `smooth_method='none'`: n-gram statistics are summed over the corpus
 * before dividing, never averaged per sentence.
 *
 * No smoothing: if some order n has no match anywhere in the corpus the score is 0. Note that
 * sacrebleu's own default is `smooth_method='exp'`, which differs only in that zero case.
 */
import { DataError, expected } from '../tensor/index.js';
import { clippedMatches, ngramCounts, total } from './ngrams.js';

/** BLEU-4: orders n = 1..4, uniform weights. */
export const BLEU_MAX_ORDER = 4;

export interface BleuResult {
  /** 100 · BP · exp(Σₙ ¼ log pₙ), in [0, 100]. */
  score: number;
  /** Clipped n-gram precisions pₙ = matchesₙ / totalₙ, n = 1..4 (0 where the hypothesis has no n-grams). */
  precisions: number[];
  matches: number[];
  totals: number[];
  /** exp(1 − r/c) when c < r, else 1. */
  brevityPenalty: number;
  /** c: total hypothesis length. */
  hypLength: number;
  /** r: total effective reference length. */
  refLength: number;
}

/** BLEU with several references per sentence (any number ≥ 1); see {@link bleu}. */
export function bleuMultiRef(hyps: readonly (readonly string[])[], refs: readonly (readonly (readonly string[])[])[]): BleuResult {
  if (hyps.length !== refs.length) {
    throw new DataError(expected('bleu', `as many references as hypotheses (${hyps.length})`, refs.length));
  }
  const matches = new Array<number>(BLEU_MAX_ORDER).fill(0);
  const totals = new Array<number>(BLEU_MAX_ORDER).fill(0);
  let hypLength = 0;
  let refLength = 0;
  hyps.forEach((hyp, i) => {
    const sentenceRefs = refs[i]!;
    if (sentenceRefs.length === 0) throw new DataError(expected('bleu', 'at least one reference per sentence', `none for sentence ${i}`));
    hypLength += hyp.length;
    refLength += effectiveReferenceLength(hyp.length, sentenceRefs);
    for (let n = 1; n <= BLEU_MAX_ORDER; n++) {
      const hypCounts = ngramCounts(hyp, n);
      matches[n - 1]! += clippedMatches(hypCounts, maxReferenceCounts(sentenceRefs, n));
      totals[n - 1]! += total(hypCounts);
    }
  });
  const precisions = matches.map((m, k) => (totals[k]! > 0 ? m / totals[k]! : 0));
  const brevityPenalty = hypLength === 0 ? 0 : hypLength < refLength ? Math.exp(1 - refLength / hypLength) : 1;
  const noMatch = precisions.some((p) => p === 0);
  const logMean = noMatch ? -Infinity : precisions.reduce((s, p) => s + Math.log(p), 0) / BLEU_MAX_ORDER;
  const score = noMatch ? 0 : 100 * brevityPenalty * Math.exp(logMean);
  return { score, precisions, matches, totals, brevityPenalty, hypLength, refLength };
}

/**
 * Corpus BLEU-4 in [0, 100], one reference per sentence. `hyps[i]` and `refs[i]` are token lists.
 * For the precisions and brevity penalty use {@link bleuMultiRef}, which this wraps.
 */
export function bleu(hyps: readonly (readonly string[])[], refs: readonly (readonly string[])[]): number {
  return bleuMultiRef(hyps, refs.map((ref) => [ref])).score;
}

/** The reference length closest to the hypothesis length, ties going to the shorter (as sacrebleu). */
function effectiveReferenceLength(hypLength: number, refs: readonly (readonly string[])[]): number {
  let best = refs[0]!.length;
  for (const ref of refs) {
    const gap = Math.abs(ref.length - hypLength);
    const bestGap = Math.abs(best - hypLength);
    if (gap < bestGap || (gap === bestGap && ref.length < best)) best = ref.length;
  }
  return best;
}

/** Clipping counts: each n-gram may match as often as it occurs in the reference holding it most. */
function maxReferenceCounts(refs: readonly (readonly string[])[], n: number): Map<string, number> {
  const maxCounts = new Map<string, number>();
  for (const ref of refs) {
    for (const [key, count] of ngramCounts(ref, n)) maxCounts.set(key, Math.max(count, maxCounts.get(key) ?? 0));
  }
  return maxCounts;
}
