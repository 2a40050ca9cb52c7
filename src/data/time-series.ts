/**
 * A table of strings (a parsed CSV) → a numeric time series: a time column
 * (optional) and numeric columns, rows in time order. Nothing is dropped in
 * silence: a missing or non-numeric cell, a missing row in an evenly spaced
 * series, a timestamp that is unreadable, repeated or out of order is a
 * DataError naming the row and column, unless the caller asks for a fill
 * (`fill.ts`), which is then reported cell by cell in `problems`.
 */
import { DataError, expected, listOf, quoted } from '../tensor/index.js';
import { TIME_FORMATS, inferFrequency, parseTimestamp, type Frequency, type Gap, type TimeStyle } from './dates.js';
import { fillMissing, insertGaps, type FillMethod } from './fill.js';

export interface TimeSeries {
  /** UTC milliseconds per row, or null for a series without a time column */
  times: Float64Array | null;
  style: TimeStyle | null;
  frequency: Frequency | null;
  names: string[];
  /** one array per column of `names`, every value finite */
  values: Float64Array[];
  /**
   * A cell as the user finds it in the source, for messages about values
   * (`CSV 'x.csv': column 'y' row 5 (line 6)`); `row` counts the series' rows,
   * filled-in gaps included. Absent for a series not read from a table.
   */
  cellName?: (column: number, row: number) => string;
}

/** A cell that held no number, or a row that was missing from the spacing. */
export interface Problem {
  kind: 'cell' | 'gap';
  column: string;
  /** the data row (1-based, as counted below the header) or, for an inserted row, the row before the gap */
  row: number;
  line: number | null;
  got: string;
}

export interface TableLike {
  columns: string[];
  rows: string[][];
  lines: number[];
}

export interface SeriesOptions {
  /** the time column's name, or null when rows are plain steps */
  time: string | null;
  /** numeric columns to read, in this order */
  columns: string[];
  /** fill missing cells (and rows missing from the spacing) this way; null: they are errors */
  fill: FillMethod | null;
  /** how to ask for a fill, in the error about missing values (e.g. the command-line option) */
  hint?: string;
}

const MISSING = /^(|na|n\/a|nan|null|none|-|\?)$/i;

