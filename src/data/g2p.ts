/**
 * Grapheme-to-phoneme data (CMUdict): cleaning raw dictionary entries and a
 * seeded train/dev/test split by word. Browser-safe; the Node loader of the
 * npm package lives in `node/cmudict.ts`.
 *
 * Cleaning follows the usual CMUdict g2p setup (Yao & Zweig 2015; Bisani & Ney
 * 2008; CMUSphinx g2p-seq2seq):
 * - words are lowercased;
 * - alternates `WORD(1)`, `WORD(2)` join `word`'s list of pronunciations, and a
 *   word counts as correct if the output matches any of them;
 * - stress digits are removed from vowels (`AH0`, `AH1` -> `AH`), leaving the
 *   39 ARPAbet phonemes; pronunciations that become identical are kept once;
 * - words with characters other than a-z and the apostrophe (digits, `-`, `.`,
 *   `_`, braces, ...: abbreviations, compounds, noise) are dropped and counted.
 */
import { DataError, expected, quoted } from '../tensor/index.js';
import { splitByKey, type Parts, type SplitFractions } from './split.js';

/** The 39 ARPAbet phonemes of CMUdict without stress (15 vowels, 24 consonants). */
export const ARPABET_PHONEMES: readonly string[] = [
  'AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'B', 'CH', 'D', 'DH', 'EH', 'ER', 'EY', 'F', 'G', 'HH', 'IH', 'IY', 'JH',
  'K', 'L', 'M', 'N', 'NG', 'OW', 'OY', 'P', 'R', 'S', 'SH', 'T', 'TH', 'UH', 'UW', 'V', 'W', 'Y', 'Z', 'ZH',
];

/** One word and all its pronunciations (each a phoneme sequence). */
export interface G2PEntry {
  word: string;
  prons: string[][];
}

/** Cleaned entries (sorted by word) and what the cleaning removed. */
export interface G2PCleaned {
  entries: G2PEntry[];
  /** Raw entries read, alternates included. */
  rawEntries: number;
  /** Distinct words dropped for characters outside a-z and `'`. */
  droppedWords: number;
  /** Pronunciations dropped because they equal another of the same word once stress is removed. */
  duplicatePronunciations: number;
}

const ALTERNATE = /\(\d+\)$/;
const WORD = /^[a-z']+$/;
const PHONEMES = new Set(ARPABET_PHONEMES);

/**
 * Cleans raw CMUdict entries `[key, pronunciation]`, e.g. `['READ(1)', 'R IY1 D']`
 * (the key as in the dictionary, phonemes separated by spaces).
 */
export function cleanCmudict(raw: Iterable<readonly [string, string]>): G2PCleaned {
  const byWord = new Map<string, string[][]>();
  const dropped = new Set<string>();
  let rawEntries = 0;
  let duplicatePronunciations = 0;
  for (const [key, pron] of raw) {
    rawEntries++;
    const word = key.replace(ALTERNATE, '').toLowerCase();
    if (!WORD.test(word)) {
      dropped.add(word);
      continue;
    }
    const phonemes = pron.trim().split(/\s+/).map((p) => p.replace(/[0-2]$/, ''));
    const bad = phonemes.find((p) => !PHONEMES.has(p));
    if (bad !== undefined) {
      throw new DataError(expected(`cmudict entry ${quoted(key)}`, 'ARPAbet phonemes',
        `${quoted(bad)} in ${quoted(pron)}`));
    }
    const prons = byWord.get(word) ?? [];
    const joined = phonemes.join(' ');
    if (prons.some((p) => p.join(' ') === joined)) duplicatePronunciations++;
    else prons.push(phonemes);
    byWord.set(word, prons);
  }
  const entries = [...byWord].map(([word, prons]) => ({ word, prons }));
  entries.sort((a, b) => (a.word < b.word ? -1 : a.word > b.word ? 1 : 0));
  return { entries, rawEntries, droppedWords: dropped.size, duplicatePronunciations };
}

/** Train, dev and test parts; a word and all its pronunciations are in exactly one. */
export type G2PSplit = Parts<G2PEntry>;

/**
 * Splits entries by word with a seeded shuffle. The result depends only on the
 * set of entries and the seed (input order does not matter), and each part's
 * size is within one word of `fraction * words`.
 */
export function g2pSplit(entries: readonly G2PEntry[], seed: number, fractions: SplitFractions = [0.9, 0.05, 0.05]): G2PSplit {
  const where = 'g2pSplit';
  const words = new Set<string>();
  for (const e of entries) {
    if (words.has(e.word)) {
      throw new DataError(expected(where, 'one entry per word', `${quoted(e.word)} twice`,
        'group pronunciations with cleanCmudict'));
    }
    words.add(e.word);
  }
  return splitByKey(entries, (e) => e.word, seed, fractions, where);
}
