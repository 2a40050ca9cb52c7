/** Property tests of text files, tokenisers and vocabularies: round trips, and arbitrary bytes or JSON give a value or a DataError. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { readTextFile } from '../../src/data/node/text-files.js';
import { detokenize, tokenize } from '../../src/data/tokens.js';
import { UNKNOWN, Vocabulary, type VocabularyJSON } from '../../src/data/vocabulary.js';
import { RUNS, bytesWithPrefix, valueOrBpttError } from './arbitraries.js';

const tmp = mkdtempSync(join(tmpdir(), 'bptt-prop-text-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let files = 0;
const fileWith = (bytes: Uint8Array | string): string => {
  const p = join(tmp, `f${files++}.txt`);
  writeFileSync(p, bytes);
  return p;
};

/** Text of words, numbers, punctuation, quotes and line breaks. */
const prose = fc.string({ unit: fc.constantFrom('the', 'Whale', 'don’t', "it's", 'well-known', '3.14', '1,000', ',', '.', '!', '?', '"', "'", '(', ')', '“', '”', '—', '\n', ' ', ' ', 'é', '😀', '\t'), maxLength: 30 });

describe('text file properties', () => {
  test('arbitrary bytes (some UTF-8 text, some with a BOM) read as text or throw a BpttError', () => {
    const bom = Uint8Array.of(0xef, 0xbb, 0xbf);
    fc.assert(fc.property(bytesWithPrefix(bom, new TextEncoder().encode('Call me Ishmael.')), (bytes) => {
      valueOrBpttError(() => readTextFile(fileWith(bytes)), (text) => {
        assert.ok(text.trim() !== '' && !text.includes('\x00') && text.charCodeAt(0) !== 0xfeff);
      });
    }), { numRuns: 100 });
  });

  test('any non-blank UTF-8 text without NUL reads back as written (a leading BOM dropped)', () => {
    const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => s.trim() !== '' && !s.includes('\x00') && s.charCodeAt(0) !== 0xfeff);
    fc.assert(fc.property(text, fc.boolean(), (s, bom) => {
      assert.equal(readTextFile(fileWith((bom ? '\uFEFF' : '') + s)), s);
    }), { numRuns: 100 });
  });
});

describe('tokeniser and vocabulary properties', () => {
  test('characters: detokenize(tokenize(s)) is s, for any string (lone surrogates too)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (s) => {
      assert.equal(detokenize(tokenize(s, 'char'), 'char'), s);
    }), RUNS);
  });

  test('words: joined tokens tokenize to the same tokens', () => {
    fc.assert(fc.property(prose, (s) => {
      const tokens = tokenize(s, 'word');
      assert.deepEqual(tokenize(detokenize(tokens, 'word'), 'word'), tokens, JSON.stringify(s));
    }), RUNS);
  });

  test('a vocabulary built from a text encodes and decodes it exactly, and survives toJSON/fromJSON', () => {
    fc.assert(fc.property(fc.oneof(prose, fc.string({ unit: 'binary', maxLength: 30 })), fc.constantFrom('char' as const, 'word' as const), (s, level) => {
      const v = Vocabulary.build(s, level);
      const { ids, unknown } = v.encode(s);
      const known = tokenize(s, level).filter((t) => t !== UNKNOWN).length;
      assert.equal(unknown, tokenize(s, level).length - known);
      if (unknown === 0) assert.deepEqual(tokenize(v.decode(ids), level), tokenize(s, level));
      if (level === 'char' && unknown === 0) assert.equal(v.decode(ids), s);
      const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(v.toJSON())) as VocabularyJSON);
      assert.deepEqual(back.tokens, v.tokens);
      assert.deepEqual([...back.encode(s).ids], [...ids]);
    }), RUNS);
  });

  test('fromJSON of arbitrary JSON (a manifest edited by hand) gives a vocabulary or a BpttError', () => {
    const tokens = fc.oneof(fc.array(fc.oneof(fc.constant(UNKNOWN), fc.string({ maxLength: 2 })), { maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }));
    const json = fc.oneof(fc.record({ level: fc.oneof(fc.constantFrom('char', 'word', 'byte'), fc.jsonValue({ maxDepth: 1 })), tokens }, { requiredKeys: [] }), fc.jsonValue({ maxDepth: 2 }));
    fc.assert(fc.property(json, (j) => {
      valueOrBpttError(() => Vocabulary.fromJSON(j as unknown as VocabularyJSON), (v) => {
        assert.equal(v.tokens[0], UNKNOWN);
        assert.equal(new Set(v.tokens).size, v.size);
      });
    }), { numRuns: 300 });
  });
});
