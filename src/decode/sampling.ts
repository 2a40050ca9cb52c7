import { ConfigError, DataError, expected, rejectUnknownOptions, type Rng } from '../tensor/index.js';

/**
 * How the next token is drawn, as in Hugging Face `generate(do_sample=True)`:
 * logits are divided by `temperature` (0 = greedy argmax), cut to the `topK`
 * largest (0 = off), then to the nucleus of probability `topP` (1 = off).
 */
export interface SamplingOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
}

const KEYS = ['temperature', 'topK', 'topP'] as const;

/** The options with their defaults filled in; a ConfigError names the first bad one. */
export function validateSampling(o: SamplingOptions = {}, where = 'sampling'): Required<SamplingOptions> {
  checkKeys(where, o, KEYS);
  return {
    temperature: checkOption(where, 'temperature', o.temperature ?? 1, 'a finite number >= 0', (v) => Number.isFinite(v) && v >= 0),
    topK: checkOption(where, 'topK', o.topK ?? 0, 'an integer >= 0', (v) => Number.isInteger(v) && v >= 0),
    topP: checkOption(where, 'topP', o.topP ?? 1, 'a number in (0, 1]', (v) => v > 0 && v <= 1),
  };
}

/**
 * Draws a token id from `logits` (one row, length V). Uses exactly one
 * `rng.uniform()` per call unless temperature is 0, whatever the logits, so a
 * seed fixes the whole generated sequence. Top-k keeps exactly k tokens: among
 * equal logits at the k-th place the lower ids win. Cost: O(V) without
 * truncation, O(V log k) with top-k, and with top-p alone a native sort of the
 * weights that can be in the nucleus (all V at worst). The draw walks the kept
 * tokens best first with top-k, in id order otherwise.
 */
export function sampleFromLogits(logits: ArrayLike<number>, options: Required<SamplingOptions>, rng: Rng): number {
  const { temperature: t, topK, topP } = options;
  if (logits.length === 0) throw new DataError(expected('sampleFromLogits', 'at least one logit', 'none'));
  if (t === 0) return argmax(logits);
  if (topK > 0 && topK < logits.length) {
    const ids = topKIndices(logits, topK);
    const w = weights(logits, t, ids);
    // As in HF, top-p sees the probabilities renormalised over the top k.
    return ids[draw(w, topP === 1 ? topK : nucleusSize(w, topP * sum(w, topK)), rng.uniform())]!;
  }
  const w = weights(logits, t);
  if (topP === 1) return draw(w, w.length, rng.uniform());
  const ids = nucleus(w, topP);
  return ids[draw(Float64Array.from(ids, (i) => w[i]!), ids.length, rng.uniform())]!;
}

/** Index of the largest value; the first one on ties. */
export function argmax(values: ArrayLike<number>): number {
  if (values.length === 0) throw new DataError(expected('argmax', 'at least one value', 'none'));
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** log(softmax(logits)), shifted by the maximum so large logits do not overflow. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  const max = finiteMax('logSoftmax', logits);
  let total = 0;
  for (let i = 0; i < logits.length; i++) total += Math.exp(logits[i]! - max);
  const shift = max + Math.log(total);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - shift;
  return out;
}

/**
 * Indices of the k largest values, largest first; equal values in index order,
 * so exactly min(k, V) are returned. A size-k heap whose root is the worst kept
 * index: O(V log k) instead of sorting all V.
 */
export function topKIndices(values: ArrayLike<number>, k: number): number[] {
  const worse = (a: number, b: number) => values[a]! < values[b]! || (values[a] === values[b] && a > b);
  const n = Math.min(k, values.length);
  const heap: number[] = [];
  for (let i = 0; i < values.length; i++) {
    if (heap.length < n) siftUp(heap, heap.push(i) - 1, worse);
    // A later index never displaces an equal value: it is the worse of the two.
    else if (n > 0 && values[i]! > values[heap[0]!]!) {
      heap[0] = i;
      siftDown(heap, 0, worse);
    }
  }
  return heap.sort((a, b) => (worse(a, b) ? 1 : -1));
}

/** @internal Throws a ConfigError unless `o` is an object whose keys are all in `keys`. */
export function checkKeys(where: string, o: unknown, keys: readonly string[]): void {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new ConfigError(expected(where, 'an options object', show(o)));
  rejectUnknownOptions(where, o, keys);
}

