import { ConfigError, expected, quoted } from '../tensor/index.js';

/** How text is cut into tokens: characters (Unicode code points) or words and punctuation. */
export type TokenLevel = 'char' | 'word';

// Words (with inner apostrophes and hyphens), numbers, a newline, or any other single non-space character.
const WORD = /[\p{L}\p{M}]+(?:['’-][\p{L}\p{M}]+)*|\p{N}+(?:[.,]\p{N}+)*|\n|[^\s]/gu;

export function tokenize(text: string, level: TokenLevel): string[] {
  if (level === 'char') return Array.from(text);
  if (level === 'word') return text.match(WORD) ?? [];
  throw new ConfigError(expected('tokenize', "level 'char' or 'word'", quoted(level)));
}

const NO_SPACE_BEFORE = /^[.,;:!?)\]}’”\n]$/u;
const NO_SPACE_AFTER = /^[([{“‘\n]$/u;
const STRAIGHT_QUOTE = /^["']$/;

/**
 * Joins word tokens back into text as they come (for streaming): single
 * spaces, none before closing punctuation or after opening brackets and
 * newlines; straight quotes alternate between opening and closing.
 */
export class WordJoiner {
  /** whether the next token attaches to the previous one (start of text, newline, opening bracket or quote) */
  private attach = true;
  private readonly open = new Set<string>();

  /** Starts after `context` (e.g. a prime's tokens) without emitting it. */
  constructor(context: readonly string[] = []) {
    for (const t of context) this.push(t);
  }

  /** The text to append for token `t`: a space if one belongs before it, then the token. */
  push(t: string): string {
    let closes: boolean;
    let opens: boolean;
    if (STRAIGHT_QUOTE.test(t)) {
      closes = this.open.has(t);
      if (closes) this.open.delete(t);
      else this.open.add(t);
      opens = !closes;
    } else {
      closes = NO_SPACE_BEFORE.test(t);
      opens = NO_SPACE_AFTER.test(t);
    }
    if (t === '\n') this.open.clear(); // quotations do not run across lines here
    const out = (closes || this.attach ? '' : ' ') + t;
    this.attach = opens;
    return out;
  }
}

/** Joins tokens back into text: characters as they are; words with WordJoiner's spacing. */
export function detokenize(tokens: readonly string[], level: TokenLevel): string {
  if (level === 'char') return tokens.join('');
  const joiner = new WordJoiner();
  return tokens.map((t) => joiner.push(t)).join('');
}
