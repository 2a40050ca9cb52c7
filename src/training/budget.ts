/**
 * A run's budget and its progress. Steps and epochs count directly; time is the
 * wall time of the whole run as its user sees it, start-up and the final
 * validation and save included, so progress in time counts training time only,
 * against the training time the budget leaves once validations and the end of
 * the run are paid for. The learning-rate schedule follows this progress,
 * never the time spent validating.
 */
import { ConfigError, expected, show } from '../tensor/index.js';

/** Whichever is reached first ends the run; at least one is set. `time` is in seconds. */
export interface Budget {
  steps?: number | null;
  epochs?: number | null;
  time?: number | null;
}

export function validateBudget(where: string, b: Budget): { steps: number | null; epochs: number | null;
  time: number | null; } {
  const steps = b.steps ?? null;
  const epochs = b.epochs ?? null;
  const time = b.time ?? null;
  if (steps === null && epochs === null && time === null) {
    throw new ConfigError(expected(where, 'a budget: steps, epochs or time', 'none'));
  }
  if (steps !== null && !(Number.isSafeInteger(steps) && steps >= 1)) {
    throw new ConfigError(expected(where, 'steps an integer >= 1', show(steps)));
  }
  if (epochs !== null && !(epochs > 0 && Number.isFinite(epochs))) {
    throw new ConfigError(expected(where, 'epochs > 0', show(epochs)));
  }
  if (time !== null && !(time > 0 && Number.isFinite(time))) {
    throw new ConfigError(expected(where, 'time > 0 (seconds)', show(time)));
  }
  return { steps, epochs, time };
}

/** The time side of a budget: what the rest of the run will cost besides training. */
export class TimeBudget {
  /** validation (and saving) time per millisecond of training between validations */
  private overhead = 0;
  /** what the final validation and save are expected to cost */
  private finalMs: number;
  private lastProgress = 0;

  /**
   * `deadline`: when the run must be over, on the clock `now`; `reserveMs`: kept
   * for the end of the run (summary, sample, exit) besides the final validation;
   * `afterwards`: work after the run (a test set scored), in validations' worth; `maxEndMs`: at most this is
   * kept for the final validation and that work together (the work is then cut short: see decodeUntil).
   */
  constructor(private readonly deadline: number, private readonly now: () => number,
    private readonly reserveMs: number, validationGuessMs = 0, private readonly afterwards = 0,
    private readonly maxEndMs = Infinity) {
    this.finalMs = validationGuessMs;
  }

  /** A validation (and what callbacks did with it) took `ms`, after `trainedMs` of training since the last. */
  validated(ms: number, trainedMs: number): void {
    this.finalMs = ms;
    this.overhead = trainedMs > 0 ? ms / trainedMs : this.overhead || Number.MIN_VALUE;
  }

  /** Until the first validation is measured: a guess of its cost (e.g. from the items it scores). */
  guessValidation(ms: number): void {
    if (this.overhead === 0 && Number.isFinite(ms)) this.finalMs = ms;
  }

  /**
   * Training time still to come: the time left, less the end, shared with the validations between. Each
   * validation is paid for by the training before it: `sinceMs` of training since the last one owes a share
   * of the next, so progress grows evenly through a validation rather than jumping at it.
   */
  remainingTrainMs(sinceMs = 0): number {
    const end = Math.max(this.finalMs, Math.min(this.finalMs * (1 + this.afterwards), this.maxEndMs));
    const left = this.deadline - this.now() - this.reserveMs - end;
    return Math.max(0, (left - this.overhead * sinceMs) / (1 + this.overhead));
  }

  /** The share of the training time spent, never going back. */
  progress(trainMs: number, sinceMs = 0): number {
    const rest = this.remainingTrainMs(sinceMs);
    const p = rest <= 0 ? 1 : trainMs / (trainMs + rest);
    this.lastProgress = Math.max(this.lastProgress, p);
    return this.lastProgress;
  }
}
