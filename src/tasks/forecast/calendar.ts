/**
 * Calendar features: where a timestamp falls in the cycles that matter at
 * the series' frequency, as (sin, cos) pairs so December sits next to
 * January. They are known for every future step, so the recursive mode can
 * feed them along with its own predictions.
 */
import type { Frequency } from '../../data/index.js';

export type Cycle = 'hour' | 'weekday' | 'month' | 'year';
export const CYCLES: readonly Cycle[] = ['hour', 'weekday', 'month', 'year'];

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const YEAR_DAYS = 365.2425;
const PERIOD_MS: Record<Cycle, number> = { hour: DAY, weekday: 7 * DAY, month: YEAR_DAYS * DAY, year: YEAR_DAYS * DAY };

/**
 * The cycles worth knowing at this frequency (time of day below daily steps,
 * day of week for daily ones, month of year for monthly, day of year), kept
 * only when the training rows span at least two whole periods: a cycle seen
 * less than twice cannot be learned, and its unseen phases would be guesses.
 */
export function calendarCycles(f: Frequency | null, trainingSpanMs: number): Cycle[] {
  if (!f) return [];
  let cycles: Cycle[];
  if (f.unit === 'month') cycles = f.step < 12 ? ['month'] : [];
  else if (f.step < DAY) cycles = ['hour', 'year'];
  else if (f.step === DAY) cycles = ['weekday', 'year'];
  else cycles = ['year'];
  return cycles.filter((c) => trainingSpanMs >= 2 * PERIOD_MS[c]);
}

export function calendarNames(cycles: readonly Cycle[]): string[] {
  return cycles.flatMap((c) => [`${c}_sin`, `${c}_cos`]);
}

/** The features of time `ms` (UTC): a (sin, cos) pair per cycle, in order. */
export function calendarFeatures(ms: number, cycles: readonly Cycle[]): number[] {
  const d = new Date(ms);
  const phase = (c: Cycle): number => {
    if (c === 'hour') return (((ms % DAY) + DAY) % DAY) / DAY;
    if (c === 'weekday') return (d.getUTCDay() + (((ms % DAY) + DAY) % DAY) / DAY) / 7;
    if (c === 'month') return d.getUTCMonth() / 12;
    return (ms - Date.UTC(d.getUTCFullYear(), 0, 1)) / DAY / YEAR_DAYS;
  };
  return cycles.flatMap((c) => [Math.sin(2 * Math.PI * phase(c)), Math.cos(2 * Math.PI * phase(c))]);
}
