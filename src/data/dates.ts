/**
 * Timestamps of time series: ISO 8601 dates and date-times, the spacing of a
 * series (monthly steps or a fixed duration) and its gaps. Times are UTC
 * milliseconds; a timestamp without a zone is read as UTC, so no daylight
 * saving shift ever makes an hourly series irregular.
 */
import { DataError, expected } from '../tensor/index.js';

/** How timestamps are written back: as they were read (dates stay dates; zoned times are written in UTC with a Z). */
export type TimeStyle = 'date' | 'month' | 'datetime' | 'datetime-utc';

export interface ParsedTime {
  ms: number;
  style: TimeStyle;
}

/** Regular spacing: a number of calendar months (month lengths vary), or a fixed number of milliseconds. */
export type Frequency = { unit: 'month'; step: number } | { unit: 'ms'; step: number };

const ISO = /^(\d{4})-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?)?$/;
export const TIME_FORMATS = 'an ISO date or date-time such as 2020-01-31, 2020-01 or 2020-01-31T13:00:00';

/** Parses YYYY-MM, YYYY-MM-DD and YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|±HH:MM]; null when `s` is none of these or not a real date. */
export function parseTimestamp(s: string): ParsedTime | null {
  const m = ISO.exec(s.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  const parts = [Number(y), Number(mo) - 1, d ? Number(d) : 1, h ? Number(h) : 0, mi ? Number(mi) : 0, sec ? Number(sec) : 0];
  const ms = utc(parts[0]!, parts[1]!, parts[2]!, parts[3]!, parts[4]!, parts[5]!) + (frac ? Math.round(Number(`0.${frac}`) * 1000) : 0);
  // Date.UTC rolls 2021-02-30 over to March: a date that does not read back is not a date.
  const back = new Date(ms - (frac ? Math.round(Number(`0.${frac}`) * 1000) : 0));
  const real = back.getUTCFullYear() === parts[0] && back.getUTCMonth() === parts[1] && back.getUTCDate() === parts[2]
    && back.getUTCHours() === parts[3] && back.getUTCMinutes() === parts[4] && back.getUTCSeconds() === parts[5];
  if (!real) return null;
  if (!d) return { ms, style: 'month' };
  if (!h) return { ms, style: 'date' };
  return zone ? { ms: ms - zoneOffsetMs(zone), style: 'datetime-utc' } : { ms, style: 'datetime' };
}

/** Date.UTC without its quirk of reading years 0 to 99 as 1900 to 1999 (so 0050-01-01 is a date, and 50 years after 0001 is 0051). */
function utc(year: number, month: number, day: number, hour: number, minute: number, second: number, ms = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(year, month, day);
  t.setUTCHours(hour, minute, second, ms);
  return t.getTime();
}

function zoneOffsetMs(zone: string): number {
  if (zone === 'Z') return 0;
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
}

export function formatTimestamp(ms: number, style: TimeStyle): string {
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  if (style === 'month') return iso.slice(0, 7);
  if (style === 'date') return iso.slice(0, 10);
  const time = iso.endsWith('.000Z') ? iso.slice(0, 19) : iso.slice(0, 23);
  return style === 'datetime-utc' ? `${time}Z` : time;
}

/** The time `k` steps after `ms`. */
export function addSteps(ms: number, f: Frequency, k: number): number {
  if (f.unit === 'ms') return ms + k * f.step;
  const d = new Date(ms);
  return utc(d.getUTCFullYear(), d.getUTCMonth() + k * f.step, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export function describeFrequency(f: Frequency): string {
  if (f.unit === 'month') return ({ 1: 'monthly', 3: 'quarterly', 12: 'yearly' } as Record<number, string>)[f.step] ?? `every ${f.step} months`;
  const named: Record<number, string> = { [HOUR]: 'hourly', [DAY]: 'daily', [7 * DAY]: 'weekly', 60_000: 'every minute' };
  if (named[f.step]) return named[f.step]!;
  for (const [unit, size] of [['d', DAY], ['h', HOUR], ['min', 60_000], ['s', 1000]] as const) {
    if (f.step % size === 0) return `every ${f.step / size} ${unit}`;
  }
  return `every ${f.step} ms`;
}

/**
 * The usual seasonal period in steps: 12 for monthly data, 4 quarterly, 24
 * hourly (a day), 7 daily (a week); for other sub-daily steps the steps per
 * day; otherwise 1 (no season).
 */
export function defaultSeason(f: Frequency): number {
  if (f.unit === 'month') return f.step === 1 ? 12 : f.step === 3 ? 4 : 1;
  if (f.step === DAY) return 7;
  if (f.step < DAY && DAY % f.step === 0) return DAY / f.step;
  return 1;
}

/** A place where rows are missing: `missing` steps after row index `after` (0-based, in the data). */
export interface Gap {
  after: number;
  missing: number;
}

/**
 * The spacing of strictly increasing times: calendar months when every time
 * falls on the same day of the month and time of day (with a step of whole
 * months), else a fixed duration. The step is the most common spacing; a
 * spacing that is a multiple of it is a gap (rows missing), anything else is
 * a DataError, as are times out of order or repeated. `label(i)` names row i
 * in messages. Null for fewer than two times.
 */
export function inferFrequency(times: ArrayLike<number>, where: string, label: (i: number) => string): { frequency: Frequency; gaps: Gap[] } | null {
  for (let i = 1; i < times.length; i++) {
    const d = times[i]! - times[i - 1]!;
    if (d === 0) throw new DataError(expected(where, 'each timestamp once', `${label(i)} repeats the timestamp of ${label(i - 1)}`));
    if (d < 0) throw new DataError(expected(where, 'timestamps in increasing order', `${label(i)} earlier than ${label(i - 1)}`, 'sort the file by time'));
  }
  if (times.length < 2) return null;
  const monthly = sameDayAndTime(times);
  const positions = Array.from(times, (t) => (monthly ? monthIndex(t) : t));
  const deltas = positions.slice(1).map((p, i) => p - positions[i]!);
  const step = mostCommon(deltas);
  const gaps: Gap[] = [];
  deltas.forEach((d, i) => {
    if (d % step !== 0) {
      const unit = monthly ? `${d} months` : `${d} ms`;
      throw new DataError(expected(where, `evenly spaced timestamps (${describeFrequency({ unit: monthly ? 'month' : 'ms', step })})`, `${label(i + 1)} ${unit} after the previous row`));
    }
    if (d > step) gaps.push({ after: i, missing: d / step - 1 });
  });
  return { frequency: monthly ? { unit: 'month', step } : { unit: 'ms', step }, gaps };
}

function monthIndex(ms: number): number {
  const d = new Date(ms);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}

function sameDayAndTime(times: ArrayLike<number>): boolean {
  const key = (ms: number): string => new Date(ms).toISOString().slice(8); // day, time and zone
  const first = key(times[0]!);
  const day = Number(first.slice(0, 2));
  if (day > 28) return false; // month ends move (31, 30, 28): not a fixed day
  for (let i = 1; i < times.length; i++) if (key(times[i]!) !== first) return false;
  // Steps of whole days that happen to land on the same day of the month (every 28 days, say) are rare; months win.
  return true;
}

function mostCommon(values: number[]): number {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = values[0]!;
  for (const [v, c] of counts) if (c > counts.get(best)! || (c === counts.get(best)! && v < best)) best = v;
  return best;
}
