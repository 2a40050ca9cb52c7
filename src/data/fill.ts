/**
 * Explicit fills for missing values (NaN) of an evenly spaced series, and the
 * rows a gap in the timestamps leaves out. Used only when the user asks
 * for them: by default a missing value is an error (see `time-series.ts`).
 */
import { DataError, expected } from '../tensor/index.js';
import { addSteps, type Frequency, type Gap } from './dates.js';

/**
 * previous: the last value before (carried forward; values missing at the
 *   very start take the first value there is);
 * linear: on the straight line between the neighbouring values (the ends
 *   take the nearest value);
 * zero: 0.
 */
export type FillMethod = 'previous' | 'linear' | 'zero';
export const FILL_METHODS: readonly FillMethod[] = ['previous', 'linear', 'zero'];

/** A copy of `v` with every NaN replaced; a column with no value at all cannot be filled (but by zero). */
export function fillMissing(v: Float64Array, method: FillMethod): Float64Array {
  const out = v.slice();
  if (method === 'zero') return out.map((x) => (Number.isNaN(x) ? 0 : x));
  const known: number[] = [];
  out.forEach((x, i) => Number.isNaN(x) || known.push(i));
  if (known.length === 0) throw new DataError(expected(`fill ${method}`, 'at least one value in the column', 'none'));
  let k = 0; // known[k] is the first known index at or after i
  for (let i = 0; i < out.length; i++) {
    if (!Number.isNaN(out[i]!)) {
      k++;
      continue;
    }
    const before = k > 0 ? known[k - 1]! : null;
    const after = k < known.length ? known[k]! : null;
    if (before === null) out[i] = v[after!]!;
    else if (method === 'previous' || after === null) out[i] = out[before]!;
    else out[i] = v[before]! + ((v[after]! - v[before]!) * (i - before)) / (after - before);
  }
  return out;
}

/** Inserts the rows each gap leaves out (their values NaN, to be filled), with their timestamps. */
export function insertGaps(times: Float64Array, values: Float64Array[], gaps: readonly Gap[], f: Frequency): { times: Float64Array; values: Float64Array[] } {
  const extra = gaps.reduce((s, g) => s + g.missing, 0);
  const n = times.length + extra;
  const outTimes = new Float64Array(n);
  const outValues = values.map(() => new Float64Array(n).fill(NaN));
  const missingAfter = new Map(gaps.map((g) => [g.after, g.missing]));
  let o = 0;
  for (let i = 0; i < times.length; i++) {
    outTimes[o] = times[i]!;
    values.forEach((v, c) => (outValues[c]![o] = v[i]!));
    o++;
    for (let k = 1; k <= (missingAfter.get(i) ?? 0); k++) outTimes[o++] = addSteps(times[i]!, f, k);
  }
  return { times: outTimes, values: outValues };
}