/** @internal Returns `v` if it is a number passing `ok`, else throws a ConfigError saying `what` it should be. */
export function checkOption(where: string, name: string, v: unknown, what: string, ok: (v: number) => boolean): number {
  if (typeof v !== 'number' || !ok(v)) throw new ConfigError(expected(where, `${name} ${what}`, show(v)));
  return v;
}

const show = (v: unknown): unknown => (typeof v === 'string' ? `'${v}'` : v);

function finiteMax(where: string, values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  return checkMax(where, max);
}

/** All -Infinity (everything masked) or a +Infinity leaves no distribution to draw from. */
function checkMax(where: string, max: number): number {
  if (!Number.isFinite(max)) throw new DataError(expected(where, 'logits with a finite maximum', max));
  return max;
}

/** exp((logit - max) / t) for `ids` (best first, so ids[0] is the max) or for every token. */
function weights(logits: ArrayLike<number>, t: number, ids?: readonly number[]): Float64Array {
  const max = ids ? checkMax('sampleFromLogits', logits[ids[0]!]!) : finiteMax('sampleFromLogits', logits);
  if (ids) return Float64Array.from(ids, (i) => Math.exp((logits[i]! - max) / t));
  const w = new Float64Array(logits.length);
  for (let i = 0; i < w.length; i++) w[i] = Math.exp((logits[i]! - max) / t);
  return w;
}

/**
 * The nucleus of all tokens, in id order. Its edge (smallest kept weight) comes
 * from the weights sorted descending; a comparator sort of V ids would be ~10x
 * slower. Weights above a cutoff are a best-first prefix, so once they hold
 * enough mass the nucleus is among them and only they are sorted (usually few).
 * Ties at the edge keep the lower ids. Plain loops: typed-array filter and
 * findIndex with callbacks cost more than the sort here.
 */
function nucleus(w: Float64Array, topP: number): number[] {
  const need = topP * sum(w, w.length);
  const cut = [1e-2, 1e-4, 1e-6, 1e-9].find((c) => massAbove(w, c) >= need) ?? -1;
  const sorted = above(w, cut).sort().reverse();
  const m = nucleusSize(sorted, need);
  const edge = sorted[m - 1]!;
  let ties = 0;
  for (let j = 0; j < m; j++) if (sorted[j] === edge) ties++;
  const ids: number[] = [];
  for (let i = 0; i < w.length; i++) if (w[i]! > edge || (w[i] === edge && ties-- > 0)) ids.push(i);
  return ids;
}

function massAbove(w: Float64Array, cut: number): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) if (w[i]! > cut) s += w[i]!;
  return s;
}

/** The weights above `cut`, in a new array. */
function above(w: Float64Array, cut: number): Float64Array {
  let n = 0;
  for (let i = 0; i < w.length; i++) if (w[i]! > cut) n++;
  const out = new Float64Array(n);
  for (let i = 0, j = 0; i < w.length; i++) if (w[i]! > cut) out[j++] = w[i]!;
  return out;
}

/** Length of the shortest best-first prefix of `w` whose mass reaches `need` (at least 1). */
function nucleusSize(w: Float64Array, need: number): number {
  let acc = 0;
  for (let m = 0; m < w.length; m++) {
    acc += w[m]!;
    if (acc >= need) return m + 1;
  }
  return w.length; // rounding left the total just short of `need`
}

/** Inverse-CDF draw over w[0..m) with one uniform `u`. */
function draw(w: Float64Array, m: number, u: number): number {
  const r = u * sum(w, m);
  let acc = 0;
  let last = 0;
  for (let i = 0; i < m; i++) {
    acc += w[i]!;
    if (r < acc) return i;
    if (w[i]! > 0) last = i;
  }
  return last; // u * total rounded up to the total
}

function sum(w: Float64Array, m: number): number {
  let s = 0;
  for (let i = 0; i < m; i++) s += w[i]!;
  return s;
}

function siftUp(h: number[], i: number, worse: (a: number, b: number) => boolean): void {
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (!worse(h[i]!, h[p]!)) return;
    [h[i], h[p]] = [h[p]!, h[i]!];
    i = p;
  }
}

function siftDown(h: number[], i: number, worse: (a: number, b: number) => boolean): void {
  for (;;) {
    const l = 2 * i + 1;
    let m = i;
    if (l < h.length && worse(h[l]!, h[m]!)) m = l;
    if (l + 1 < h.length && worse(h[l + 1]!, h[m]!)) m = l + 1;
    if (m === i) return;
    [h[i], h[m]] = [h[m]!, h[i]!];
    i = m;
  }
}
