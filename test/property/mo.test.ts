/** Property tests of the gettext .mo reader: write → read round trips, and damaged or invented files give entries or a DataError. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { readMo, type MoEntry } from '../../src/data/mo.js';
import { RUNS, applyDamage, bytesWithPrefix, damage, valueOrBpttError } from './arbitraries.js';

/** A .mo writer after GNU msgfmt's layout: header, two tables of (length, offset), NUL-terminated strings. */
function writeMo(pairs: Array<[string, string]>, little: boolean): Uint8Array {
  const enc = new TextEncoder();
  const n = pairs.length;
  const originals = 28, translations = originals + n * 8;
  let at = translations + n * 8;
  const table: number[][] = [[], []];
  const blobs: Array<[Uint8Array, number]> = [];
  for (const pair of pairs) {
    pair.forEach((s, side) => {
      const bytes = enc.encode(s);
      table[side]!.push(bytes.length, at);
      blobs.push([bytes, at]);
      at += bytes.length + 1;
    });
  }
  const out = new Uint8Array(at);
  const view = new DataView(out.buffer);
  [0x950412de, 0, n, originals, translations, 0, 0].forEach((v, i) => view.setUint32(i * 4, v, little));
  [...table[0]!, ...table[1]!].forEach((v, i) => view.setUint32(originals + i * 4, v, little));
  for (const [b, a] of blobs) out.set(b, a);
  return out;
}

const HEADER = 'Content-Type: text/plain; charset=UTF-8\n';
/** Text without the separators the format itself uses (EOT between context and id, NUL between plural forms). */
const text = fc.string({ unit: 'binary', maxLength: 10 }).map((s) => s.replace(/[\x00\x04]/g, ''));
const entry: fc.Arbitrary<MoEntry> = fc.record({
  context: fc.option(text, { nil: null }),
  id: text.filter((s) => s !== ''),
  idPlural: fc.option(text, { nil: null }),
  strings: fc.array(text, { minLength: 1, maxLength: 3 }),
}, { noNullPrototype: true }).map((e) => (e.idPlural === null ? { ...e, strings: e.strings.slice(0, 1) } : e));

function pairOf(e: MoEntry): [string, string] {
  const id = (e.context !== null ? `${e.context}\x04` : '') + e.id + (e.idPlural !== null ? `\x00${e.idPlural}` : '');
  return [id, e.strings.join('\x00')];
}

const catalog = fc.uniqueArray(entry, { selector: (e) => pairOf(e)[0], maxLength: 6 });

function wellFormed(entries: MoEntry[]): void {
  for (const e of entries) {
    assert.equal(typeof e.id, 'string');
    assert.ok(e.strings.length >= 1);
  }
}

describe('.mo properties', () => {
  test('write then read gives the entries back (both byte orders, with contexts and plurals)', () => {
    fc.assert(fc.property(catalog, fc.boolean(), (entries, little) => {
      const header: MoEntry = { context: null, id: '', idPlural: null, strings: [HEADER] };
      const back = readMo(writeMo([header, ...entries].map(pairOf), little), 'prop.mo');
      assert.deepEqual(back, [header, ...entries]);
    }), RUNS);
  });

  test('a damaged catalog gives well-formed entries or a BpttError', () => {
    fc.assert(fc.property(catalog, fc.boolean(), damage, (entries, little, d) => {
      const pairs: Array<[string, string]> = [['', HEADER], ...entries.map(pairOf)];
      valueOrBpttError(() => readMo(applyDamage(writeMo(pairs, little), d), 'damaged.mo'), wellFormed);
    }), { numRuns: 400 });
  });

  test('arbitrary bytes (some with the magic) give entries or a BpttError', () => {
    const magic = (little: boolean): Uint8Array => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, 0x950412de, little);
      return b;
    };
    fc.assert(fc.property(bytesWithPrefix(magic(true), magic(false)), (bytes) => {
      valueOrBpttError(() => readMo(bytes, 'random.mo'), wellFormed);
    }), RUNS);
  });
});
