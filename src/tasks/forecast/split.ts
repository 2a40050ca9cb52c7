/**
 * The time-ordered split and the forecast windows of each part. Rows
 * [0, trainEnd) train, [trainEnd, valEnd) validate, [valEnd, n) test. A
 * window is named by its origin t, the last row it reads: it reads rows
 * (t − L − D, t] (the lookback, plus D rows for the differencing) and
 * forecasts rows t + 1 … t + H. A window belongs to the part that holds all
 * of its targets; its inputs may reach back into earlier parts (they are
 * known when the forecast is made). The model and the baselines are scored
 * on exactly these windows.
 */
import { ConfigError, DataError, expected } from '../../tensor/index.js';

export interface Split {
  rows: number;
  trainEnd: number;
  valEnd: number;
}

export interface Origins {
  train: number[];
  val: number[];
  test: number[];
}

/** Fractions [train, validation] of the rows; the test part is the rest. */
export function splitRows(rows: number, fractions: readonly [number, number]): Split {
  const [a, b] = fractions;
  if (!(a > 0 && b >= 0 && a + b < 1)) throw new ConfigError(expected('split', 'train > 0, validation >= 0 and train + validation < 1', `${a}, ${b}`));
  const trainEnd = Math.floor(rows * a);
  const valEnd = trainEnd + Math.floor(rows * b);
  return { rows, trainEnd, valEnd };
}

/** Every window of each part, stride 1. */
export function windowOrigins(s: Split, lookback: number, horizon: number, lag: number): Origins {
  const range = (lo: number, hi: number): number[] => Array.from({ length: Math.max(0, hi - lo + 1) }, (_, i) => lo + i);
  const first = lag + lookback - 1;
  return {
    train: range(first, s.trainEnd - horizon - 1),
    val: range(Math.max(first, s.trainEnd - 1), s.valEnd - horizon - 1),
    test: range(Math.max(first, s.valEnd - 1), s.rows - horizon - 1),
  };
}

/** Throws a DataError saying which part is too short for the windows, and by how much. */
export function checkOrigins(o: Origins, s: Split, lookback: number, horizon: number, lag: number, where: string): void {
  const need = lag + lookback + horizon;
  const history = lag ? `lookback ${lookback} + differencing ${lag} + horizon ${horizon}` : `lookback ${lookback} + horizon ${horizon}`;
  if (o.train.length < 1) {
    throw new DataError(expected(where, `at least ${need} training rows (${history})`, `${s.trainEnd} of ${s.rows} rows`, 'a longer series, a larger training share or a shorter lookback'));
  }
  const short = (part: string, rows: number): DataError =>
    new DataError(expected(where, `at least ${horizon} ${part} rows for one forecast of horizon ${horizon}`, `${rows} of ${s.rows} rows`, 'a longer series or another --split'));
  if (s.valEnd > s.trainEnd && o.val.length < 1) throw short('validation', s.valEnd - s.trainEnd);
  if (o.test.length < 1) throw short('test', s.rows - s.valEnd);
}
