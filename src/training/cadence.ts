/** When a runner validates: every n updates, or every share of an epoch. */
import { ConfigError, expected, show } from '../tensor/index.js';
import type { RunProgress } from './state.js';

export interface Cadence {
  /** whether the update just made reaches the next validation */
  due(p: Readonly<RunProgress>): boolean;
}

/**
 * Default: once an epoch, but at least 10 times over a budget in steps and at
 * most every 10 updates, so small data is validated often enough to keep its
 * best weights and large data not so often that validating costs more than
 * training.
 */
export function cadenceOf(where: string, e: number | { epochs: number } | undefined, steps: number | null,
  batchesPerEpoch: number): Cadence {
  if (typeof e === 'number') {
    if (!(Number.isSafeInteger(e) && e >= 1)) {
      throw new ConfigError(expected(where, 'evalEvery an integer >= 1', show(e)));
    }
    return byUpdates(e);
  }
  if (e !== undefined) {
    if (!(e && typeof e === 'object' && e.epochs > 0 && Number.isFinite(e.epochs))) {
      throw new ConfigError(expected(where, 'evalEvery a number of updates or { epochs: > 0 }', show(e)));
    }
    return byBatches(Math.max(1, Math.round(e.epochs * batchesPerEpoch)));
  }
  const perEpoch = Math.max(1, Math.round(batchesPerEpoch));
  return byUpdates(Math.max(10, steps ? Math.min(perEpoch, Math.ceil(steps / 10)) : perEpoch));
}

function byUpdates(n: number): Cadence {
  let lastAt = 0;
  return {
    // updates may jump by several a batch (truncated BPTT): due when a multiple of n was passed
    due: (p) => {
      const before = Math.max(lastAt, p.validatedAt ?? 0);
      lastAt = p.updates;
      return Math.floor(p.updates / n) > Math.floor(before / n);
    },
  };
}

function byBatches(n: number): Cadence {
  return { due: (p) => p.batches % n === 0 };
}
