/**
 * Batched decoding for the encoder–decoder: greedy, and beam search over
 * fixed slots (sentence b's hypotheses are rows b·W … b·W + W − 1 of one
 * decoder batch, so every step is one call for all sentences and beams).
 */
import { constant, noGrad, type Variable } from '../../autograd/index.js';
import { kernels } from '../../kernels/index.js';
import { ConfigError, DataError, expected, rejectUnknownOptions, show } from '../../tensor/index.js';
import { BOS_ID, EOS_ID } from './data.js';
import type { DecoderState, Encoded, Seq2Seq } from './model.js';

export interface DecodeOptions {
  /** 1: greedy */
  beam?: number;
  /** most output tokens per sentence, </s> included (default 2 × the longest source + 10) */
  maxLength?: number;
  /** GNMT length penalty α: hypotheses rank by logProb / ((5 + length) / 6)^α; 0 ranks by logProb */
  lengthPenalty?: number;
}

export interface Translation {
  /** output ids without </s> */
  tokens: number[];
  logProb: number;
  score: number;
  /** whether the hypothesis ended with </s> (otherwise it hit maxLength) */
  finished: boolean;
  /** per output step (</s> included when finished), the attention over this sentence's source steps */
  attention: Float32Array[];
}

/** Translates source id sequences (each at least one id), in one batch. The model is put in evaluation mode. */
export function translateIds(model: Seq2Seq, sources: readonly Int32Array[], options: DecodeOptions = {}): Translation[] {
  const { beam, maxLength, lengthPenalty } = validate(sources, options);
  return beam === 1 ? greedyIds(model, sources, maxLength) : beamIds(model, sources, beam, maxLength, lengthPenalty);
}

/** Greedy decoding: the most likely token at every step. */
export function greedyIds(model: Seq2Seq, sources: readonly Int32Array[], maxLength: number): Translation[] {
  model.eval();
  return noGrad(() => greedy(model, sources, maxLength));
}

/** Beam search of width W (any W >= 1; translateIds uses greedyIds for 1, which gives the same result). */
export function beamIds(model: Seq2Seq, sources: readonly Int32Array[], width: number, maxLength: number, lengthPenalty = 0): Translation[] {
  model.eval();
  return noGrad(() => beamSearch(model, sources, width, maxLength, lengthPenalty));
}

function validate(sources: readonly Int32Array[], o: DecodeOptions): Required<DecodeOptions> {
  const where = 'translate';
  rejectUnknownOptions(where, o, ['beam', 'maxLength', 'lengthPenalty']);
  const i = sources.findIndex((s) => s.length === 0);
  if (i >= 0) throw new DataError(expected(where, 'source sequences of at least one token', `an empty one at position ${i}`));
  const beam = o.beam ?? 1;
  if (!(Number.isInteger(beam) && beam >= 1)) {
    throw new ConfigError(expected(where, 'beam an integer >= 1', show(beam)));
  }
  const longest = Math.max(0, ...sources.map((s) => s.length));
  const maxLength = o.maxLength ?? 2 * longest + 10;
  if (!(Number.isInteger(maxLength) && maxLength >= 1)) {
    throw new ConfigError(expected(where, 'maxLength an integer >= 1', show(maxLength)));
  }
  const lengthPenalty = o.lengthPenalty ?? 0;
  if (!(Number.isFinite(lengthPenalty) && lengthPenalty >= 0)) {
    throw new ConfigError(expected(where, 'lengthPenalty a finite number >= 0', show(lengthPenalty)));
  }
  return { beam, maxLength, lengthPenalty };
}

/** Encodes the sources with each row repeated `copies` times (row b·copies + k is sentence b). */
function encodeRepeated(model: Seq2Seq, sources: readonly Int32Array[], copies: number): { enc: Encoded; S: number } {
  const B = sources.length;
  const S = Math.max(...sources.map((s) => s.length));
  const ids = new Int32Array(S * B);
  sources.forEach((src, b) => src.forEach((id, s) => (ids[s * B + b] = id)));
  const enc = model.encode(ids, S, Int32Array.from(sources, (s) => s.length));
  if (copies === 1) return { enc, S };
  const index = Int32Array.from({ length: B * copies }, (_, r) => Math.floor(r / copies));
  const { keys, projectedKeys } = enc.memory;
  return {
    S,
    enc: {
      memory: { keys: gatherRows(keys, index, 1), projectedKeys: projectedKeys && gatherRows(projectedKeys, index, 1) },
      lengths: Int32Array.from(index, (b) => enc.lengths[b]!),
      initial: gatherState(enc.initial, index),
    },
  };
}

