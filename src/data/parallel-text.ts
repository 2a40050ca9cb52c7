/**
 * English→target sentence pairs from gettext catalog entries (browser-safe).
 *
 * What is kept, checked in this order (the first failing rule names the drop reason):
 * - header: the empty msgid (catalog metadata, not text).
 * - untranslated: an empty msgstr (untranslated or fuzzy entries compiled empty).
 * - plural: entries with msgid_plural are dropped whole; their forms carry counts
 *   ("%d files") and would almost always be placeholder drops anyway.
 * - multiline: a newline in either side (help texts, lists, usage blocks).
 * - placeholder: printf (%s, %d, %1$s, %(name)s), brace ({0}, {name}), shell (${x}, $HOME),
 *   markup (<b>, &amp;), tabs and backslashes. The model cannot copy what the
 *   program fills in at run time, so such entries are dropped, not rewritten.
 *   Mnemonic markers (_Open, &Save) are stripped instead: they change no word.
 * - identical: target equals source after normalising (untranslated in practice).
 * - noLetter / length: each side must contain a letter and have 3 to 20 words.
 * - duplicate / conflict: the first pair for a source sentence wins; a later same
 *   pair is a duplicate, a later different target is a conflict.
 * Whitespace is collapsed to single spaces and trimmed on both sides.
 */
import type { MoEntry } from './mo.js';
import { splitByKey, type Parts, type SplitFractions } from './split.js';

export interface SentencePair {
  /** English msgid. */
  source: string;
  /** Its translation. */
  target: string;
}

export const DROP_REASONS = ['header', 'untranslated', 'plural', 'multiline', 'placeholder', 'identical', 'noLetter', 'length', 'duplicate', 'conflict'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface CleanedPairs {
  pairs: SentencePair[];
  /** Entries seen. */
  entries: number;
  /** Entries dropped, by the first rule they failed. */
  dropped: Record<DropReason, number>;
}

export const MIN_WORDS = 3;
export const MAX_WORDS = 20;

const PLACEHOLDER = new RegExp([
  String.raw`%(\d+\$)?[-+ #0']*(\*|\d+)?(\.(\*|\d+))?(hh|h|ll|l|L|q|j|z|t|I|I64)?[diouxXeEfFgGaAcspnSCm%]`, // printf
  String.raw`%\([^)]*\)`, // Python named
  String.raw`\{[^{}]*\}`, // {0} {name}
  String.raw`\$[\p{L}_{(]`, // ${x} $HOME $(cmd)
  String.raw`<\/?[A-Za-z][^>]*>`, // markup tags
  String.raw`&#?\w+;`, // entities
  String.raw`[\t\\]`,
].join('|'), 'u');

// _Open / &Save: a marker directly before a letter at a word start.
const MNEMONIC = /(^|[\s(\[])[_&](?=\p{L})/gu;

/** Collapses whitespace and strips mnemonic markers. */
export function normaliseSentence(s: string): string {
  return s.replace(MNEMONIC, '$1').replace(/\s+/g, ' ').trim();
}

function wordCount(s: string): number {
  return s === '' ? 0 : s.split(' ').length;
}

/** Sentence pairs from catalog entries, with a count of every drop reason. */
export function cleanPairs(entries: Iterable<MoEntry>): CleanedPairs {
  const dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>;
  const bySource = new Map<string, string>();
  const pairs: SentencePair[] = [];
  let seen = 0;
  for (const e of entries) {
    seen++;
    const reason = ruleOut(e);
    if (typeof reason === 'string') { dropped[reason]++; continue; }
    const earlier = bySource.get(reason.source);
    if (earlier !== undefined) { dropped[earlier === reason.target ? 'duplicate' : 'conflict']++; continue; }
    bySource.set(reason.source, reason.target);
    pairs.push(reason);
  }
  return { pairs, entries: seen, dropped };
}

/** The first rule an entry fails, or the normalised pair it yields. */
function ruleOut(e: MoEntry): DropReason | SentencePair {
  if (e.id === '' && e.context === null) return 'header';
  const rawTarget = e.strings[0] ?? '';
  if (rawTarget.trim() === '') return 'untranslated';
  if (e.idPlural !== null) return 'plural';
  if (/[\n\r]/.test(e.id) || /[\n\r]/.test(rawTarget)) return 'multiline';
  if (PLACEHOLDER.test(e.id) || PLACEHOLDER.test(rawTarget)) return 'placeholder';
  const source = normaliseSentence(e.id);
  const target = normaliseSentence(rawTarget);
  if (source === target) return 'identical';
  if (!/\p{L}/u.test(source) || !/\p{L}/u.test(target)) return 'noLetter';
  for (const side of [source, target]) {
    const n = wordCount(side);
    if (n < MIN_WORDS || n > MAX_WORDS) return 'length';
  }
  return { source, target };
}

export type PairSplit = Parts<SentencePair>;

/**
 * Seeded train/dev/test split by distinct source sentence, so one English
 * sentence never lands in two parts. Same pairs + seed → same split.
 */
export function splitPairs(pairs: readonly SentencePair[], seed: number, fractions: SplitFractions = [0.9, 0.05, 0.05]): PairSplit {
  return splitByKey(pairs, (p) => p.source, seed, fractions, 'splitPairs');
}
