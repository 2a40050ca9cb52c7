/**
 * Text in, text out: the vocabularies around the model, batched decoding of
 * many lines, and the scores of the two tasks (g2p: phoneme and word error
 * rates; translation: BLEU and chrF).
 */
import { UNKNOWN, Vocabulary, detokenize, tokenize } from '../../data/index.js';
import { bleu, chrf, errorRateMultiRef, itemErrorRate } from '../../metrics/index.js';
import { requireBoolean } from '../../tensor/index.js';
import { translateIds, type DecodeOptions, type Translation } from './decode.js';
import { EOS } from './data.js';
import type { Seq2Seq } from './model.js';

export interface Vocabularies {
  source: Vocabulary;
  target: Vocabulary;
}

export interface TextTranslation {
  /** the output, detokenised */
  text: string;
  /** source and output tokens (</s> ends the output tokens when the decoder chose it) */
  sourceTokens: string[];
  tokens: string[];
  /** rows: output tokens; columns: source tokens */
  attention: number[][];
  /** source tokens the vocabulary did not have (read as <unk>) */
  unknown: number;
  /** output <unk>s replaced by the source token they attended to most */
  replaced: number;
  finished: boolean;
}

export interface TextDecodeOptions extends DecodeOptions {
  /** lines per decoder batch (default 64) */
  batch?: number;
  /**
   * Replace each output <unk> by the source token its attention weighs most
   * (Luong et al. 2015's unknown-word replacement; names, numbers and
   * commands pass through). Default: when source and target have the same
   * token level; otherwise <unk> stays.
   */
  replaceUnknown?: boolean;
}

/**
 * Translates lines in batches of similar length. An empty (or all-space) line
 * gives an empty output without running the model; unknown source tokens are
 * read as <unk> and counted; output <unk>s are replaced (see `replaceUnknown`).
 */
export function translateTexts(model: Seq2Seq, vocab: Vocabularies, lines: readonly string[], options: TextDecodeOptions = {}): TextTranslation[] {
  const { batch = 64, replaceUnknown: asked, ...decode } = options;
  const replaceUnknown = requireBoolean('translateTexts', 'replaceUnknown', asked,
    vocab.source.level === vocab.target.level);
  const encoded = lines.map((line) => vocab.source.encode(line));
  const order = lines.map((_, i) => i).filter((i) => encoded[i]!.ids.length > 0).sort((a, b) => encoded[a]!.ids.length - encoded[b]!.ids.length);
  const results: Translation[] = new Array(lines.length);
  for (let at = 0; at < order.length; at += batch) {
    const part = order.slice(at, at + batch);
    translateIds(model, part.map((i) => encoded[i]!.ids), decode).forEach((t, k) => (results[part[k]!] = t));
  }
  return lines.map((line, i) => {
    const t = results[i];
    const sourceTokens = tokenize(line, vocab.source.level);
    if (!t) return { text: '', sourceTokens, tokens: [], attention: [], unknown: 0, replaced: 0, finished: true };
    const tokens = t.tokens.map((id) => vocab.target.tokens[id]!);
    const output = replaceUnknown ? tokens.map((tok, k) => (tok === UNKNOWN ? sourceTokens[argmax(t.attention[k]!)] ?? tok : tok)) : tokens;
    return {
      text: detokenize(output, vocab.target.level), sourceTokens, tokens: t.finished ? [...tokens, EOS] : tokens,
      attention: t.attention.map((row) => Array.from(row, (x) => Number(x.toFixed(4)))), unknown: encoded[i]!.unknown,
      replaced: output.filter((tok, k) => tok !== tokens[k]).length, finished: t.finished,
    };
  });
}

export interface G2PScores {
  /** phoneme error rate: edits to the closest reference / its length, summed over words */
  per: number;
  /** word error rate: words whose output matches none of their references */
  wer: number;
  words: number;
}

export function scoreG2P(outputs: readonly (readonly string[])[], references: readonly (readonly (readonly string[])[])[]): G2PScores {
  return { per: errorRateMultiRef(outputs, references), wer: itemErrorRate(outputs, references), words: outputs.length };
}

export interface TranslationScores {
  /** corpus BLEU-4 (0–100) over word tokens (words and punctuation, as `tokenize(…, 'word')`) */
  bleu: number;
  /** corpus chrF (0–100) over characters */
  chrf: number;
  sentences: number;
}

export function scoreTranslation(outputs: readonly string[], references: readonly string[]): TranslationScores {
  const words = (s: string) => tokenize(s, 'word');
  return { bleu: bleu(outputs.map(words), references.map(words)), chrf: chrf(outputs, references), sentences: outputs.length };
}

function argmax(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}
