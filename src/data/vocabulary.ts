import { ConfigError, DataError, expected, quoted, show } from '../tensor/index.js';
import { detokenize, tokenize, type TokenLevel } from './tokens.js';

export const UNKNOWN = '<unk>';

export interface VocabularyJSON {
  level: TokenLevel;
  /** tokens by id; id 0 is always `<unk>` */
  tokens: string[];
}

/**
 * Token ↔ id. Id 0 stands for every token the training text did not have (or
 * that fell outside a size limit), so any text can be encoded and scored.
 */
export class Vocabulary {
  private readonly ids: Map<string, number>;

  private constructor(readonly level: TokenLevel, readonly tokens: readonly string[]) {
    this.ids = new Map(tokens.map((t, i) => [t, i]));
    if (tokens[0] !== UNKNOWN || this.ids.size !== tokens.length) {
      throw new DataError(expected('Vocabulary', `distinct tokens with '${UNKNOWN}' first`,
        `${tokens.length} tokens, ${this.ids.size} distinct, first ${quoted(tokens[0])}`));
    }
  }

  /** The tokens of `text`, most frequent first (ties in order of first appearance), at most `maxSize` including `<unk>`. */
  static build(text: string, level: TokenLevel, maxSize = Infinity): Vocabulary {
    if (!(maxSize >= 2)) throw new ConfigError(expected('Vocabulary.build', 'maxSize >= 2', show(maxSize)));
    const counts = new Map<string, number>();
    for (const t of tokenize(text, level)) counts.set(t, (counts.get(t) ?? 0) + 1);
    counts.delete(UNKNOWN);
    const byCount = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([t]) => t);
    return new Vocabulary(level, [UNKNOWN, ...byCount.slice(0, maxSize - 1)]);
  }

  static fromJSON(j: VocabularyJSON): Vocabulary {
    if (!j || (j.level !== 'char' && j.level !== 'word') || !Array.isArray(j.tokens) || !j.tokens.every((t) => typeof t === 'string')) {
      throw new DataError(expected('Vocabulary.fromJSON', "{ level: 'char' | 'word', tokens: string[] }", show(j)));
    }
    return new Vocabulary(j.level, j.tokens);
  }

  toJSON(): VocabularyJSON {
    return { level: this.level, tokens: [...this.tokens] };
  }

  get size(): number {
    return this.tokens.length;
  }

  id(token: string): number {
    return this.ids.get(token) ?? 0;
  }

  /** Token ids of `text`, and how many tokens were unknown. */
  encode(text: string): { ids: Int32Array; unknown: number } {
    const tokens = tokenize(text, this.level);
    const ids = new Int32Array(tokens.length);
    let unknown = 0;
    tokens.forEach((t, i) => {
      const id = this.id(t);
      ids[i] = id;
      if (id === 0) unknown++;
    });
    return { ids, unknown };
  }

  decode(ids: ArrayLike<number>): string {
    return detokenize(Array.from(ids, (i) => this.tokens[i] ?? UNKNOWN), this.level);
  }
}
