import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bleu, bleuMultiRef, chrf, editDistance, errorRate, errorRateMultiRef, itemErrorRate } from '../../src/metrics/index.js';
import { DataError, Rng } from '../../src/tensor/index.js';

const words = (s: string) => s.split(' ').filter((w) => w.length > 0);
const close = (actual: number, expectedValue: number, tol = 1e-9) =>
  assert.ok(Math.abs(actual - expectedValue) <= tol, `expected ${expectedValue}, got ${actual}`);

describe('editDistance', () => {
  test('hand cases', () => {
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(editDistance('', ''), 0);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('abc', ''), 3);
    assert.equal(editDistance('flaw', 'flaw'), 0);
    assert.equal(editDistance('ab', 'ba'), 2); // no transpositions in Levenshtein
    assert.equal(editDistance(words('the cat sat'), words('the cat sat down')), 1); // tokens, not characters
    assert.equal(editDistance([1, 2, 3], [1, 3]), 1);
  });

  test('is a metric on random strings: symmetric, zero iff equal, triangle inequality', () => {
    const rng = new Rng(7);
    const randomString = () => Array.from({ length: rng.int(9) }, () => 'abc'[rng.int(3)]).join('');
    for (let trial = 0; trial < 300; trial++) {
      const [a, b, c] = [randomString(), randomString(), randomString()];
      const ab = editDistance(a, b);
      assert.equal(ab, editDistance(b, a));
      assert.equal(ab === 0, a === b);
      assert.ok(editDistance(a, c) <= ab + editDistance(b, c), `${a} ${b} ${c}`);
      assert.ok(ab >= Math.abs(a.length - b.length) && ab <= Math.max(a.length, b.length));
    }
  });
});

describe('error rates', () => {
  test('errorRate is corpus-level: Σ edits / Σ reference lengths, not a mean of ratios', () => {
    // Item 1: 1 edit over 2 tokens; item 2: 0 edits over 8 tokens. (1 + 0) / (2 + 8) = 0.1, not (0.5 + 0) / 2.
    const refs = [words('a b'), words('c d e f g h i j')];
    const hyps = [words('a x'), words('c d e f g h i j')];
    close(errorRate(hyps, refs), 0.1);
    close(errorRate([words('a b c')], [words('a')]), 2); // insertions can push it above 1
    assert.throws(() => errorRate([['a']], []), DataError);
    assert.throws(() => errorRate([['a']], [[]]), DataError);
  });

  test('errorRateMultiRef uses the closest reference and its length', () => {
    // "tomato": T AH M EY T OW or T AH M AA T OW. Hyp T AH M AA T OW matches the second exactly.
    const hyps = [words('T AH M AA T OW'), words('K AE T')];
    const refs = [[words('T AH M EY T OW'), words('T AH M AA T OW')], [words('K AE T S'), words('K AA')]];
    // Item 2: "K AE T S" needs 1 edit (length 4), "K AA" needs 2: the first counts. (0 + 1) / (6 + 4).
    close(errorRateMultiRef(hyps, refs), 0.1);
    // With only the first references, item 1 costs a substitution: (1 + 1) / (6 + 4).
    close(errorRate(hyps, refs.map((r) => r[0]!)), 0.2);
    assert.throws(() => errorRateMultiRef([['a']], [[]]), DataError);
  });

  test('itemErrorRate counts items matching no reference exactly', () => {
    const refs = [[words('T AH M EY T OW'), words('T AH M AA T OW')], [words('K AE T')], [words('D AO G')]];
    const hyps = [words('T AH M AA T OW'), words('K AE T'), words('D AA G')];
    close(itemErrorRate(hyps, refs), 1 / 3);
    close(itemErrorRate(hyps.slice(0, 2), refs.slice(0, 2)), 0);
  });
});

