/** What a runner tells its callbacks, and what they may do about it. */
import type { Tensor } from '../tensor/index.js';

export interface UpdateEvent {
  update: number;
  epoch: number;
  /** the batch's mean loss per target (NaN when the NaN guard skipped every update of it) */
  loss: number;
  gradNorm: number;
  clipped: boolean;
  /** why the NaN guard skipped an update of this batch, or null */
  skipped: string | null;
  lr: number;
  /** the share of the budget spent, in [0, 1]: what the schedule follows */
  progress: number;
  /** items (tokens, windows, utterances) trained on so far, over all sessions */
  items: number;
  /** training time so far (validations and saves excluded), over all sessions */
  trainMs: number;
  /** wall time of the run so far, over all sessions */
  elapsedMs: number;
  /** an estimate of the wall time the run still takes */
  etaSeconds: number;
}

export interface Validation {
  /** what is tracked: lower is better */
  score: number;
  /** other figures to log and show */
  metrics?: Record<string, number>;
}

export interface ValidationEvent extends Required<Validation> {
  update: number;
  epoch: number;
  /** better than every earlier score by more than minDelta (the best weights are these) */
  best: boolean;
  /** validations in a row without such an improvement */
  sinceBest: number;
  /** the validation at the end of the run */
  final: boolean;
}

/** How a run ended: its budget, early stopping, or stop() (e.g. a signal). */
export type StoppedBy = 'budget' | 'patience' | 'stopped';

export interface FitResult {
  updates: number;
  epoch: number;
  stoppedBy: StoppedBy;
  /** why stop() was called */
  reason: string | null;
  best: ValidationEvent | null;
  last: ValidationEvent | null;
  trainMs: number;
  elapsedMs: number;
  items: number;
}

/**
 * Hooks into a run, called in the order given. Async hooks are awaited; their
 * time counts as validation time (never as training), so the schedule is not
 * moved by a slow save.
 */
export interface Callback<T = unknown> {
  onStart?(trainer: T): void | Promise<void>;
  onUpdate?(event: UpdateEvent, trainer: T): void;
  onValidation?(event: ValidationEvent, trainer: T): void | Promise<void>;
  /** the run was stopped before its budget ran out (stop(), a signal): e.g. save for --resume */
  onInterrupt?(reason: string, trainer: T): void | Promise<void>;
  onEnd?(result: FitResult, trainer: T): void | Promise<void>;
}

/** The best weights so far and the validation that chose them. */
export interface BestValidated {
  event: ValidationEvent;
  weights: Map<string, Tensor>;
}
