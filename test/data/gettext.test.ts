import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DROP_REASONS, cleanPairs, readMo, splitPairs, type MoEntry, type SentencePair } from '../../src/data/index.js';
import { gettextPairs } from '../../src/data/node/gettext.js';
import { DataError } from '../../src/tensor/index.js';

/** A tiny .mo writer: [original, translation] strings in the given byte order. */
function writeMo(strings: [string, string][], little = true): Uint8Array {
  const enc = new TextEncoder();
  const sorted = [...strings].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const n = sorted.length;
  const origTable = 28;
  const transTable = origTable + n * 8;
  let at = transTable + n * 8;
  const blobs: { bytes: Uint8Array; at: number }[] = [];
  const table: number[][] = [[], []];
  for (const pair of sorted) {
    pair.forEach((s, side) => {
      const bytes = enc.encode(s);
      table[side]!.push(bytes.length, at);
      blobs.push({ bytes, at });
      at += bytes.length + 1; // NUL terminator
    });
  }
  const out = new Uint8Array(at);
  const view = new DataView(out.buffer);
  [0x950412de, 0, n, origTable, transTable, 0, 0].forEach((v, i) => view.setUint32(i * 4, v, little));
  [...table[0]!, ...table[1]!].forEach((v, i) => view.setUint32(origTable + i * 4, v, little));
  for (const b of blobs) out.set(b.bytes, b.at);
  return out;
}

const HEADER: [string, string] = ['', 'Content-Type: text/plain; charset=UTF-8\nPlural-Forms: nplurals=2; plural=(n > 1);\n'];
const CATALOG: [string, string][] = [
  HEADER,
  ['Open the file', 'Ouvrir le fichier'],
  ['menu\x04Quit', 'Quitter'],
  ['%d file\x00%d files', '%d fichier\x00%d fichiers'],
  ['Déjà vu', 'Déjà vu – encore'],
];

const entry = (id: string, target: string, extra: Partial<MoEntry> = {}): MoEntry => ({ context: null, id, idPlural: null, strings: [target], ...extra });

describe('readMo', () => {
  for (const little of [true, false]) {
    test(`reads a ${little ? 'little' : 'big'}-endian catalog with a context, a plural and UTF-8`, () => {
      const entries = readMo(writeMo(CATALOG, little), 'test.mo');
      assert.equal(entries.length, 5);
      const byId = new Map(entries.map((e) => [e.id, e]));
      assert.deepEqual(byId.get('Quit'), { context: 'menu', id: 'Quit', idPlural: null, strings: ['Quitter'] });
      assert.deepEqual(byId.get('%d file'), { context: null, id: '%d file', idPlural: '%d files', strings: ['%d fichier', '%d fichiers'] });
      assert.deepEqual(byId.get('Déjà vu')?.strings, ['Déjà vu – encore']);
      assert.equal(byId.get('')?.strings[0], HEADER[1]);
    });
  }

  test('bad magic is a DataError naming the magic', () => {
    const bytes = writeMo(CATALOG);
    bytes[0] = 0;
    assert.throws(() => readMo(bytes, 'bad.mo'), (e) => e instanceof DataError && /bad\.mo.*magic/.test(e.message));
  });

  test('a file shorter than the header is a DataError', () => {
    assert.throws(() => readMo(writeMo(CATALOG).subarray(0, 12), 'short.mo'), (e) => e instanceof DataError && /at least 20 bytes/.test(e.message));
  });

  test('a truncated table is a DataError', () => {
    assert.throws(() => readMo(writeMo(CATALOG).subarray(0, 40), 'cut.mo'), (e) => e instanceof DataError && /table.*past the end/.test(e.message));
  });

  test('a string offset past the end is a DataError', () => {
    const bytes = writeMo(CATALOG);
    new DataView(bytes.buffer).setUint32(28 + 4, bytes.length + 100, true); // first original string's offset
    assert.throws(() => readMo(bytes, 'far.mo'), (e) => e instanceof DataError && /string 0.*past the end/.test(e.message));
  });

  test('a non-UTF-8 charset is rejected; non-ASCII without a header is rejected', () => {
    const latin = writeMo([['', 'Content-Type: text/plain; charset=ISO-8859-1\n'], ['Hello there you', 'Bonjour']]);
    assert.throws(() => readMo(latin, 'latin.mo'), (e) => e instanceof DataError && /iso-8859-1/.test(e.message));
    assert.throws(() => readMo(writeMo([['Café', 'Café']]), 'nohead.mo'), (e) => e instanceof DataError && /ASCII/.test(e.message));
    assert.equal(readMo(writeMo([['Plain text here', 'Texte simple ici']]), 'ascii.mo').length, 1);
  });

  test('entries that all point at one large string are refused before it is decoded for each', () => {
    assert.throws(() => readMo(sharedString(200, 100_000), 'shared.mo'), (e) => e instanceof DataError
      && new RegExp('^shared\\.mo: expected strings of at most 2\\d{5} bytes in all '
        + '\\(2× the file\'s size\\), got 40000000 bytes').test(e.message));
  });

  test('a msgstr of more than 16 plural forms is a DataError; a msgid keeps what follows its first NUL', () => {
    assert.throws(() => readMo(writeMo([['One file\x00Files', '\x00'.repeat(100)]]), 'nuls.mo'),
      (e) => e instanceof DataError
        && /^nuls\.mo: expected msgstr 0 of at most 16 plural forms, got more$/.test(e.message));
    const [e] = readMo(writeMo([['One file\x00Files\x00More', 'Un\x00Des']]), 'ids.mo');
    assert.deepEqual(e, { context: null, id: 'One file', idPlural: 'Files\x00More', strings: ['Un', 'Des'] });
  });
});

