/**
 * Where a run stands, besides the weights: what a checkpoint keeps so that a
 * resumed run continues exactly (the optimiser's moments, the data position,
 * the states carried between batches, the counts the budget and early
 * stopping go by).
 */
import type { OptimizerStateDict } from '../optim/index.js';
import { DataError, expected, show } from '../tensor/index.js';
import type { ValidationEvent } from './events.js';

export interface RunProgress {
  updates: number;
  /** batches trained on (an update per batch, or several under truncated BPTT) */
  batches: number;
  items: number;
  trainMs: number;
  elapsedMs: number;
  validations: number;
  /** the update of the last validation, or null */
  validatedAt: number | null;
  sinceBest: number;
  best: ValidationEvent | null;
  last: ValidationEvent | null;
}

export interface RunState<S = unknown> {
  progress: RunProgress;
  /** the batches' position (`Batches.getState()`) */
  data: unknown;
  optimizer: OptimizerStateDict;
  /** stateful training: the state carried into the next batch, one per thread (main thread first) */
  carried: Array<S | null>;
}

const COUNTS = ['updates', 'batches', 'items', 'validations', 'sinceBest'] as const;

/** A saved progress record, checked field by field (a hand-edited manifest is a DataError naming the field). */
export function checkProgress(where: string, p: unknown): RunProgress {
  const bad = (field: string, want: string, got: unknown): never => {
    throw new DataError(expected(`${where}: progress${field && `.${field}`}`, want, show(got)));
  };
  if (p === null || typeof p !== 'object') bad('', 'an object', p);
  const x = p as Record<string, unknown>;
  for (const k of COUNTS) if (!(Number.isSafeInteger(x[k]) && (x[k] as number) >= 0)) bad(k, 'an integer >= 0', x[k]);
  for (const k of ['trainMs', 'elapsedMs'] as const) {
    if (!(Number.isFinite(x[k]) && (x[k] as number) >= 0)) bad(k, 'a time in ms >= 0', x[k]);
  }
  if (x.validatedAt !== null && !(Number.isSafeInteger(x.validatedAt) && (x.validatedAt as number) >= 0)) {
    bad('validatedAt', 'an update count or null', x.validatedAt);
  }
  for (const k of ['best', 'last'] as const) {
    const v = x[k] as ValidationEvent | null;
    if (v !== null && !(v && typeof v === 'object' && Number.isFinite(v.score) && Number.isSafeInteger(v.update))) {
      bad(k, 'a validation { score, update, ... } or null', v);
    }
  }
  return x as unknown as RunProgress;
}
