/**
 * Token-level edit distance and the error rates built on it (PER, WER, CER, digit error rate,
 * and the word error rate of grapheme-to-phoneme models).
 */
import { DataError, expected } from '../tensor/index.js';

/**
 * Levenshtein distance: the fewest insertions, deletions and substitutions turning `a` into `b`.
 * Tokens are compared with `===`. Keeps one row over the shorter sequence: O(min(|a|, |b|)) memory.
 */
export function editDistance<T>(a: ArrayLike<T>, b: ArrayLike<T>): number {
  const [long, short] = a.length >= b.length ? [a, b] : [b, a];
  // row[j] = distance between the first i tokens of `long` and the first j of `short`.
  const row = new Uint32Array(short.length + 1);
  for (let j = 0; j <= short.length; j++) row[j] = j;
  for (let i = 1; i <= long.length; i++) {
    let diagonal = row[0]!; // d(i-1, j-1)
    row[0] = i;
    for (let j = 1; j <= short.length; j++) {
      const above = row[j]!; // d(i-1, j)
      const substitution = diagonal + (long[i - 1] === short[j - 1] ? 0 : 1);
      row[j] = Math.min(substitution, above + 1, row[j - 1]! + 1);
      diagonal = above;
    }
  }
  return row[short.length]!;
}

/** The closest reference to `hyp`: fewest edits, ties going to the first listed. */
function closestReference<T>(hyp: ArrayLike<T>, refs: readonly ArrayLike<T>[], where: string): { edits: number; length: number } {
  if (refs.length === 0) throw new DataError(expected(where, 'at least one reference per item', 'an item with none'));
  let best = { edits: Infinity, length: 0 };
  for (const ref of refs) {
    const edits = editDistance(hyp, ref);
    if (edits < best.edits) best = { edits, length: ref.length };
  }
  return best;
}

function checkPaired(where: string, hyps: readonly unknown[], refs: readonly unknown[]): void {
  if (hyps.length !== refs.length) {
    throw new DataError(expected(where, `as many references as hypotheses (${hyps.length})`, refs.length));
  }
}

/** Σ edits / Σ reference lengths: an empty reference corpus has no defined rate. */
function ratio(where: string, edits: number, referenceLength: number): number {
  if (referenceLength === 0) throw new DataError(expected(where, 'a positive total reference length', 0));
  return edits / referenceLength;
}

/**
 * Corpus error rate = Σ editDistance(hyp, ref) / Σ |ref|: PER over phonemes, WER over words,
 * CER over characters. Summing before dividing weighs long references by their length,
 * unlike a mean of per-item rates. Can exceed 1 (insertions).
 */
export function errorRate<T>(hyps: readonly ArrayLike<T>[], refs: readonly ArrayLike<T>[]): number {
  checkPaired('errorRate', hyps, refs);
  let edits = 0;
  let length = 0;
  hyps.forEach((hyp, i) => {
    edits += editDistance(hyp, refs[i]!);
    length += refs[i]!.length;
  });
  return ratio('errorRate', edits, length);
}

/**
 * Corpus error rate when each item has several acceptable references (CMUdict words with
 * several pronunciations): per item the reference with the fewest edits counts, and its length
 * goes into the denominator. Ties go to the first listed reference.
 */
export function errorRateMultiRef<T>(hyps: readonly ArrayLike<T>[], refs: readonly (readonly ArrayLike<T>[])[]): number {
  checkPaired('errorRateMultiRef', hyps, refs);
  let edits = 0;
  let length = 0;
  hyps.forEach((hyp, i) => {
    const best = closestReference(hyp, refs[i]!, 'errorRateMultiRef');
    edits += best.edits;
    length += best.length;
  });
  return ratio('errorRateMultiRef', edits, length);
}

/**
 * Item error rate (the "word error rate" of g2p papers): the fraction of items whose
 * hypothesis equals none of its references exactly.
 */
export function itemErrorRate<T>(hyps: readonly ArrayLike<T>[], refs: readonly (readonly ArrayLike<T>[])[]): number {
  checkPaired('itemErrorRate', hyps, refs);
  if (hyps.length === 0) throw new DataError(expected('itemErrorRate', 'at least one item', 0));
  let wrong = 0;
  hyps.forEach((hyp, i) => {
    if (closestReference(hyp, refs[i]!, 'itemErrorRate').edits > 0) wrong++;
  });
  return wrong / hyps.length;
}
