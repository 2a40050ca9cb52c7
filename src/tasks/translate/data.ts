/**
 * Sequence pairs as the encoder–decoder reads them: vocabularies with the
 * decoder's boundary tokens, encoding, and length-bucketed padded batches.
 */
import { Vocabulary, tokenize, type TokenLevel } from '../../data/index.js';
import { ConfigError, DataError, Rng, expected, quoted, show } from '../../tensor/index.js';
import type { PairBatch } from './model.js';

/** Decoder boundaries: <s> starts every output, </s> ends it. Id 0 stays <unk>. */
export const BOS = '<s>';
export const EOS = '</s>';
export const BOS_ID = 1;
export const EOS_ID = 2;

/** The tokens of `texts` by falling count (ties: first seen), after <unk>, <s>, </s>; at most maxSize in all. */
export function buildVocabulary(texts: Iterable<string>, level: TokenLevel, maxSize = Infinity): Vocabulary {
  if (!(maxSize >= 4)) {
    throw new ConfigError(expected('buildVocabulary', 'maxSize >= 4 (3 special tokens and one more)', show(maxSize)));
  }
  const counts = new Map<string, number>();
  for (const text of texts) for (const t of tokenize(text, level)) counts.set(t, (counts.get(t) ?? 0) + 1);
  for (const special of ['<unk>', BOS, EOS]) counts.delete(special);
  const byCount = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([t]) => t);
  return Vocabulary.fromJSON({ level, tokens: ['<unk>', BOS, EOS, ...byCount.slice(0, maxSize - 3)] });
}

/** A sequence pair as ids (without boundary tokens). */
export interface EncodedPair {
  source: Int32Array;
  target: Int32Array;
}

export interface TextPair {
  source: string;
  target: string;
}

/**
 * Many pairs in three flat arrays. A typed array per sequence would cost about
 * 240 bytes of heap each, and with a dictionary's 240k sequences every full
 * garbage collection (which the tensors' churn triggers often) would walk them.
 */
export class PairCorpus {
  private constructor(
    private readonly ids: Int32Array,
    /** pair i: source at [start[2i], start[2i+1]), target at [start[2i+1], start[2i+2]) */
    private readonly start: Int32Array,
  ) {}

  static from(pairs: readonly EncodedPair[]): PairCorpus {
    const start = new Int32Array(2 * pairs.length + 1);
    let n = 0;
    pairs.forEach((p, i) => {
      start[2 * i] = n;
      start[2 * i + 1] = n += p.source.length;
      n += p.target.length;
    });
    start[2 * pairs.length] = n;
    const ids = new Int32Array(n);
    pairs.forEach((p, i) => {
      ids.set(p.source, start[2 * i]!);
      ids.set(p.target, start[2 * i + 1]!);
    });
    return new PairCorpus(ids, start);
  }

  get size(): number {
    return (this.start.length - 1) / 2;
  }

  source(i: number): Int32Array {
    return this.ids.subarray(this.start[2 * i]!, this.start[2 * i + 1]!);
  }

  target(i: number): Int32Array {
    return this.ids.subarray(this.start[2 * i + 1]!, this.start[2 * i + 2]!);
  }

  /** For length bucketing: sources first, then targets. */
  lengthKey(i: number): number {
    return (this.start[2 * i + 1]! - this.start[2 * i]!) * 1000 + (this.start[2 * i + 2]! - this.start[2 * i + 1]!);
  }
}

/** Encodes pairs; every side must have at least one token. Counts unknown tokens per side. */
export function encodePairs(pairs: readonly TextPair[], source: Vocabulary, target: Vocabulary, where = 'encodePairs'): { corpus: PairCorpus; unknown: { source: number; target: number } } {
  const unknown = { source: 0, target: 0 };
  const encoded = pairs.map((p, i) => {
    const s = source.encode(p.source), t = target.encode(p.target);
    if (s.ids.length === 0 || t.ids.length === 0) {
      throw new DataError(expected(`${where}: pair ${i + 1}`, 'a source and a target with at least one token each',
        `${quoted(p.source)} → ${quoted(p.target)}`));
    }
    unknown.source += s.unknown;
    unknown.target += t.unknown;
    return { source: s.ids, target: t.ids };
  });
  return { corpus: PairCorpus.from(encoded), unknown };
}