/** Rows `index` of v along axis 0 ([B, ...]) or 1 ([S, B, ...]), as a constant. */
function gatherRows(v: Variable, index: Int32Array, axis: 0 | 1): Variable {
  const outer = axis === 0 ? 1 : v.shape[0]!;
  const B = v.shape[axis]!;
  const inner = v.value.size / (outer * B);
  const N = index.length;
  const out = new Float32Array(outer * N * inner);
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < N; r++) out.set(v.data.subarray((o * B + index[r]!) * inner, (o * B + index[r]! + 1) * inner), (o * N + r) * inner);
  }
  const shape = [...v.shape];
  shape[axis] = N;
  return constant(out, shape, v);
}

function gatherState(s: DecoderState, index: Int32Array): DecoderState {
  return {
    layers: s.layers.map((l) => (l.c ? { h: gatherRows(l.h, index, 0), c: gatherRows(l.c, index, 0) } : { h: gatherRows(l.h, index, 0) })),
    feed: gatherRows(s.feed, index, 0),
  };
}

/** One decoder step for every row: log-probabilities [N·V], the next state and the attention [N·S]. */
function advance(model: Seq2Seq, tokens: Int32Array, state: DecoderState, enc: Encoded) {
  const r = model.step(tokens, state, enc);
  const logits = model.logits(r.state.feed);
  const V = logits.shape[1]!;
  const logProbs = new Float32Array(logits.value.size);
  kernels().logSoftmax(logits.data as Float32Array, logProbs, tokens.length, V);
  return { logProbs, V, state: r.state, attention: r.attention.data };
}

function greedy(model: Seq2Seq, sources: readonly Int32Array[], maxLength: number): Translation[] {
  const { enc } = encodeRepeated(model, sources, 1);
  const B = sources.length;
  const out: Translation[] = sources.map(() => ({ tokens: [], logProb: 0, score: 0, finished: false, attention: [] }));
  let tokens = new Int32Array(B).fill(BOS_ID);
  let state = enc.initial;
  for (let t = 0; t < maxLength && out.some((h) => !h.finished); t++) {
    const step = advance(model, tokens, state, enc);
    tokens = new Int32Array(B);
    out.forEach((h, b) => {
      const row = step.logProbs.subarray(b * step.V, (b + 1) * step.V);
      const best = argmax(row);
      tokens[b] = best;
      if (h.finished) return;
      h.logProb += row[best]!;
      h.attention.push(rowOf(step.attention, b, sources[b]!.length, enc.memory.keys.shape[0]!));
      if (best === EOS_ID) h.finished = true;
      else h.tokens.push(best);
    });
    state = step.state;
  }
  for (const h of out) h.score = h.logProb;
  return out;
}

/** What one step decided for each slot: which row it came from and the token it added. */
interface StepRecord {
  parent: Int32Array;
  token: Int32Array;
  attention: Float32Array | Float64Array;
}

interface Ended {
  /** the step and row that chose the last token (</s> when finished) */
  step: number;
  row: number;
  logProb: number;
  score: number;
  finished: boolean;
}

