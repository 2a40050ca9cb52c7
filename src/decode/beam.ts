import { DataError, expected } from '../tensor/index.js';
import { argmax, checkKeys, checkOption, topKIndices } from './sampling.js';

/**
 * Any autoregressive model. States are never copied: children of one
 * hypothesis share the state `step` returned for it, so `step` must not mutate
 * states in place.
 */
export interface BeamModel<S> {
  /** For each hypothesis (its state and last token), log-probabilities over the vocabulary (length V each) and the state after consuming that token. Called with all live hypotheses at once (batched). */
  step(states: readonly S[], tokens: readonly number[]): { logProbs: ArrayLike<number>[]; states: S[] };
}

export interface BeamOptions {
  width: number;
  maxLength: number;
  /** a token that ends a hypothesis (kept as its last token); null or absent: fixed-length continuation */
  endToken?: number | null;
  /** GNMT length penalty alpha: score = logProb / ((5 + length) / 6)^alpha; 0 (default) ranks by raw logProb */
  lengthPenalty?: number;
}

export type GreedyOptions = Pick<BeamOptions, 'maxLength' | 'endToken'>;

/** `tokens` are the generated ones, without the initial token. */
export interface Hypothesis {
  tokens: number[];
  logProb: number;
  score: number;
  /** whether it ended with endToken */
  finished: boolean;
}

/** Generated tokens newest first; children share their parent's path, so extending one is O(1), not a copy. */
interface Path {
  token: number;
  prev: Path | null;
}

interface Live<S> {
  state: S;
  path: Path | null;
  length: number;
  logProb: number;
}

type Ranked = Omit<Live<unknown>, 'state'> & { score: number; finished: boolean };

/**
 * Beam search from one hypothesis: each step expands every live hypothesis by
 * its `width` best tokens and keeps the `width` best candidates by logProb;
 * those ending in endToken leave the beam. Returns up to `width` hypotheses,
 * finished or not, best score first. Equal logProbs keep the lower token id,
 * then the earlier hypothesis.
 */
export function beamSearch<S>(model: BeamModel<S>, initial: { state: S; token: number }, options: BeamOptions): Hypothesis[] {
  const { width, maxLength, endToken, lengthPenalty } = validateBeam('beamSearch', options, ['width', 'maxLength', 'endToken', 'lengthPenalty']);
  const ranked = (h: Omit<Live<unknown>, 'state'>, finished: boolean): Ranked => ({ ...h, score: h.logProb / ((5 + h.length) / 6) ** lengthPenalty, finished });
  let live: Live<S>[] = [{ state: initial.state, path: null, length: 0, logProb: 0 }];
  const finished: Ranked[] = [];

  for (let t = 0; t < maxLength && live.length > 0; t++) {
    const out = callStep('beamSearch', model, live.map((h) => h.state), live.map((h) => h.path?.token ?? initial.token));
    const next: Live<S>[] = [];
    for (const c of bestCandidates(live, out.logProbs, width)) {
      const h = { path: { token: c.token, prev: live[c.parent]!.path }, length: t + 1, logProb: c.logProb };
      if (c.token === endToken) finished.push(ranked(h, true));
      else next.push({ ...h, state: out.states[c.parent]! });
    }
    live = next;
    // With alpha 0 the score is the logProb, which only falls as tokens are added (log-probabilities are <= 0),
    // so live hypotheses below the width-th finished score can never enter the result. With alpha > 0 the
    // divisor grows with the length and can raise a (negative) score, so there is no such bound.
    const best = live[0];
    if (lengthPenalty === 0 && best && finished.length >= width && best.logProb < worstKept(finished, width)) break;
  }

  // Stable sort: equal scores stay in order of discovery, finished first.
  return [...finished, ...live.map((h) => ranked(h, false))]
    .sort((a, b) => descending(a.score, b.score))
    .slice(0, width)
    .map((h) => ({ tokens: unwind(h.path), logProb: h.logProb, score: h.score, finished: h.finished }));
}

