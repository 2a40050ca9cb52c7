/**
 * Reading the series to forecast from a CSV file or a bundled dataset (Node
 * only: it reads files). The bundled datasets come with the settings that
 * suit them, so `--dataset co2` is all a command needs.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { bundledCsvPath, parseCsv, type BundledCsv, type CsvTable } from '../../../data/node/csv.js';
import { readTextFile } from '../../../data/node/text-files.js';
import {
  parseTimestamp, seriesFromTable, type FillMethod, type Gap, type Problem, type TimeSeries,
} from '../../../data/index.js';
import { DataError, expected } from '../../../tensor/index.js';
import type { DataSource } from '../../../training/index.js';

export interface DatasetPreset {
  csv: BundledCsv;
  time: string;
  target: string;
  fill: FillMethod | null;
  horizon: number;
  lookback: number;
  description: string;
}

export const DATASETS: Record<BundledCsv, DatasetPreset> = {
  co2: {
    csv: 'co2', time: 'Date', target: 'CO2', fill: 'linear', horizon: 12, lookback: 36,
    description: 'monthly CO2 at Mauna Loa, 1958–2020 (Scripps; 5 missing months filled linearly)',
  },
  seattle: {
    csv: 'seattle', time: 'date', target: 'temperature', fill: null, horizon: 24, lookback: 72,
    description: 'hourly temperature normals for Seattle, 1981–2010 (NOAA)',
  },
};

export interface SourceOptions {
  /** a CSV file, or null for the dataset */
  csv: string | null;
  dataset: BundledCsv | null;
  /** the time column; 'auto' finds it; 'none' reads rows as plain steps */
  timeColumn: string;
  target: string;
  features: string[];
  fill: FillMethod | null;
}

export interface LoadedSource {
  series: TimeSeries;
  /** where the data came from, with a hash of its text (kept in checkpoints) */
  source: DataSource;
  /** how messages name it: the CSV's absolute path, or 'dataset co2' */
  name: string;
  timeColumn: string | null;
  problems: Problem[];
  gaps: Gap[];
}

export function loadSource(o: SourceOptions): LoadedSource {
  const path = o.csv ?? bundledCsvPath(o.dataset!);
  const where = o.csv ? `CSV '${o.csv}'` : `dataset ${o.dataset}`;
  const text = readTextFile(path);
  const table = parseCsv(text, where);
  const timeColumn = o.timeColumn === 'none' ? null : o.timeColumn === 'auto' ? findTimeColumn(table) : o.timeColumn;
  const { series, problems, gaps } = seriesFromTable(table, { time: timeColumn, columns: [o.target, ...o.features],
    fill: o.fill, hint: 'fill them explicitly with --fill previous|linear|zero' }, where);
  const sha256 = createHash('sha256').update(text).digest('hex');
  const source: DataSource = o.csv ? { role: '--csv', name: resolve(o.csv), sha256 }
    : { role: 'bundled', name: o.dataset!, sha256 };
  return { series, source, name: o.csv ? source.name : `dataset ${o.dataset}`, timeColumn, problems, gaps };
}

const TIME_NAMES = /^(date|time|timestamp|datetime|ds|month|period)$/i;

/** A column named like a time whose first cell is a timestamp, else the first column if its first cell is one. */
function findTimeColumn(t: CsvTable): string | null {
  const first = t.rows[0];
  if (!first) throw new DataError(expected('CSV', 'at least one data row below the header', 'none'));
  const isTime = (i: number): boolean => parseTimestamp(first[i]!) !== null;
  const named = t.columns.findIndex((c, i) => TIME_NAMES.test(c) && isTime(i));
  if (named >= 0) return t.columns[named]!;
  return isTime(0) ? t.columns[0]! : null;
}

/** The places filled in (--fill), the first three named. */
export function describeProblems(s: LoadedSource): string {
  const shown = s.problems.slice(0, 3).map((p) => `${p.column} row ${p.row} (${p.got})`);
  return `${s.problems.length} place${s.problems.length > 1 ? 's' : ''}: ${shown.join('; ')}`
    + `${s.problems.length > 3 ? '; …' : ''}`;
}
