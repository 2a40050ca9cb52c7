import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCsv } from '../../src/data/node/csv.js';
import {
  addSteps, defaultSeason, describeFrequency, fillMissing, formatTimestamp, inferFrequency, parseTimestamp, seriesFromTable, type SeriesOptions,
} from '../../src/data/index.js';
import { DataError } from '../../src/tensor/index.js';

const W = "CSV 'x.csv'";
const series = (text: string, o: Partial<SeriesOptions> = {}) =>
  seriesFromTable(parseCsv(text, W), { time: 'date', columns: ['y'], fill: null, ...o }, W);

describe('parseCsv', () => {
  test('quoted fields keep commas, doubled quotes and line breaks; CRLF and a BOM are read', () => {
    const t = parseCsv('\ufeffname,"note, with comma",y\r\n"a ""b""","x\ny",1\r\nplain,"",2\r\n', W);
    assert.deepEqual(t.columns, ['name', 'note, with comma', 'y']);
    assert.deepEqual(t.rows, [['a "b"', 'x\ny', '1'], ['plain', '', '2']]);
    assert.deepEqual(t.lines, [3, 4], 'the record with a line break inside quotes ends on line 3');
  });

  test('a single data row, and a header alone', () => {
    assert.deepEqual(parseCsv('date,y\n2020-01-01,3\n', W).rows, [['2020-01-01', '3']]);
    assert.deepEqual(parseCsv('date,y\n', W).rows, []);
  });

  test('malformed CSV is a DataError naming the source', () => {
    assert.throws(() => parseCsv('a,b\n1,2,3\n', W), (e: Error) => e instanceof DataError && e.message === "CSV 'x.csv': expected 2 fields on every line, as in the header, got 3 on line 2");
    assert.throws(() => parseCsv('a,b\n"1,2\n', W), (e: Error) => e instanceof DataError && /Quote Not Closed/i.test(e.message));
    assert.throws(() => parseCsv('a,a\n1,2\n', W), /distinct column names, got 'a' twice in the header \(columns 1 and 2\)/);
    assert.throws(() => parseCsv('a,,c\n1,2,3\n', W), /a name for every column, got column 2 unnamed/);
    assert.throws(() => parseCsv('\n\n', W), /a header line, got no lines/);
  });
});

describe('timestamps', () => {
  test('ISO dates, months and date-times, with or without a zone', () => {
    assert.deepEqual(parseTimestamp('1958-03-01'), { ms: Date.UTC(1958, 2, 1), style: 'date' });
    assert.deepEqual(parseTimestamp('2010-01-01T01:00:00'), { ms: Date.UTC(2010, 0, 1, 1), style: 'datetime' });
    assert.deepEqual(parseTimestamp('2010-01-01 01:30'), { ms: Date.UTC(2010, 0, 1, 1, 30), style: 'datetime' });
    assert.deepEqual(parseTimestamp('2020-07'), { ms: Date.UTC(2020, 6, 1), style: 'month' });
    assert.deepEqual(parseTimestamp('2010-01-01T01:00:00+02:00'), { ms: Date.UTC(2009, 11, 31, 23), style: 'datetime-utc' });
    assert.equal(parseTimestamp('2010-01-01T01:00:00.250Z')!.ms, Date.UTC(2010, 0, 1, 1, 0, 0, 250));
    for (const bad of ['2021-02-30', '2021-13-01', '01/02/2020', '2020-01-01T25:00', 'yesterday', '']) assert.equal(parseTimestamp(bad), null, bad);
    assert.equal(formatTimestamp(Date.UTC(2010, 0, 1, 1), 'datetime'), '2010-01-01T01:00:00');
    assert.equal(formatTimestamp(Date.UTC(2010, 0, 1, 1), 'datetime-utc'), '2010-01-01T01:00:00Z');
    assert.equal(formatTimestamp(Date.UTC(1958, 2, 1), 'date'), '1958-03-01');
  });

  test('spacing: months, hours, gaps; seasons', () => {
    const months = ['1958-03-01', '1958-04-01', '1958-05-01', '1958-07-01'].map((s) => parseTimestamp(s)!.ms);
    const m = inferFrequency(months, W, String)!;
    assert.deepEqual(m, { frequency: { unit: 'month', step: 1 }, gaps: [{ after: 2, missing: 1 }] });
    assert.equal(describeFrequency(m.frequency), 'monthly');
    assert.equal(defaultSeason(m.frequency), 12);
    assert.equal(addSteps(Date.UTC(2020, 0, 31 - 30), m.frequency, 13), Date.UTC(2021, 1, 1));
    const hours = [0, 1, 2, 5].map((h) => Date.UTC(2010, 0, 1, h));
    const h = inferFrequency(hours, W, String)!;
    assert.deepEqual(h, { frequency: { unit: 'ms', step: 3_600_000 }, gaps: [{ after: 2, missing: 2 }] });
    assert.equal(describeFrequency(h.frequency), 'hourly');
    assert.equal(defaultSeason(h.frequency), 24);
    assert.equal(inferFrequency([5], W, String), null);
  });

  test('repeated, unordered and irregular timestamps are DataErrors naming the rows', () => {
    const label = (i: number) => `row ${i + 1}`;
    assert.throws(() => inferFrequency([0, 10, 10], W, label), /each timestamp once, got row 3 repeats the timestamp of row 2/);
    assert.throws(() => inferFrequency([0, 10, 5], W, label), /increasing order, got row 3 earlier than row 2 \(sort the file by time\)/);
    assert.throws(() => inferFrequency([0, 10, 20, 35], W, label), /evenly spaced timestamps \(every 10 ms\), got row 4 15 ms after the previous row/);
  });
});

