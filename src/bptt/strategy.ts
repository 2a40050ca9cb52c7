import { ConfigError, expected, quoted, show } from '../tensor/index.js';

/**
 * How the error is sent back through time:
 * - full: one update per batch, through every step;
 * - truncated (Williams & Peng 1990): every k1 steps, the error of those k1 steps
 *   goes back through the last k2 steps (k2 >= k1; k2 = k1 by default);
 * - checkpointed: the gradient of full BPTT with activations kept only for one
 *   segment at a time (states saved every `segment` steps, about √T by default)
 *   and each segment recomputed during the backward pass.
 */
export type Strategy =
  | { kind: 'full' }
  | { kind: 'truncated'; k1: number; k2?: number }
  | { kind: 'checkpointed'; segment?: number };

/** One update: the error of steps [lossFrom, end) goes back to `start`; the next window starts from the state at `carryAt`. */
export interface Window {
  start: number;
  lossFrom: number;
  end: number;
  /** where the next window starts (its state is carried, detached), or null for the last window */
  carryAt: number | null;
}

export function validateStrategy(s: Strategy): Strategy {
  const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  switch (s?.kind) {
    case 'full':
      return s;
    case 'truncated': {
      if (!isInt(s.k1)) throw new ConfigError(expected('strategy truncated', 'k1 an integer >= 1', show(s.k1)));
      const k2 = s.k2 ?? s.k1;
      if (!isInt(k2) || k2 < s.k1) {
        throw new ConfigError(expected('strategy truncated', `k2 an integer >= k1 = ${s.k1}`, show(k2)));
      }
      return { kind: 'truncated', k1: s.k1, k2 };
    }
    case 'checkpointed':
      if (s.segment !== undefined && !isInt(s.segment)) {
        throw new ConfigError(expected('strategy checkpointed', 'segment an integer >= 1', show(s.segment)));
      }
      return s;
    default:
      throw new ConfigError(expected('strategy', "kind 'full', 'truncated' or 'checkpointed'",
        quoted((s as { kind?: unknown })?.kind)));
  }
}

/** The updates for a batch of T steps. Windows never reach before step 0: gradients are cut at batch boundaries. */
export function windows(T: number, strategy: Strategy): Window[] {
  if (strategy.kind !== 'truncated') return [{ start: 0, lossFrom: 0, end: T, carryAt: null }];
  const { k1 } = strategy;
  const k2 = strategy.k2 ?? k1;
  const ends: number[] = [];
  for (let e = k1; e < T; e += k1) ends.push(e);
  ends.push(T);
  return ends.map((end, i) => {
    const next = ends[i + 1];
    return {
      start: Math.max(0, end - k2),
      lossFrom: i === 0 ? 0 : ends[i - 1]!,
      end,
      carryAt: next === undefined ? null : Math.max(0, next - k2),
    };
  });
}

/** Segment length for checkpointed BPTT: the given one, or ⌈√T⌉. */
export function segmentLength(T: number, strategy: Strategy): number {
  return strategy.kind === 'checkpointed' && strategy.segment ? strategy.segment : Math.max(1, Math.ceil(Math.sqrt(T)));
}