/** Pads pairs into one time-major batch: sources as they are, decoder inputs <s> y, outputs y </s>. */
export function makePairBatch(pairs: readonly EncodedPair[]): PairBatch {
  const B = pairs.length;
  if (B === 0) throw new DataError(expected('makePairBatch', 'at least one pair', 0));
  const S = Math.max(...pairs.map((p) => p.source.length));
  const T = 1 + Math.max(...pairs.map((p) => p.target.length));
  const source = new Int32Array(S * B);
  const sourceLengths = new Int32Array(B);
  const decoderInputs = new Int32Array(T * B).fill(EOS_ID);
  const decoderTargets = new Int32Array(T * B).fill(-100);
  let terms = 0;
  pairs.forEach((p, b) => {
    sourceLengths[b] = p.source.length;
    p.source.forEach((id, s) => (source[s * B + b] = id));
    decoderInputs[b] = BOS_ID;
    p.target.forEach((id, t) => {
      decoderInputs[(t + 1) * B + b] = id;
      decoderTargets[t * B + b] = id;
    });
    decoderTargets[p.target.length * B + b] = EOS_ID;
    terms += p.target.length + 1;
  });
  return { batch: B, source, sourceSteps: S, sourceLengths, decoderInputs, decoderTargets, targetSteps: T, terms };
}

export interface PairSamplerState {
  drawnFrom: number[] | null;
  epochs: number;
  taken: number;
}

/**
 * Endless shuffled batches, each of pairs of similar length (little padding):
 * every epoch the pairs are shuffled, cut into pools of 50 batches, each pool
 * sorted by length and cut into batches, and the batches shuffled.
 */
export class PairSampler {
  private queue: number[][] = [];
  epochs = 0;
  /** the generator's state when the current epoch's batches were drawn (null before the first), so a resumed run can draw them again */
  private drawnFrom: number[] | null = null;
  private drawn = 0;

  constructor(private readonly pairs: PairCorpus, private readonly batch: number, private readonly rng: Rng) {
    if (pairs.size === 0) throw new DataError(expected('PairSampler', 'at least one training pair', 0));
    if (!(Number.isInteger(batch) && batch >= 1)) {
      throw new ConfigError(expected('PairSampler', 'batch a positive integer', show(batch)));
    }
  }

  next(): PairBatch {
    if (this.queue.length === 0) this.refill();
    return makePairBatch(this.queue.pop()!.map((i) => ({ source: this.pairs.source(i), target: this.pairs.target(i) })));
  }

  /** The fraction of the current epoch already handed out, plus completed epochs. */
  get epoch(): number {
    return this.epochs - this.queue.length / this.perEpoch;
  }

  /** Where the sampler stands, compactly: the epoch's batches are drawn again from the generator state rather than stored. */
  getState(): PairSamplerState {
    return { drawnFrom: this.drawnFrom, epochs: this.epochs, taken: this.drawn - this.queue.length };
  }

  setState(s: PairSamplerState, where = 'PairSampler.setState'): void {
    if (s.drawnFrom === null) {
      if (s.epochs !== 0 || s.taken !== 0) throw new DataError(expected(where, 'no epochs or batches before the first draw', `${s.epochs} epochs, ${s.taken} batches`));
      return;
    }
    this.rng.setState(s.drawnFrom);
    this.epochs = s.epochs - 1;
    this.refill();
    if (!(Number.isSafeInteger(s.taken) && s.taken >= 0 && s.taken <= this.queue.length)) {
      throw new DataError(expected(where, `0 to ${this.queue.length} batches taken of the epoch`, show(s.taken),
        'the training data changed'));
    }
    this.queue.length -= s.taken;
  }

  private get perEpoch(): number {
    return Math.ceil(this.pairs.size / this.batch);
  }

  private refill(): void {
    this.drawnFrom = this.rng.getState();
    const order = this.rng.shuffle(Array.from({ length: this.pairs.size }, (_, i) => i));
    const pool = this.batch * 50;
    const batches: number[][] = [];
    for (let at = 0; at < order.length; at += pool) {
      const part = order.slice(at, at + pool).sort((a, b) => this.pairs.lengthKey(a) - this.pairs.lengthKey(b));
      for (let i = 0; i < part.length; i += this.batch) batches.push(part.slice(i, i + this.batch));
    }
    this.queue = this.rng.shuffle(batches);
    this.drawn = batches.length;
    this.epochs++;
  }
}
