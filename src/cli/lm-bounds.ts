/**
 * The window of `bptt train lm`, bounded by the data and by memory before
 * anything is allocated: a batch × seq-len from the command line, or from a
 * manifest (where a hand edit could ask for gigabytes).
 */
import { totalmem } from 'node:os';
import { segmentLength, type Strategy } from '../bptt/index.js';
import type { LanguageModelConfig } from '../tasks/language-model/model.js';

export interface LmWindow {
  batch: number;
  seqLen: number;
  strategy: Strategy;
}

/** What is wrong with a window, naming the field (batch or seqLen), or null. */
export interface WindowProblem {
  field: 'batch' | 'seqLen';
  want: string;
  got: number;
}

/**
 * A rough count of the bytes an update keeps for its backward pass: per kept
 * step and stream, the embedding, each layer's gates, states and their
 * gradients, and the logits with their softmax and gradient, in float32
 * (measured: Moby Dick, LSTM 2×256, 47 KB per step and stream; this gives 46).
 */
export function activationBytes(model: LanguageModelConfig, w: LmWindow, streamLength: number): number {
  const T = Math.min(w.seqLen, streamLength);
  const s = w.strategy;
  const S = segmentLength(T, s);
  const kept = s.kind === 'truncated' ? Math.min(T, s.k2 ?? s.k1) : s.kind === 'checkpointed' ? Math.min(T, S + Math.ceil(T / S)) : T;
  const gates = model.cell === 'lstm' ? 4 : model.cell === 'gru' ? 3 : 1;
  const perStep = 2 * model.embed + model.layers * model.hidden * (3 * gates + 10) + 4 * model.vocab;
  return 4 * w.batch * kept * perStep;
}

/**
 * The batch within the training tokens (one stream per batch row, each at least
 * one step), the window within a stream, and the activations within `cap` bytes
 * (the machine's memory).
 */
export function windowProblem(model: LanguageModelConfig, w: LmWindow, tokens: number, cap = totalmem()): WindowProblem | null {
  if (w.batch + 1 > tokens) return { field: 'batch', want: `at most ${tokens - 1} (a stream needs 2 of the ${tokens} training tokens)`, got: w.batch };
  const length = Math.floor((tokens - 1) / w.batch);
  if (w.seqLen > length) return { field: 'seqLen', want: `at most ${length}, the steps in each of ${w.batch} streams of the ${tokens} training tokens`, got: w.seqLen };
  if (activationBytes(model, w, length) <= cap) return null;
  const memory = `the machine's ${gigabytes(cap)} of memory`;
  const seqLen = largest(w.seqLen, (n) => activationBytes(model, { ...w, seqLen: n }, length) <= cap);
  if (seqLen > 0) return { field: 'seqLen', want: `at most ${seqLen}: the activations of longer windows would take more than ${memory}`, got: w.seqLen };
  const batch = largest(w.batch, (n) => activationBytes(model, { ...w, batch: n, seqLen: 1 }, length) <= cap);
  return { field: 'batch', want: `at most ${batch}: the activations of larger batches would take more than ${memory}`, got: w.batch };
}

/** The largest n in [0, max] with fits(n) (fits is monotone; fits(0) holds). */
function largest(max: number, fits: (n: number) => boolean): number {
  let lo = 0, hi = max;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function gigabytes(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}
