/** Property tests of the CSV reader and of timestamp parsing: round trips, and arbitrary input gives a value or a DataError. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseCsv, type CsvTable } from '../../src/data/node/csv.js';
import { formatTimestamp, inferFrequency, parseTimestamp, type TimeStyle } from '../../src/data/dates.js';
import { RUNS, valueOrBpttError } from './arbitraries.js';

/** A cell: any text without surrounding whitespace (the reader trims it). */
const cell = fc.string({ unit: fc.constantFrom('a', 'Z', '1', '.', '-', ',', '"', '\n', '\r\n', ' ', 'é', '€', '😀', ';', '\t'), maxLength: 6 }).map((s) => s.trim());
const field = (s: string): string => `"${s.replace(/"/g, '""')}"`;

const table = fc.integer({ min: 1, max: 4 }).chain((width) => fc.record({
  columns: fc.uniqueArray(cell.filter((s) => s !== ''), { minLength: width, maxLength: width }),
  rows: fc.array(fc.array(cell, { minLength: width, maxLength: width }), { maxLength: 5 })
    .map((rows) => rows.filter((r) => r.some((c) => c !== '') || width > 1)), // a lone empty cell is an empty line, skipped
  crlf: fc.boolean(),
  finalNewline: fc.boolean(),
}, { noNullPrototype: true }));

function wellFormed(t: CsvTable): void {
  assert.ok(t.columns.length >= 1);
  assert.equal(t.rows.length, t.lines.length);
  for (const r of t.rows) assert.equal(r.length, t.columns.length);
}

describe('CSV properties', () => {
  test('write (every field quoted) then parse gives the table back', () => {
    fc.assert(fc.property(table, ({ columns, rows, crlf, finalNewline }) => {
      const eol = crlf ? '\r\n' : '\n';
      const text = [columns, ...rows].map((r) => r.map(field).join(',')).join(eol) + (finalNewline ? eol : '');
      const t = parseCsv(text, 'prop.csv');
      assert.deepEqual(t.columns, columns);
      assert.deepEqual(t.rows, rows);
    }), RUNS);
  });

  test('arbitrary text (quotes, commas, line breaks, BOMs, NULs) gives a table or a BpttError', () => {
    const unit = fc.constantFrom('a', '1', ',', '"', '\n', '\r', ' ', '\uFEFF', '\x00', 'x,"y', '""', '\t');
    fc.assert(fc.property(fc.oneof(fc.string({ unit, maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 })), (text) => {
      valueOrBpttError(() => parseCsv(text, 'random.csv'), wellFormed);
    }), { numRuns: 400 });
  });
});

/** A time in years 0..9999 (what ISO 8601 writes with four digits) and how it is written back. */
const stamp = fc.record({
  year: fc.integer({ min: 0, max: 9999 }), month: fc.integer({ min: 0, max: 11 }), day: fc.integer({ min: 1, max: 28 }),
  hour: fc.integer({ min: 0, max: 23 }), minute: fc.integer({ min: 0, max: 59 }), second: fc.integer({ min: 0, max: 59 }), ms: fc.integer({ min: 0, max: 999 }),
  style: fc.constantFrom<TimeStyle>('month', 'date', 'datetime', 'datetime-utc'),
}, { noNullPrototype: true }).map((s) => {
  const d = new Date(0);
  const time = s.style === 'month' || s.style === 'date';
  d.setUTCFullYear(s.year, s.month, s.style === 'month' ? 1 : s.day);
  d.setUTCHours(time ? 0 : s.hour, time ? 0 : s.minute, time ? 0 : s.second, time ? 0 : s.ms);
  return { ms: d.getTime(), style: s.style };
});

describe('timestamp properties', () => {
  test('format then parse gives the same time and style, years 0000 to 9999', () => {
    fc.assert(fc.property(stamp, ({ ms, style }) => {
      const text = formatTimestamp(ms, style);
      assert.deepEqual(parseTimestamp(text), { ms, style }, text);
    }), RUNS);
  });

  test('arbitrary strings parse to a finite time or null, never throw', () => {
    const unit = fc.constantFrom('0', '1', '2', '9', '-', ':', 'T', ' ', 'Z', '+', '.', '3');
    fc.assert(fc.property(fc.oneof(fc.string({ unit, maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 })), (s) => {
      const p = parseTimestamp(s);
      if (p !== null) assert.ok(Number.isFinite(p.ms) && Math.abs(p.ms) <= 8.64e15, `${s} -> ${p.ms}`);
    }), { numRuns: 400 });
  });

  test('a zoned date-time that reads back is the same instant written in UTC', () => {
    fc.assert(fc.property(stamp, fc.integer({ min: -14 * 60, max: 14 * 60 }), ({ ms }, offset) => {
      const local = formatTimestamp(ms + offset * 60_000, 'datetime');
      const zone = `${offset < 0 ? '-' : '+'}${String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0')}:${String(Math.abs(offset) % 60).padStart(2, '0')}`;
      const p = parseTimestamp(local + zone);
      if (p === null) return; // outside years 0..9999 once shifted
      assert.equal(p.ms, ms, local + zone);
    }), RUNS);
  });

  test('inferFrequency of any times gives a spacing, null or a DataError', () => {
    const time = fc.integer({ min: -8.64e15, max: 8.64e15 });
    const regular = fc.tuple(time.map((t) => t / 1e3), fc.integer({ min: 1, max: 1e9 }), fc.array(fc.nat({ max: 3 }), { maxLength: 8 }))
      .map(([t0, step, gaps]) => gaps.reduce<number[]>((a, g) => [...a, a[a.length - 1]! + (g + 1) * step], [Math.round(t0)]));
    const months = fc.tuple(stamp, fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 8 })).map(([{ ms }, steps]) => {
      const d = new Date(ms);
      let k = 0;
      return [ms, ...steps.map((s) => { k += s; const e = new Date(ms); e.setUTCMonth(d.getUTCMonth() + k); return e.getTime(); })];
    });
    fc.assert(fc.property(fc.oneof(fc.array(time, { maxLength: 8 }), regular, months), (times) => {
      valueOrBpttError(() => inferFrequency(times, 'prop', (i) => `row ${i}`), (r) => {
        if (r === null) return;
        assert.ok(r.frequency.step > 0);
        for (const g of r.gaps) assert.ok(g.missing >= 1);
      });
    }), RUNS);
  });
});
