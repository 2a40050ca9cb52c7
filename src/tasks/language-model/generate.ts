import { Variable, noGrad } from '../../autograd/index.js';
import { WordJoiner, type Vocabulary } from '../../data/index.js';
import {
  beamSearch, logSoftmax, sampleFromLogits, validateSampling, type BeamModel, type SamplingOptions,
} from '../../decode/index.js';
import type { HiddenState } from '../../nn/index.js';
import { ConfigError, Rng, Tensor, expected, show } from '../../tensor/index.js';
import type { LanguageModel } from './model.js';

export interface GenerateOptions extends SamplingOptions {
  /** text the model reads first; its continuation is generated ('' = a blank line) */
  prime?: string;
  /** tokens to generate */
  length: number;
  seed?: number;
}

/** One hypothesis' recurrent state: each state tensor's [layers, 1, H] values. */
type RowState = Record<string, Float32Array | Float64Array>;

/** Reads `ids` (one sequence) and returns the state after them and the logits of the next token. */
function readPrime(model: LanguageModel, ids: Int32Array): { state: HiddenState; logits: Float32Array | Float64Array } {
  const x = model.embedding.forward(ids, [ids.length, 1]);
  const { output, state } = model.rnn.forward(x);
  const last = model.head.forward(output).value;
  const V = model.config.vocab;
  return { state, logits: last.data.subarray(last.size - V) };
}

/** The prime's token ids: an empty prime reads a blank line (or, without one, the most frequent token). */
export function primeIds(vocab: Vocabulary, prime: string): { ids: Int32Array; unknown: number } {
  const text = prime === '' ? '\n\n' : prime;
  const r = vocab.encode(text);
  return r.ids.length ? r : { ids: Int32Array.of(1), unknown: 0 };
}

/**
 * Samples a continuation token by token, yielding each token's text as soon
 * as it is drawn (for streaming output). Temperature, top-k and top-p as in
 * `sampleFromLogits`; the same seed gives the same text.
 */
export function* sampleText(model: LanguageModel, vocab: Vocabulary, options: GenerateOptions): Generator<string> {
  const sampling = validateSampling({ temperature: options.temperature, topK: options.topK, topP: options.topP }, 'sample');
  checkLength(options.length);
  const rng = new Rng(options.seed ?? 1);
  const wasTraining = model.training;
  model.eval();
  try {
    let { state, logits } = noGrad(() => readPrime(model, primeIds(vocab, options.prime ?? '').ids));
    const joiner = vocab.level === 'word' ? new WordJoiner(primeTokens(vocab, options.prime ?? '')) : null;
    for (let i = 0; i < options.length; i++) {
      const id = sampleFromLogits(maskUnknown(vocab, logits), sampling, rng);
      const token = vocab.tokens[id]!;
      yield joiner ? joiner.push(token) : token;
      ({ state, logits } = noGrad(() => {
        const { output, state: next } = model.rnn.forward(model.embedding.forward([id], [1, 1]), state);
        return { state: next, logits: model.head.forward(output).value.data };
      }));
    }
  } finally {
    model.train(wasTraining);
  }
}

/** The prime as the model reads it, in tokens (for joining words after it). */
function primeTokens(vocab: Vocabulary, prime: string): string[] {
  return Array.from(primeIds(vocab, prime).ids, (i) => vocab.tokens[i]!);
}

/** The most likely continuation of `length` tokens found by a beam of `width` (no streaming: known only at the end). */
export function beamText(model: LanguageModel, vocab: Vocabulary, options: { prime?: string; length: number; width: number }): { text: string; logProb: number } {
  checkLength(options.length);
  const wasTraining = model.training;
  model.eval();
  try {
    return noGrad(() => {
      // The beam starts from the prime's last token, with the state after the tokens before it.
      const ids = primeIds(vocab, options.prime ?? '').ids;
      const context = ids.subarray(0, ids.length - 1);
      const state = context.length ? unstack(readPrime(model, context).state, 1)[0]! : zeroRow(model);
      const best = beamSearch(beamModel(model, vocab), { state, token: ids[ids.length - 1]! }, { width: options.width, maxLength: options.length })[0]!;
      const joiner = vocab.level === 'word' ? new WordJoiner(primeTokens(vocab, options.prime ?? '')) : null;
      const tokens = best.tokens.map((i) => vocab.tokens[i]!);
      return { text: joiner ? tokens.map((t) => joiner.push(t)).join('') : tokens.join(''), logProb: best.logProb };
    });
  } finally {
    model.train(wasTraining);
  }
}

/** A character model never saw <unk> in training: it is never drawn. (Words keep it: it stands for real rare words.) */
function maskUnknown(vocab: Vocabulary, logits: Float32Array | Float64Array): Float32Array | Float64Array {
  if (vocab.level !== 'char') return logits;
  const out = logits.slice();
  out[0] = -Infinity;
  return out;
}

function checkLength(n: number): void {
  if (!(Number.isInteger(n) && n >= 1)) throw new ConfigError(expected('sample', 'length an integer >= 1', show(n)));
}

/** The language model stepping several hypotheses at once, each with its own state. */
function beamModel(model: LanguageModel, vocab: Vocabulary): BeamModel<RowState> {
  return {
    step(states, tokens) {
      const n = tokens.length;
      const state = stack(states, model);
      const { output, state: next } = model.rnn.forward(model.embedding.forward(tokens, [1, n]), state);
      const logits = model.head.forward(output).value.data;
      const V = model.config.vocab;
      const logProbs = Array.from({ length: n }, (_, i) => logSoftmax(maskUnknown(vocab, logits.subarray(i * V, (i + 1) * V))));
      return { logProbs, states: unstack(next, n) };
    },
  };
}

function zeroRow(model: LanguageModel): RowState {
  const size = model.config.layers * model.config.hidden;
  const zero = (): Float32Array => new Float32Array(size);
  return model.config.cell === 'lstm' ? { h: zero(), c: zero() } : { h: zero() };
}

/** Rows of [layers, n, H] state tensors → one RowState per row. */
function unstack(state: HiddenState, n: number): RowState[] {
  return Array.from({ length: n }, (_, i) => {
    const row: RowState = {};
    for (const [k, v] of Object.entries(state) as Array<[string, Variable]>) {
      const [L, , H] = v.shape as [number, number, number];
      const out = new Float32Array(L * H);
      for (let l = 0; l < L; l++) out.set(v.value.data.subarray((l * n + i) * H, (l * n + i + 1) * H), l * H);
      row[k] = out;
    }
    return row;
  });
}

function stack(rows: readonly RowState[], model: LanguageModel): HiddenState {
  const n = rows.length;
  const L = model.config.layers;
  const H = model.config.hidden;
  const out: Record<string, Variable> = {};
  for (const k of Object.keys(rows[0]!)) {
    const data = new Float32Array(L * n * H);
    rows.forEach((r, i) => {
      for (let l = 0; l < L; l++) data.set(r[k]!.subarray(l * H, (l + 1) * H), (l * n + i) * H);
    });
    out[k] = new Variable(new Tensor([L, n, H], data), false);
  }
  return out as unknown as HiddenState;
}