/** A catalog of `n` entries whose msgids and msgstrs all point at one ASCII string of `size` bytes. */
function sharedString(n: number, size: number): Uint8Array {
  const tables = 20, text = tables + 2 * n * 8;
  const bytes = new Uint8Array(text + size).fill(0x61, text);
  const view = new DataView(bytes.buffer);
  [0x950412de, 0, n, tables, tables + n * 8].forEach((v, i) => view.setUint32(i * 4, v, true));
  for (let i = 0; i < 2 * n; i++) {
    view.setUint32(tables + i * 8, size, true);
    view.setUint32(tables + i * 8 + 4, text, true);
  }
  return bytes;
}

describe('cleanPairs', () => {
  const cases: [string, MoEntry, string][] = [
    ['header', entry('', 'Content-Type: text/plain; charset=UTF-8'), 'header'],
    ['untranslated', entry('Open the file now', ''), 'untranslated'],
    ['plural', entry('One file was deleted', 'Un fichier supprimé', { idPlural: 'Many files were deleted', strings: ['Un fichier supprimé', 'Des fichiers supprimés'] }), 'plural'],
    ['multiline', entry('Open the\nfile now', 'Ouvrir le\nfichier'), 'multiline'],
    ['printf %s', entry('Cannot open file %s', 'Impossible d’ouvrir %s'), 'placeholder'],
    ['positional %1$s', entry('Cannot open file %1$s now', 'Impossible d’ouvrir %1$s'), 'placeholder'],
    ['brace {0}', entry('Cannot open file {0} now', 'Impossible d’ouvrir {0}'), 'placeholder'],
    ['brace {name}', entry('Cannot open the {name} file', 'Impossible d’ouvrir {name}'), 'placeholder'],
    ['shell ${x}', entry('Set the path to ${x} now', 'Régler le chemin à ${x}'), 'placeholder'],
    ['markup', entry('Click <b>here</b> to continue', 'Cliquez <b>ici</b> pour continuer'), 'placeholder'],
    ['tab', entry('Name of the\tfile here', 'Nom du\tfichier ici'), 'placeholder'],
    ['identical', entry('Linux kernel module loader', 'Linux kernel module loader'), 'identical'],
    ['no letter', entry('1 2 3 4', '5 6 7 8'), 'noLetter'],
    ['too short', entry('Open file', 'Ouvrir le fichier'), 'length'],
    ['too long', entry(Array(21).fill('word').join(' '), 'Une phrase très longue mais traduite'), 'length'],
  ];
  for (const [name, e, reason] of cases) {
    test(`drops ${name} as '${reason}'`, () => {
      const cleaned = cleanPairs([e]);
      assert.deepEqual(cleaned.pairs, []);
      assert.equal(cleaned.dropped[reason as (typeof DROP_REASONS)[number]], 1);
      assert.equal(Object.values(cleaned.dropped).reduce((a, b) => a + b, 0), 1);
    });
  }

  test('keeps a context entry, strips mnemonics, collapses whitespace', () => {
    const cleaned = cleanPairs([entry('_Save  the   document ', '_Enregistrer le document', { context: 'menu' }), entry('Tom & Jerry are friends', 'Tom & Jerry sont amis')]);
    assert.deepEqual(cleaned.pairs, [
      { source: 'Save the document', target: 'Enregistrer le document' },
      { source: 'Tom & Jerry are friends', target: 'Tom & Jerry sont amis' },
    ]);
  });

  test('keeps the first target for a source; counts duplicates and conflicts', () => {
    const cleaned = cleanPairs([
      entry('Open the file', 'Ouvrir le fichier'),
      entry('Open  the file', 'Ouvrir le fichier'),
      entry('Open the file', 'Ouvre le fichier'),
    ]);
    assert.deepEqual(cleaned.pairs, [{ source: 'Open the file', target: 'Ouvrir le fichier' }]);
    assert.equal(cleaned.entries, 3);
    assert.equal(cleaned.dropped.duplicate, 1);
    assert.equal(cleaned.dropped.conflict, 1);
  });

  test('reads and cleans a written catalog end to end', () => {
    const cleaned = cleanPairs(readMo(writeMo(CATALOG), 'test.mo'));
    assert.deepEqual(cleaned.pairs, [{ source: 'Open the file', target: 'Ouvrir le fichier' }]);
    assert.deepEqual([cleaned.dropped.header, cleaned.dropped.plural, cleaned.dropped.length], [1, 1, 2]);
  });
});