describe('bleu', () => {
  test('identical corpora score 100', () => {
    const corpus = [words('the cat is on the mat'), words('there is a cat on the mat too')];
    close(bleu(corpus, corpus), 100);
  });

  test('no matching 4-gram anywhere gives 0 (no smoothing)', () => {
    const result = bleuMultiRef([words('a b c x d e f')], [[words('a b c y d e f')]]);
    assert.equal(result.matches[3], 0);
    assert.ok(result.precisions[0]! > 0); // the lower orders do match ...
    assert.equal(result.score, 0); // ... but one zero precision zeroes the geometric mean
  });

  test('brevity penalty, by hand', () => {
    // Hyp "a b c d e f" is a prefix of ref "a b c d e f g h": every n-gram matches, p1..p4 = 1.
    // c = 6 < r = 8, so BP = exp(1 − 8/6) = exp(−1/3) = 0.716531310573789, BLEU = 71.6531310573789.
    const result = bleuMultiRef([words('a b c d e f')], [[words('a b c d e f g h')]]);
    assert.deepEqual(result.precisions, [1, 1, 1, 1]);
    close(result.brevityPenalty, Math.exp(-1 / 3));
    close(result.score, 71.6531310573789, 1e-9);
    // Longer hypotheses are not rewarded: c ≥ r gives BP = 1 (precision pays for the extra words).
    assert.equal(bleuMultiRef([words('a b c d e f g h i')], [[words('a b c d e f g h')]]).brevityPenalty, 1);
  });

  test('Papineni et al. 2002: modified unigram precision of "the the the ..." is 2/7', () => {
    const hyp = words('the the the the the the the');
    const refs = [words('the cat is on the mat'), words('there is a cat on the mat')];
    const result = bleuMultiRef([hyp], [refs]);
    close(result.precisions[0]!, 2 / 7);
    assert.equal(result.score, 0);
  });

  test('the NLTK sentence_bleu docstring example (three references) gives 0.5045666840058485', () => {
    const hyp = words('It is a guide to action which ensures that the military always obeys the commands of the party');
    const refs = [
      words('It is a guide to action that ensures that the military will forever heed Party commands'),
      words('It is the guiding principle which guarantees the military forces always being under the command of the Party'),
      words('It is the practical guide for the army always to heed the directions of the party'),
    ];
    close(bleuMultiRef([hyp], [refs]).score, 50.45666840058485, 1e-9);
  });

  test('statistics are summed over the corpus before dividing', () => {
    // Sentence 1 alone is perfect; sentence 2 has no 4-gram match. Averaging sentence scores would give 50.
    const hyps = [words('a b c d e'), words('p q r x s')];
    const refs = [words('a b c d e'), words('p q r y s')];
    // Sentence 2 matches 4/5 unigrams, 2/4 bigrams, 1/3 trigrams, 0/2 4-grams; sentence 1 all of 5, 4, 3, 2.
    // p1 = 9/10, p2 = 6/8, p3 = 4/6, p4 = 2/4, BP = 1.
    close(bleu(hyps, refs), 100 * Math.pow((9 / 10) * (6 / 8) * (4 / 6) * (2 / 4), 1 / 4));
    assert.throws(() => bleu(hyps, refs.slice(1)), DataError);
  });
});

describe('chrf', () => {
  test('identical corpora score 100, whitespace ignored', () => {
    close(chrf(['the cat sat', 'on the mat'], ['the cat sat', 'on the mat']), 100);
    close(chrf(['thecat sat'], ['the cat  sat']), 100);
  });

  test('a one-character change scores below 100', () => {
    const score = chrf(['the cat sat on the mat'], ['the cat sat on the hat']);
    assert.ok(score < 100 && score > 50, `${score}`);
  });

  test('small case by hand', () => {
    // hyp "ab", ref "abc". n=1: 2 matches, hyp 2, ref 3. n=2: "ab" matches, hyp 1, ref 2.
    // n=3: hyp has none, ref has "abc"; n=4..6: neither. Effective order 2 (both sides have n-grams).
    // P = (1 + 1) / 2 = 1, R = (2/3 + 1/2 + 0) / 2 = 7/12 (ε terms negligible).
    // F2 = 5 · P · R / (4P + R) = (35/12) / (55/12) = 7/11.
    close(chrf(['ab'], ['abc']), 700 / 11, 1e-9);
  });

  test('matches the values published by the sacrebleu-backed HF chrF metric card', () => {
    close(
      chrf(['The relationship between Obama and Netanyahu is not exactly friendly.'], ['The ties between Obama and Netanyahu are not particularly friendly.']),
      61.576379378113785,
      1e-9,
    );
    close(
      chrf(
        ['The relationship between cats and dogs is not exactly friendly.', 'a good bookshop is just a genteel black hole that knows how to read.'],
        ['The relationship between dogs and cats is not exactly friendly.', 'A good bookshop is just a genteel Black Hole that knows how to read.'],
      ),
      84.64214891738334,
      1e-9,
    );
  });
});