/** Always the most probable next token: beamSearch with width 1, without the bookkeeping. */
export function greedyDecode<S>(model: BeamModel<S>, initial: { state: S; token: number }, options: GreedyOptions): Hypothesis {
  const { maxLength, endToken } = validateBeam('greedyDecode', options, ['maxLength', 'endToken']);
  let { state, token } = initial;
  const tokens: number[] = [];
  let logProb = 0;
  while (tokens.length < maxLength) {
    const out = callStep('greedyDecode', model, [state], [token]);
    const row = out.logProbs[0]!;
    token = argmax(row);
    logProb += row[token]!;
    state = out.states[0]!;
    tokens.push(token);
    if (token === endToken) return { tokens, logProb, score: logProb, finished: true };
  }
  return { tokens, logProb, score: logProb, finished: false };
}

function validateBeam(where: string, o: Partial<BeamOptions>, keys: readonly string[]): Required<BeamOptions> {
  checkKeys(where, o, keys);
  const positiveInt = (v: number) => Number.isInteger(v) && v >= 1;
  const endToken = o.endToken ?? null;
  return {
    width: keys.includes('width') ? checkOption(where, 'width', o.width, 'an integer >= 1', positiveInt) : 1,
    maxLength: checkOption(where, 'maxLength', o.maxLength, 'an integer >= 1', positiveInt),
    endToken: endToken === null ? null : checkOption(where, 'endToken', endToken, 'an integer >= 0 or null', (v) => Number.isInteger(v) && v >= 0),
    lengthPenalty: checkOption(where, 'lengthPenalty', o.lengthPenalty ?? 0, 'a finite number >= 0', (v) => Number.isFinite(v) && v >= 0),
  };
}

/** One batched model call, checked: a malformed answer would otherwise surface as NaN scores much later. */
function callStep<S>(where: string, model: BeamModel<S>, states: S[], tokens: number[]): { logProbs: ArrayLike<number>[]; states: S[] } {
  const out = model.step(states, tokens);
  const n = states.length;
  if (out?.logProbs?.length !== n || out.states?.length !== n) {
    throw new DataError(expected(`${where} step`, `${n} logProbs rows and ${n} states`, `${out?.logProbs?.length} and ${out?.states?.length}`));
  }
  const V = out.logProbs[0]!.length;
  if (V === 0 || out.logProbs.some((row) => row.length !== V)) {
    throw new DataError(expected(`${where} step`, 'logProbs rows of one length V >= 1', `lengths ${out.logProbs.map((r) => r.length).join(', ')}`));
  }
  return out;
}

/**
 * The best `width` one-token extensions. Only each hypothesis' own top `width`
 * tokens can be among them, so V is never fully sorted; topKIndices prefers
 * lower ids on ties, matching the final order here.
 */
function bestCandidates<S>(live: readonly Live<S>[], logProbs: readonly ArrayLike<number>[], width: number) {
  const candidates: { parent: number; token: number; logProb: number }[] = [];
  live.forEach((h, parent) => {
    const row = logProbs[parent]!;
    for (const token of topKIndices(row, width)) candidates.push({ parent, token, logProb: h.logProb + row[token]! });
  });
  candidates.sort((a, b) => descending(a.logProb, b.logProb) || a.token - b.token || a.parent - b.parent);
  return candidates.slice(0, width);
}

/** The width-th best finished score: what a live hypothesis must beat to enter the result. */
function worstKept(finished: readonly Ranked[], width: number): number {
  return finished
    .map((h) => h.score)
    .sort((a, b) => descending(a, b))[width - 1]!;
}

/** Comparator for descending order that treats equal infinities as equal (a - b would be NaN). */
function descending(a: number, b: number): number {
  return a < b ? 1 : a > b ? -1 : 0;
}

function unwind(path: Path | null): number[] {
  const tokens: number[] = [];
  for (let p = path; p; p = p.prev) tokens.push(p.token);
  return tokens.reverse();
}
