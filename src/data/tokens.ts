import { ConfigError, expected } from '../tensor/index.js';

/** How text is cut into tokens: characters (Unicode code points) or words and punctuation. */
export type TokenLevel = 'char' | 'word';

// Words (with inner apostrophes and hyphens), numbers, a newline, or any other single non-space character.
const WORD = /[\p{L}\p{M}]+(?:['’-][\p{L}\p{M}]+)*|\p{N}+(?:[.,]\p{N}+)*|\n|[^\s]/gu;

export function tokenize(text: string, level: TokenLevel): string[] {
  if (level === 'char') return Array.from(text);
  if (level === 'word') return text.match(WORD) ?? [];
  throw new ConfigError(expected('tokenize', "level 'char' or 'word'", `'${String(level)}'`));
}

const NO_SPACE_BEFORE = /^[.,;:!?)\]}’”'"\n]$/u;
const NO_SPACE_AFTER = /^[([{“‘\n]$/u;

/** Joins tokens back into text: characters as they are; words with single spaces, none around punctuation and newlines. */
export function detokenize(tokens: readonly string[], level: TokenLevel): string {
  if (level === 'char') return tokens.join('');
  let out = '';
  let prev = '\n';
  for (const t of tokens) {
    if (!(NO_SPACE_BEFORE.test(t) || NO_SPACE_AFTER.test(prev))) out += ' ';
    out += t;
    prev = t;
  }
  return out;
}
