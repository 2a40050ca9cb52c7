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
  let kept = T; // full BPTT keeps every step; truncated the last k2, checkpointed a segment and the states between
  if (s.kind === 'truncated') kept = Math.min(T, s.k2 ?? s.k1);
  if (s.kind === 'checkpointed') kept = Math.min(T, S + Math.ceil(T / S));
  const gates = model.cell === 'lstm' ? 4 : model.cell === 'gru' ? 3 : 1;
  const perStep = 2 * model.embed + model.layers * model.hidden * (3 * gates + 10) + 4 * model.vocab;
  return 4 * w.batch * kept * perStep;
}

/**
 * The batch within the training tokens (one stream per batch row, each at least
 * one step), the window within a stream, and the activations within `cap` bytes
 * (the machine's memory).
 */
export function windowProblem(
  model: LanguageModelConfig, w: LmWindow, tokens: number, cap = totalmem(),
): WindowProblem | null {
  const { batch, seqLen } = w;
  const tooMany = (want: string): WindowProblem => ({ field: 'batch', want, got: batch });
  const tooLong = (want: string): WindowProblem => ({ field: 'seqLen', want, got: seqLen });
  if (batch + 1 > tokens) return tooMany(`at most ${tokens - 1} (a stream needs 2 of the ${tokens} training tokens)`);
  const length = Math.floor((tokens - 1) / batch);
  const streams = `${batch} streams of the ${tokens} training tokens`;
  if (seqLen > length) return tooLong(`at most ${length}, the steps in each of ${streams}`);
  const bytes = (b: number, t: number): number => activationBytes(model, { ...w, batch: b, seqLen: t }, length);
  if (bytes(batch, seqLen) <= cap) return null;
  const more = `would take more than the machine's ${gigabytes(cap)} of memory`;
  const longest = largest(seqLen, (t) => bytes(batch, t) <= cap);
  if (longest > 0) return tooLong(`at most ${longest}: the activations of longer windows ${more}`);
  return tooMany(`at most ${largest(batch, (b) => bytes(b, 1) <= cap)}: the activations of larger batches ${more}`);
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
