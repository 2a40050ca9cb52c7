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

/** A validation's cost per item against training's (a forward pass without the backward), before it is measured. */
const VALIDATION_COST = 0.5;

export interface TimeBudgetOptions {
  /** when the run must be over, on the clock `now` */
  deadline: number;
  now: () => number;
  /** kept for the end of the run (summary, sample, exit) besides the final validation */
  reserveMs: number;
  /** what a validation scores (tokens, windows): its cost is guessed from the training speed until measured */
  validationItems?: number;
  /** without validationItems: the guess of a validation's cost until one is measured */
  guessMs?: number;
  /** work after the run (a test set scored), in validations' worth */
  afterwards?: number;
  /** at most this is kept for the final validation and that work together (it is then cut short: decodeUntil) */
  maxEndMs?: number;
}

/** The time side of a budget: what the rest of the run will cost besides training. */
export class TimeBudget {
  /** validation (and saving) time per millisecond of training between validations */
  private overhead = 0;
  /** what the final validation and save are expected to cost */
  private finalMs: number;
  private lastProgress = 0;
  /** training since the last validation */
  private sinceMs = 0;
  private batches = 0;
  private msPerItem: number | null = null;

  constructor(private readonly o: TimeBudgetOptions) {
    this.finalMs = o.guessMs ?? 0;
  }

  /** When the run's work must be over: the deadline less what is kept for exiting. */
  get end(): number {
    return this.o.deadline - this.o.reserveMs;
  }

  /**
   * A batch trained in `ms` on `items`. Until a validation is measured, one is expected to cost half of
   * training on as many items at the recent speed (the first batches, slowed by compiling and starting
   * threads, are left out).
   */
  trained(ms: number, items: number): void {
    this.sinceMs += ms;
    const { validationItems } = this.o;
    if (!validationItems || this.overhead !== 0 || ++this.batches <= 2) return;
    const perItem = ms / items;
    this.msPerItem = this.msPerItem === null ? perItem : 0.9 * this.msPerItem + 0.1 * perItem;
    if (Number.isFinite(this.msPerItem)) this.finalMs = VALIDATION_COST * validationItems * this.msPerItem;
  }

  /** A validation (and what callbacks did with it) took `ms`. */
  validated(ms: number): void {
    this.finalMs = ms;
    this.overhead = this.sinceMs > 0 ? ms / this.sinceMs : this.overhead || Number.MIN_VALUE;
    this.sinceMs = 0;
  }

  /**
   * Training time still to come: the time left, less the end, shared with the validations between. Each
   * validation is paid for by the training before it: the training since the last one owes a share of the
   * next, so progress grows evenly through a validation rather than jumping at it.
   */
  remainingTrainMs(): number {
    const { afterwards = 0, maxEndMs = Infinity } = this.o;
    const end = Math.max(this.finalMs, Math.min(this.finalMs * (1 + afterwards), maxEndMs));
    const left = this.end - this.o.now() - end;
    return Math.max(0, (left - this.overhead * this.sinceMs) / (1 + this.overhead));
  }

  /** The share of the training time spent, never going back. */
  progress(trainMs: number): number {
    const rest = this.remainingTrainMs();
    const p = rest <= 0 ? 1 : trainMs / (trainMs + rest);
    this.lastProgress = Math.max(this.lastProgress, p);
    return this.lastProgress;
  }
}