/** Reads `columns` (and the time column) of a table as a time series; `where` names the source. */
export function seriesFromTable(table: TableLike, options: SeriesOptions, where: string): { series: TimeSeries; problems: Problem[]; gaps: Gap[] } {
  const index = (name: string): number => {
    const i = table.columns.indexOf(name);
    if (i < 0) {
      throw new DataError(expected(where, `a column ${quoted(name)}`, `columns ${listOf(table.columns, quoted)}`));
    }
    return i;
  };
  const cols = options.columns.map(index);
  const timeCol = options.time === null ? null : index(options.time);
  if (timeCol !== null && cols.includes(timeCol)) {
    throw new DataError(expected(where, `the time column ${quoted(options.time)} apart from the value columns`,
      'it among them'));
  }
  if (table.rows.length === 0) throw new DataError(expected(where, 'at least one data row below the header', 'none'));
  const rowLabel = (i: number): string => `row ${i + 1} (line ${table.lines[i]})`;

  const problems: Problem[] = [];
  let values: Float64Array[] = cols.map((c, k) => Float64Array.from(table.rows, (row, i) => {
    const cell = row[c]!;
    const v = MISSING.test(cell) ? NaN : Number(cell);
    if (!Number.isFinite(v)) {
      const got = cell === '' ? 'an empty cell' : quoted(cell);
      problems.push({ kind: 'cell', column: options.columns[k]!, row: i + 1, line: table.lines[i]!, got });
    }
    return Number.isFinite(v) ? v : NaN;
  }));

  let times: Float64Array | null = null;
  let style: TimeStyle | null = null;
  let frequency: Frequency | null = null;
  let gaps: Gap[] = [];
  if (timeCol !== null) {
    const parsed = table.rows.map((row, i) => {
      const t = parseTimestamp(row[timeCol]!);
      if (!t) {
        throw new DataError(expected(`${where}: column ${quoted(options.time)} ${rowLabel(i)}`, TIME_FORMATS,
          quoted(row[timeCol])));
      }
      return t;
    });
    const zoned = parsed[0]!.style === 'datetime-utc';
    const other = parsed.findIndex((t) => (t.style === 'datetime-utc') !== zoned);
    if (other >= 0) {
      throw new DataError(expected(`${where}: column ${quoted(options.time)}`,
        'timestamps all with a time zone or all without', `${rowLabel(other)} differs from row 1`));
    }
    times = Float64Array.from(parsed, (t) => t.ms);
    const inferred = inferFrequency(times, `${where}: column ${quoted(options.time)}`, rowLabel);
    if (inferred) ({ frequency, gaps } = inferred);
    style = styleOf(parsed.map((t) => t.style));
  }

  for (const g of gaps) {
    problems.push({ kind: 'gap', column: options.time!, row: g.after + 1, line: table.lines[g.after]!, got: `${g.missing} missing row${g.missing > 1 ? 's' : ''} after it` });
  }
  problems.sort((a, b) => a.row - b.row); // stable: by row, then column order
  if (problems.length && !options.fill) throw new DataError(firstProblems(where, problems, options.hint ?? 'fill them explicitly: previous, linear or zero'));
  if (gaps.length) ({ times, values } = insertGaps(times!, values, gaps, frequency!));
  if (options.fill) values = values.map((v) => fillMissing(v, options.fill!));
  const rowName = gaps.length ? withGaps(table.rows.length, gaps, rowLabel) : rowLabel;
  const cellName = (column: number, row: number): string =>
    `${where}: column '${options.columns[column]}' ${rowName(row)}`;
  return { series: { times, style, frequency, names: [...options.columns], values, cellName }, problems, gaps };
}

/** Names the rows of a series with `gaps` inserted: a table row as `label` does, an inserted one by the row before. */
function withGaps(tableRows: number, gaps: readonly Gap[], label: (i: number) => string): (row: number) => string {
  const missingAfter = new Map(gaps.map((g) => [g.after, g.missing]));
  const origin: number[] = []; // the table row of each series row; ~i for a row inserted after table row i
  for (let i = 0; i < tableRows; i++) {
    origin.push(i);
    for (let k = 0; k < (missingAfter.get(i) ?? 0); k++) origin.push(~i);
  }
  return (row) => {
    const i = origin[row]!;
    return i >= 0 ? label(i) : `a row filled in after ${label(~i)}`;
  };
}

/** Written back as read: dates as dates, months as months; any time of day makes them date-times. */
function styleOf(styles: TimeStyle[]): TimeStyle {
  if (styles.includes('datetime-utc')) return 'datetime-utc';
  if (styles.includes('datetime')) return 'datetime';
  return styles.every((s) => s === 'month') ? 'month' : 'date';
}

/** One line: the first problem in full, then how many more, and the way out. */
function firstProblems(where: string, problems: Problem[], hint: string): string {
  const [p, ...rest] = problems as [Problem, ...Problem[]];
  const count = (kind: Problem['kind'], one: string, many: string): string | null => {
    const n = rest.filter((q) => q.kind === kind).length;
    return n ? `${n} ${n > 1 ? many : one}` : null;
  };
  const others = [count('cell', 'missing or non-numeric cell', 'missing or non-numeric cells'), count('gap', 'gap', 'gaps')].filter(Boolean);
  const more = others.length ? `; also ${others.join(' and ')}` : '';
  const want = p.kind === 'gap' ? 'evenly spaced rows' : 'a number';
  return expected(`${where}: column ${quoted(p.column)} row ${p.row} (line ${p.line})`, want, `${p.got}${more}`, hint);
}