function beamSearch(model: Seq2Seq, sources: readonly Int32Array[], W: number, maxLength: number, alpha: number): Translation[] {
  const B = sources.length, N = B * W;
  const { enc, S } = encodeRepeated(model, sources, W);
  const penalty = (length: number) => ((5 + length) / 6) ** alpha;
  // Only slot 0 of each sentence is alive at first, so the first step does not pick one token W times.
  let scores = Float64Array.from({ length: N }, (_, r) => (r % W === 0 ? 0 : -Infinity));
  let tokens = new Int32Array(N).fill(BOS_ID);
  let state = enc.initial;
  const history: StepRecord[] = [];
  const ended: Ended[][] = sources.map(() => []);
  const done = new Uint8Array(B);

  for (let t = 0; t < maxLength && done.some((d) => !d); t++) {
    const step = advance(model, tokens, state, enc);
    const parent = Int32Array.from({ length: N }, (_, r) => r);
    const next = new Int32Array(N).fill(EOS_ID);
    const nextScores = new Float64Array(N).fill(-Infinity);
    for (let b = 0; b < B; b++) {
      if (done[b]) continue;
      let slot = 0;
      for (const c of candidates(step.logProbs, step.V, scores, b, W)) {
        if (c.token === EOS_ID) {
          ended[b]!.push({ step: t, row: c.row, logProb: c.logProb, score: c.logProb / penalty(t + 1), finished: true });
        } else if (slot < W) {
          parent[b * W + slot] = c.row;
          next[b * W + slot] = c.token;
          nextScores[b * W + slot] = c.logProb;
          slot++;
        }
        if (slot === W) break;
      }
      if (ended[b]!.length >= W) done[b] = 1;
    }
    history.push({ parent, token: next, attention: step.attention });
    scores = nextScores;
    tokens = next;
    state = gatherState(step.state, parent);
  }
  // Sentences still open at maxLength keep their live hypotheses, unfinished.
  const last = history.length - 1;
  for (let b = 0; b < B; b++) {
    if (done[b]) continue;
    for (let k = 0; k < W; k++) {
      const r = b * W + k;
      if (scores[r]! > -Infinity) ended[b]!.push({ step: last, row: r, logProb: scores[r]!, score: scores[r]! / penalty(last + 1), finished: false });
    }
  }
  return ended.map((list, b) => {
    const best = list.reduce((x, y) => (y.score > x.score ? y : x));
    return backtrack(best, history, b, W, sources[b]!.length, S);
  });
}

/** Sentence b's best 2W one-token extensions, best first (ties: lower token, then lower row). */
function candidates(logProbs: Float32Array, V: number, scores: Float64Array, b: number, W: number) {
  const out: { row: number; token: number; logProb: number }[] = [];
  for (let k = 0; k < W; k++) {
    const r = b * W + k;
    if (scores[r] === -Infinity) continue;
    const row = logProbs.subarray(r * V, (r + 1) * V);
    for (const token of topK(row, 2 * W)) out.push({ row: r, token, logProb: scores[r]! + row[token]! });
  }
  out.sort((x, y) => y.logProb - x.logProb || x.token - y.token || x.row - y.row);
  return out.slice(0, 2 * W);
}

/** Follows parents back from where a hypothesis ended, collecting its tokens and attention rows. */
function backtrack(e: Ended, history: readonly StepRecord[], b: number, W: number, length: number, S: number): Translation {
  const tokens: number[] = [];
  const attention: Float32Array[] = [];
  let row = e.row;
  let s = e.step;
  if (e.finished) {
    attention.push(rowOf(history[s]!.attention, row, length, S)); // the step that chose </s> ran on `row`
    s--;
  }
  for (; s >= 0; s--) {
    const h = history[s]!;
    tokens.push(h.token[row]!);
    row = h.parent[row]!;
    attention.push(rowOf(h.attention, row, length, S));
  }
  if (Math.floor(row / W) !== b) throw new DataError(expected('beamSearch', `a path inside sentence ${b}'s slots`, `row ${row}`));
  return { tokens: tokens.reverse(), logProb: e.logProb, score: e.score, finished: e.finished, attention: attention.reverse() };
}

function rowOf(attention: ArrayLike<number>, row: number, length: number, S: number): Float32Array {
  return Float32Array.from({ length }, (_, s) => attention[row * S + s]!);
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let v = 1; v < row.length; v++) if (row[v]! > row[best]!) best = v;
  return best;
}

/** Indices of the k largest values, largest first, lower index on ties. */
function topK(row: Float32Array, k: number): number[] {
  const picked: number[] = [];
  for (let v = 0; v < row.length; v++) {
    if (picked.length === k && !(row[v]! > row[picked[k - 1]!]!)) continue;
    let at = picked.length === k ? k - 1 : picked.length;
    while (at > 0 && row[v]! > row[picked[at - 1]!]!) at--;
    picked.splice(at, 0, v);
    if (picked.length > k) picked.pop();
  }
  return picked;
}
