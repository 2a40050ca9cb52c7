import { ConfigError, expected, quoted, show } from '../tensor/index.js';

export interface Schedule {
  kind: 'cosine' | 'constant';
  /** peak learning rate */
  lr: number;
  /** linear warm-up over this many updates */
  warmup: number;
  /** the cosine ends at lr · floor */
  floor: number;
}

export function validateSchedule(s: Schedule, where = 'schedule'): Schedule {
  if (s.kind !== 'cosine' && s.kind !== 'constant') {
    throw new ConfigError(expected(where, "kind 'cosine' or 'constant'", quoted(s.kind)));
  }
  if (!(s.lr > 0 && Number.isFinite(s.lr))) throw new ConfigError(expected(where, 'lr > 0', show(s.lr)));
  if (!(Number.isInteger(s.warmup) && s.warmup >= 0)) {
    throw new ConfigError(expected(where, 'warmup an integer >= 0', show(s.warmup)));
  }
  if (!(s.floor >= 0 && s.floor <= 1)) throw new ConfigError(expected(where, 'floor in [0, 1]', show(s.floor)));
  return s;
}

/**
 * The learning rate of update `update` (1-based) when a fraction `done` of the
 * budget (updates or time, whichever runs out first) is spent: a linear
 * warm-up, then a half cosine from lr down to lr · floor at the end of the budget.
 */
export function learningRate(s: Schedule, update: number, done: number): number {
  const warm = s.warmup > 0 ? Math.min(1, update / s.warmup) : 1;
  if (s.kind === 'constant') return s.lr * warm;
  const p = Math.min(1, Math.max(0, done));
  return s.lr * warm * (s.floor + (1 - s.floor) * 0.5 * (1 + Math.cos(Math.PI * p)));
}
