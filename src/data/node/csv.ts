/**
 * CSV files as tables of strings, through csv-parse (strict: quotes must
 * close, every record has the header's number of fields). Node only: the
 * parser's Node build uses Buffer, and files are read from disk.
 */
import { fileURLToPath } from 'node:url';
import { CsvError, parse } from 'csv-parse/sync';
import { DataError, expected, quoted, textOf } from '../../tensor/index.js';
import { readTextFile } from './text-files.js';

export interface CsvTable {
  /** the header's names, in file order */
  columns: string[];
  /** data records, each with one string per column */
  rows: string[][];
  /** the line of the file each record ends on (the header is line 1), for messages */
  lines: number[];
}

/** Parses CSV text with a header line. `where` names the source in errors. */
export function parseCsv(text: string, where: string): CsvTable {
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { info: true, bom: true, skip_empty_lines: true, trim: true }) as unknown as typeof records;
  } catch (e) {
    if (!(e instanceof CsvError)) throw e;
    const fields = /expect (\d+), got (\d+) on line (\d+)/.exec(e.message);
    if (fields) throw new DataError(expected(where, `${fields[1]} fields on every line, as in the header`, `${fields[2]} on line ${fields[3]}`));
    throw new DataError(expected(where, 'well-formed CSV', textOf(e.message))); // it can quote the field
  }
  if (records.length === 0) throw new DataError(expected(where, 'a header line', 'no lines'));
  const columns = records[0]!.record;
  const seen = new Map<string, number>();
  columns.forEach((name, i) => {
    if (name === '') throw new DataError(expected(where, 'a name for every column', `column ${i + 1} unnamed in the header`));
    if (seen.has(name)) {
      throw new DataError(expected(where, 'distinct column names',
        `${quoted(name)} twice in the header (columns ${seen.get(name)! + 1} and ${i + 1})`));
    }
    seen.set(name, i);
  });
  const data = records.slice(1);
  return { columns, rows: data.map((r) => r.record), lines: data.map((r) => r.info.lines) };
}

/** Reads and parses a CSV file (UTF-8; missing, empty and binary files are DataErrors). */
export function readCsvFile(path: string): CsvTable {
  return parseCsv(readTextFile(path), `CSV '${path}'`);
}

/** The CSV files bundled in the package's data/ directory (see data/SOURCES.md). */
export const BUNDLED_CSV = {
  co2: 'co2-concentration.csv',
  seattle: 'seattle-weather-hourly-normals.csv',
} as const;

export type BundledCsv = keyof typeof BUNDLED_CSV;

/** The path of a bundled CSV (from dist/src/data/ up to the package root). */
export function bundledCsvPath(name: BundledCsv): string {
  return fileURLToPath(new URL(`../../../../data/${BUNDLED_CSV[name]}`, import.meta.url));
}