describe('seriesFromTable', () => {
  test('a clean series', () => {
    const { series: s, problems } = series('date,y,z\n2020-01-01,1,a\n2020-01-02,2.5,b\n2020-01-03,-3e1,c\n');
    assert.deepEqual(Array.from(s.values[0]!), [1, 2.5, -30]);
    assert.deepEqual(s.frequency, { unit: 'ms', step: 86_400_000 });
    assert.equal(s.style, 'date');
    assert.deepEqual(problems, []);
  });

  test('a missing value is an error naming row, line and column, with the count of the others and the way out', () => {
    const text = 'date,y\n2020-01-01,1\n2020-01-02,\n2020-01-03,NA\n2020-01-04,abc\n';
    assert.throws(() => series(text), (e: Error) => e instanceof DataError
      && e.message === "CSV 'x.csv': column 'y' row 2 (line 3): expected a number, got an empty cell; also 2 missing or non-numeric cells (fill them explicitly: previous, linear or zero)");
    const both = 'date,y,z\n2020-01-01,1,1\n2020-01-02,2,oops\n2020-01-03,,3\n2020-01-05,5,5\n';
    assert.throws(() => series(both, { columns: ['y', 'z'] }), /column 'z' row 2 \(line 3\): expected a number, got 'oops'; also 1 missing or non-numeric cell and 1 gap/, 'the earliest row first, whichever its column');
  });

  test('a non-numeric value alone, and a row missing from the spacing, are errors too', () => {
    assert.throws(() => series('date,y\n2020-01-01,1\n2020-01-02,1,5\n'), /expected 2 fields on every line, as in the header, got 3 on line 3/);
    assert.throws(() => series('date,y\n2020-01-01,1\n2020-01-02,"1,5"\n'), /column 'y' row 2 \(line 3\): expected a number, got '1,5'/);
    assert.throws(() => series('date,y\n2020-01-01,1\n2020-01-02,2\n2020-01-04,4\n'), /column 'date' row 2 \(line 3\): expected evenly spaced rows, got 1 missing row after it/);
  });

  test('--fill fills cells and inserts missing rows, and reports each place', () => {
    const text = 'date,y\n2020-01-01,\n2020-01-02,2\n2020-01-03,x\n2020-01-04,4\n2020-01-06,8\n';
    const fill = (f: 'previous' | 'linear' | 'zero') => series(text, { fill: f });
    const lin = fill('linear');
    assert.deepEqual(Array.from(lin.series.values[0]!), [2, 2, 3, 4, 6, 8]);
    assert.equal(lin.series.times!.length, 6);
    assert.equal(lin.series.times![4], Date.UTC(2020, 0, 5));
    assert.deepEqual(lin.problems.map((p) => `${p.kind}:${p.column}:${p.row}:${p.got}`), ['cell:y:1:an empty cell', "cell:y:3:'x'", 'gap:date:4:1 missing row after it']);
    assert.deepEqual(Array.from(fill('previous').series.values[0]!), [2, 2, 2, 4, 4, 8]);
    assert.deepEqual(Array.from(fill('zero').series.values[0]!), [0, 2, 0, 4, 0, 8]);
  });

  test('a constant column and a single row are read as they are', () => {
    const c = series('date,y,k\n2020-01-01,1,7\n2020-01-02,2,7\n', { columns: ['y', 'k'] });
    assert.deepEqual(Array.from(c.series.values[1]!), [7, 7]);
    const one = series('date,y\n2020-01-01,1\n');
    assert.equal(one.series.values[0]!.length, 1);
    assert.equal(one.series.frequency, null, 'no spacing from one row');
  });

  test('unknown columns, a header without rows, bad or mixed timestamps', () => {
    assert.throws(() => series('date,y\n2020-01-01,1\n', { columns: ['temp'] }),
      /expected a column 'temp', got columns \['date', 'y'\]/);
    assert.throws(() => series('date,y\n'), /at least one data row below the header, got none/);
    assert.throws(() => series('date,y\n2020-01-01,1\n31/01/2020,2\n'), /column 'date' row 2 \(line 3\): expected an ISO date or date-time .*, got '31\/01\/2020'/);
    assert.throws(() => series('date,y\n2020-01-01T00:00Z,1\n2020-01-01T01:00,2\n'), /all with a time zone or all without, got row 2 \(line 3\) differs/);
    assert.throws(() => series('date,y\n2020-01-02,1\n2020-01-01,2\n'), /increasing order, got row 2 \(line 3\) earlier than row 1 \(line 2\)/);
    assert.throws(() => series('date,y\n2020-01-01,1\n2020-01-01,2\n'), /each timestamp once/);
    const steps = seriesFromTable(parseCsv('y\n1\n2\n', W), { time: null, columns: ['y'], fill: null }, W);
    assert.equal(steps.series.times, null);
  });

  test('fillMissing: ends take the nearest value; an empty column cannot be filled', () => {
    const v = Float64Array.of(NaN, 1, NaN, NaN, 4, NaN);
    assert.deepEqual(Array.from(fillMissing(v, 'linear')), [1, 1, 2, 3, 4, 4]);
    assert.deepEqual(Array.from(fillMissing(v, 'previous')), [1, 1, 1, 1, 4, 4]);
    assert.throws(() => fillMissing(Float64Array.of(NaN, NaN), 'linear'), DataError);
  });
});
