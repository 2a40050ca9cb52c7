/**
 * chrF (Popović 2015) with sacrebleu's defaults: character n-grams n = 1..6, β = 2, whitespace
 * removed, no word n-grams, one reference per sentence. Statistics are summed over the corpus
 * per order; precision and recall are averaged over the orders, then combined into F_β.
 */
import { DataError, expected } from '../tensor/index.js';
import { clippedMatches, ngramCounts, total } from './ngrams.js';

export const CHRF_CHAR_ORDER = 6;
export const CHRF_BETA = 2;

/** Stands in for a precision or recall of an order with no n-grams, as sacrebleu's epsilon. */
const EPSILON = 1e-16;

/** chrF in [0, 100] over sentences given as strings. Characters are Unicode code points. */
export function chrf(hyps: readonly string[], refs: readonly string[]): number {
  if (hyps.length !== refs.length) {
    throw new DataError(expected('chrf', `as many references as hypotheses (${hyps.length})`, refs.length));
  }
  const hypTotals = new Array<number>(CHRF_CHAR_ORDER).fill(0);
  const refTotals = new Array<number>(CHRF_CHAR_ORDER).fill(0);
  const matches = new Array<number>(CHRF_CHAR_ORDER).fill(0);
  hyps.forEach((hyp, i) => {
    const hypChars = charactersWithoutWhitespace(hyp);
    const refChars = charactersWithoutWhitespace(refs[i]!);
    for (let n = 1; n <= CHRF_CHAR_ORDER; n++) {
      const hypCounts = ngramCounts(hypChars, n);
      const refCounts = ngramCounts(refChars, n);
      hypTotals[n - 1]! += total(hypCounts);
      refTotals[n - 1]! += total(refCounts);
      matches[n - 1]! += clippedMatches(hypCounts, refCounts);
    }
  });
  return 100 * fScore(averagePrecisionRecall(matches, hypTotals, refTotals), CHRF_BETA);
}

/**
 * Mean precision and recall over the orders both sides have n-grams of (sacrebleu's
 * "effective order"), so short sentences are not punished for lacking 6-grams.
 */
function averagePrecisionRecall(matches: number[], hypTotals: number[], refTotals: number[]):
  { precision: number; recall: number } {
  let precision = 0;
  let recall = 0;
  let effectiveOrder = 0;
  for (let k = 0; k < matches.length; k++) {
    precision += hypTotals[k]! > 0 ? matches[k]! / hypTotals[k]! : EPSILON;
    recall += refTotals[k]! > 0 ? matches[k]! / refTotals[k]! : EPSILON;
    if (hypTotals[k]! > 0 && refTotals[k]! > 0) effectiveOrder++;
  }
  if (effectiveOrder === 0) return { precision: 0, recall: 0 };
  return { precision: precision / effectiveOrder, recall: recall / effectiveOrder };
}

/** F_β = (1 + β²) P R / (β² P + R): β = 2 weighs recall twice as much as precision. */
function fScore({ precision, recall }: { precision: number; recall: number }, beta: number): number {
  const b2 = beta * beta;
  const denominator = b2 * precision + recall;
  return denominator > 0 ? ((1 + b2) * precision * recall) / denominator : 0;
}

function charactersWithoutWhitespace(sentence: string): string[] {
  return Array.from(sentence.replace(/\s+/gu, ''));
}