describe('splitPairs', () => {
  const pairs: SentencePair[] = Array.from({ length: 200 }, (_, i) => ({ source: `sentence number ${i}`, target: `phrase numéro ${i}` }));
  pairs.push({ source: 'sentence number 7', target: 'autre phrase sept' }); // a repeated source must stay in one part

  test('is deterministic, order-independent, disjoint by source and complete', () => {
    const a = splitPairs(pairs, 3, [0.8, 0.1, 0.1]);
    assert.deepEqual(splitPairs([...pairs].reverse(), 3, [0.8, 0.1, 0.1]).test.map((p) => p.source).sort(), a.test.map((p) => p.source).sort());
    assert.deepEqual(splitPairs(pairs, 3, [0.8, 0.1, 0.1]), a);
    assert.notDeepEqual(splitPairs(pairs, 4, [0.8, 0.1, 0.1]).test, a.test);
    const sources = [a.train, a.dev, a.test].map((part) => new Set(part.map((p) => p.source)));
    assert.equal(sources[0]!.size + sources[1]!.size + sources[2]!.size, 200);
    assert.equal(a.train.length + a.dev.length + a.test.length, 201);
    assert.deepEqual([sources[1]!.size, sources[2]!.size], [20, 20]);
  });

  test('bad fractions are rejected', () => {
    assert.throws(() => splitPairs(pairs, 1, [0.5, 0.1, 0.1]), /sum to 1/);
  });
});

const FR = '/usr/share/locale/fr/LC_MESSAGES';
describe('gettextPairs on this machine', () => {
  test('fr yields more than 1000 pairs', { skip: existsSync(FR) ? false : `${FR} is absent` }, () => {
    const got = gettextPairs('fr');
    assert.ok(got.pairs.length > 1000, `only ${got.pairs.length} pairs`);
    assert.ok(got.pairs.every((p) => !p.source.includes('\n') && !/%[sd]/.test(p.source)));
  });

  test('a missing language folder is a DataError', () => {
    assert.throws(() => gettextPairs('fr', '/nonexistent-locale-dir'), DataError);
  });

  test('a catalog of shared strings is skipped as unreadable, named with the reason; the others are read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bptt-gettext-'));
    try {
      const folder = join(dir, 'fr', 'LC_MESSAGES');
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, 'bomb.mo'), sharedString(200, 100_000));
      writeFileSync(join(folder, 'good.mo'), writeMo(CATALOG));
      const got = gettextPairs('fr', dir);
      assert.equal(got.files, 1);
      assert.deepEqual(got.pairs, [{ source: 'Open the file', target: 'Ouvrir le fichier' }]);
      assert.equal(got.unreadable.length, 1);
      assert.equal(got.unreadable[0]!.file, join(folder, 'bomb.mo'));
      assert.match(got.unreadable[0]!.reason, /^catalog '.*bomb\.mo': expected strings of at most \d+ bytes in all/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
