import { noGrad, type Variable } from '../autograd/index.js';
import { ConfigError, DataError, expected, show, type Arr } from '../tensor/index.js';
import type { Unrollable, Unrolled } from './unrolled.js';
import { stateVariables } from './state.js';
import type { Window } from './strategy.js';

/** Where the first non-finite value was found, or null when everything is finite. */
export function firstNonFinite(loss: number, parameters: readonly Variable[]): string | null {
  if (!Number.isFinite(loss)) return `loss is ${loss}`;
  for (const p of parameters) {
    const g = p.grad?.data;
    const i = g ? nonFiniteAt(g) : -1;
    if (i >= 0) return `gradient of ${p.name || 'a parameter'} is ${g![i]} at index ${i}`;
  }
  return null;
}

/**
 * After an optimizer step: a weight it made non-finite (e.g. from a corrupt
 * optimizer state) cannot be undone, and every later update would be skipped,
 * so it ends training at once, before anything saves such weights.
 */
export function checkWeightsFinite(update: number, parameters: readonly Variable[]): void {
  for (const p of parameters) {
    const i = nonFiniteAt(p.value.data);
    if (i >= 0) {
      const [where, want] = [`Bptt.trainBatch: update ${update}`, 'finite weights after the optimizer step'];
      const got = `${p.value.data[i]} in ${p.name || 'a parameter'} at index ${i}`;
      throw new DataError(expected(where, want, got, 'a corrupt optimizer state, or a learning rate far too large'));
    }
  }
}

/** The index of the first value that is NaN or infinite, or -1. */
function nonFiniteAt(a: Arr): number {
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i]!)) return i;
  return -1;
}

/** How many updates in a row the NaN guard may skip before training stops (the engine's default). */
const DEFAULT_MAX_CONSECUTIVE_SKIPS = 10;

/**
 * Counts the NaN guard's skips in a row. A skipped update leaves the weights as
 * they were, so when the next batches are non-finite too the run has diverged
 * and would skip every update to the end: at `limit` skips in a row it stops
 * with a DataError naming the first of them (null: never).
 */
export class SkipStreak {
  private count = 0;
  private first: { update: number; reason: string } | null = null;
  readonly limit: number | null;

  constructor(limit: unknown = DEFAULT_MAX_CONSECUTIVE_SKIPS) {
    if (limit !== null && !(Number.isSafeInteger(limit) && (limit as number) >= 1)) {
      throw new ConfigError(expected('Bptt', 'maxConsecutiveSkips an integer >= 1, or null', show(limit)));
    }
    this.limit = limit as number | null;
  }

  /** Update `update` was skipped because of `reason`. */
  skipped(update: number, reason: string): void {
    this.first ??= { update, reason };
    if (++this.count < (this.limit ?? Infinity)) return;
    const { update: from, reason: why } = this.first;
    const got = `${this.count}, updates ${from} to ${update}; the first, update ${from}: ${why}`;
    const hint = 'training diverged: lower the learning rate, clip the gradients or check the data';
    const want = `fewer than ${this.limit} consecutive updates skipped by the NaN guard`;
    throw new DataError(expected('Bptt.trainBatch', want, got, hint));
  }

  /** An update changed the weights: the streak is over. */
  applied(): void {
    this.count = 0;
    this.first = null;
  }
}

/**
 * Runs the window forward again one step at a time (only after the guard fired,
 * so it costs nothing otherwise) and names the first step whose state or loss
 * is not finite; if the forward pass is clean, the backward pass overflowed.
 */
export function locateFirstBadStep<B, S>(model: Unrollable<B, S>, batch: B, w: Window, s0: S | null): string {
  let state = s0;
  for (let t = w.start; t < w.end; t++) {
    let r: Unrolled<S>;
    try {
      r = noGrad(() => model.unroll(batch, t, t + 1, state, t >= w.lossFrom));
    } catch (e) {
      // A model that unrolls whole batches only (CTC over utterances) refuses; the guard must still skip, not crash.
      if (e instanceof ConfigError) return 'the model does not unroll step by step: the first bad step is unknown';
      throw e;
    }
    if (r.loss && !Number.isFinite(r.loss.item())) return `first non-finite loss at time step ${t}`;
    const bad = stateVariables(r.state).find((v) => v.data.some((x) => !Number.isFinite(x)));
    if (bad) return `first non-finite state at time step ${t}`;
    state = r.state;
  }
  return `the forward pass over steps ${w.start}..${w.end - 1} is finite: the gradients overflowed in the backward pass`;
}
