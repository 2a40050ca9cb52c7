/**
 * What the network sees and predicts. Each series column x (the target
 * first, then the features) is differenced with lag D, u_k = x_k − x_{k−D}
 * (D = 0: u = x; D = 1: step to step; D = season: year over year, day over
 * day), then standardised, z = (u − μ) / σ, with μ and σ measured on the
 * training rows only. A forecast from origin t (the last row read) at
 * horizon h is the level offset
 *     v_h = (x_{t+h} − base_h) / σ,  base_h = x_{t+h−D·⌈h/D⌉}  (D = 0: μ),
 * so base_h is the naive forecast the differencing implies (the last value,
 * or the same season's last value) and v_h = Σ_{j ≡ h mod D, j ≤ h} (z_j + μ/σ).
 */
import { addSteps, type Frequency, type TimeSeries } from '../../data/index.js';
import { DataError, expected, quoted, show } from '../../tensor/index.js';
import { calendarFeatures, calendarNames, type Cycle } from './calendar.js';

export type Difference = 'none' | 'first' | 'seasonal';

/** μ and σ of each column's differenced values over the training rows. */
export interface Scaler {
  mean: number[];
  std: number[];
}

export function lagOf(difference: Difference, season: number): number {
  return difference === 'none' ? 0 : difference === 'first' ? 1 : season;
}

/** Names a cell (column c, series row k) in messages. */
export type CellName = (c: number, k: number) => string;

const cellOf = (names?: readonly string[]): CellName => (c, k) =>
  `column ${names ? `'${names[c]}'` : c + 1} row ${k + 1}`;

/** A series' cells as its source names them (`CSV 'x.csv': column 'y' row 5 (line 6)`), else by column name and row. */
export function cellNameOf(ts: TimeSeries): CellName {
  return ts.cellName ?? cellOf(ts.names);
}

/** A value so large that a difference, a sum or a square of the scaling overflowed (σ = ∞ was saved as null). */
function overflow(cell: string, value: number): DataError {
  const what = 'a value whose scaling stays finite '
    + '(its difference, the mean and spread of the training rows, its scaled value)';
  return new DataError(expected(cell, what, show(value)));
}

/**
 * Fits the scaler on rows [0, trainEnd) only: nothing of the validation or
 * test rows leaks into the inputs. A feature that does not vary there gets
 * σ = 1 (it reads as 0); a target that does not vary has nothing to learn.
 */
export function fitScaler(
  levels: readonly Float64Array[], lag: number, trainEnd: number, names: readonly string[],
  cell: CellName = cellOf(names),
): Scaler {
  const mean: number[] = [];
  const std: number[] = [];
  levels.forEach((x, c) => {
    let s = 0, s2 = 0;
    const n = trainEnd - lag;
    if (n < 2) throw new DataError(expected('scaler', `at least ${lag + 2} training rows`, trainEnd));
    for (let k = lag; k < trainEnd; k++) {
      s += difference(x, k, lag);
      if (!Number.isFinite(s)) throw overflow(cell(c, k), x[k]!); // the row whose difference, or the sum, overflowed
    }
    const m = s / n;
    for (let k = lag; k < trainEnd; k++) {
      s2 += (difference(x, k, lag) - m) ** 2;
      if (!Number.isFinite(s2)) throw overflow(cell(c, k), x[k]!);
    }
    const sd = Math.sqrt(s2 / n);
    const flat = !(sd > 1e-12 * Math.max(1, Math.abs(m)));
    if (flat && c === 0) {
      const differenced = lag ? ` (after differencing with lag ${lag})` : '';
      throw new DataError(expected(`target ${quoted(names[0])}`,
        `values that vary over the ${trainEnd} training rows${differenced}`, 'a constant', 'nothing to forecast'));
    }
    mean.push(m);
    std.push(flat ? 1 : sd);
  });
  return { mean, std };
}

function difference(x: Float64Array, k: number, lag: number): number {
  return lag === 0 ? x[k]! : x[k]! - x[k - lag]!;
}

/** A series seen through a fitted scaler: model inputs, targets and levels, row by row. */
export class ScaledSeries {
  readonly calendarNames: string[];

  constructor(
    /** raw values per series column, the target first */
    readonly levels: readonly Float64Array[],
    readonly lag: number,
    readonly scaler: Scaler,
    readonly times: Float64Array | null,
    readonly frequency: Frequency | null,
    readonly cycles: readonly Cycle[],
    cell: CellName = cellOf(),
  ) {
    this.calendarNames = calendarNames(cycles);
    if (cycles.length && !times) {
      throw new DataError(expected('ScaledSeries', 'timestamps for calendar features', 'none'));
    }
    // Every row's scaled value, validation and test rows too (the scaler saw only the training rows).
    levels.forEach((x, c) => {
      for (let k = lag; k < x.length; k++) if (!Number.isFinite(this.z(c, k))) throw overflow(cell(c, k), x[k]!);
    });
  }

  get rows(): number {
    return this.levels[0]!.length;
  }

  /** series columns (target and features) */
  get series(): number {
    return this.levels.length;
  }

  /** inputs per step: every series column, then the calendar */
  get inputSize(): number {
    return this.series + this.calendarNames.length;
  }

  /** z of column c at row k (needs k >= lag) */
  z(c: number, k: number): number {
    return (difference(this.levels[c]!, k, this.lag) - this.scaler.mean[c]!) / this.scaler.std[c]!;
  }

  /** The network's input at row k. */
  inputRow(k: number): number[] {
    const zs = this.levels.map((_, c) => this.z(c, k));
    return this.cycles.length ? [...zs, ...calendarFeatures(this.times![k]!, this.cycles)] : zs;
  }

  /** Calendar features h steps after row t (rows past the end included: the time follows from the frequency). */
  calendarAfter(t: number, h: number): number[] {
    return this.cycles.length ? calendarFeatures(this.timeAfter(t, h)!, this.cycles) : [];
  }

  timeAfter(t: number, h: number): number | null {
    if (!this.times) return null;
    return t + h < this.rows ? this.times[t + h]! : addSteps(this.times[t]!, this.frequency!, h);
  }

  /** The naive forecast the differencing implies for column c, h steps after origin t. */
  base(c: number, t: number, h: number): number {
    return this.lag === 0 ? this.scaler.mean[c]! : this.levels[c]![t + h - this.lag * Math.ceil(h / this.lag)]!;
  }

  /** The level offset v the network learns to predict (row t + h must exist). */
  target(c: number, t: number, h: number): number {
    return (this.levels[c]![t + h]! - this.base(c, t, h)) / this.scaler.std[c]!;
  }

  /** A predicted level offset back in the column's units. */
  level(c: number, t: number, h: number, v: number): number {
    return this.base(c, t, h) + this.scaler.std[c]! * v;
  }

  /** μ/σ per column: what a z of 0 adds to the level offset at each differencing step (0 without differencing). */
  get driftPerStep(): number[] {
    return this.scaler.mean.map((m, c) => (this.lag === 0 ? 0 : m / this.scaler.std[c]!));
  }
}
