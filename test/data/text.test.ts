import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { TokenStreams, UNKNOWN, Vocabulary, detokenize, tokenize, type VocabularyJSON } from '../../src/data/index.js';
import { mobyDick, readTextFile } from '../../src/data/node/text-files.js';
import { ConfigError, DataError } from '../../src/tensor/index.js';

describe('tokenize / detokenize', () => {
  test('characters are code points and round-trip exactly (emoji, combining marks, CRLF)', () => {
    const text = 'Cafe\u0301 👍🏽 naïve\r\n🐋 — “quoted”\t\u200d end';
    const tokens = tokenize(text, 'char');
    assert.deepEqual(tokens, Array.from(text));
    assert.equal(detokenize(tokens, 'char'), text);
    // a surrogate pair is one token, a combining mark is its own token
    assert.ok(tokens.includes('🐋'));
    assert.ok(tokens.includes('\u0301'));
    assert.deepEqual(tokens.filter((t) => t.length === 2), ['👍', '🏽', '🐋'], 'astral code points are single tokens');
  });

  test('empty text has no tokens', () => {
    assert.deepEqual(tokenize('', 'char'), []);
    assert.deepEqual(tokenize('', 'word'), []);
    assert.equal(detokenize([], 'word'), '');
  });

  test('words: inner apostrophes stay, dashes and punctuation are tokens, numbers keep their point, newlines are tokens', () => {
    const tokens = tokenize("Don't stop—now! 3.14 apples\n", 'word');
    assert.deepEqual(tokens, ["Don't", 'stop', '—', 'now', '!', '3.14', 'apples', '\n']);
  });

  test('words are joined with single spaces, none before punctuation or around newlines', () => {
    const tokens = tokenize("Don't stop—now! 3.14 apples\n", 'word');
    assert.equal(detokenize(tokens, 'word'), "Don't stop — now! 3.14 apples\n");
    assert.equal(detokenize(tokenize('Hello, world. (Yes)\nNext line; “quote” [a] {b}', 'word'), 'word'), 'Hello, world. (Yes)\nNext line; “quote” [a] {b}');
  });

  // Moby Dick has 3094 straight double quotes and no curly ones, so every word-level sample shows this.
  test('an opening straight quote keeps its space before and none after', () => {
    const text = 'He said, "Call me Ishmael." Then he left.';
    assert.equal(detokenize(tokenize(text, 'word'), 'word'), text);
  });

  test('an unknown level is a ConfigError', () => {
    assert.throws(() => tokenize('abc', 'byte' as never), ConfigError);
  });
});

describe('Vocabulary', () => {
  test('build: <unk> first, then by frequency, ties in order of first appearance', () => {
    const v = Vocabulary.build('abbcccd', 'char');
    assert.deepEqual(v.tokens, [UNKNOWN, 'c', 'b', 'a', 'd']);
    assert.equal(v.size, 5);
    assert.equal(v.level, 'char');
    const w = Vocabulary.build('the cat saw the dog and the cat', 'word');
    assert.deepEqual(w.tokens, [UNKNOWN, 'the', 'cat', 'saw', 'dog', 'and']);
  });

  test('maxSize counts <unk> and keeps the most frequent', () => {
    const v = Vocabulary.build('abbcccdddd', 'char', 3);
    assert.deepEqual(v.tokens, [UNKNOWN, 'd', 'c']);
    assert.throws(() => Vocabulary.build('abc', 'char', 1), ConfigError);
    assert.throws(() => Vocabulary.build('abc', 'char', NaN), ConfigError);
  });

  test('encode counts unknown tokens as id 0; decode maps back', () => {
    const v = Vocabulary.build('abbcccdddd', 'char', 3);
    const { ids, unknown } = v.encode('dcxab');
    assert.deepEqual(Array.from(ids), [1, 2, 0, 0, 0]);
    assert.equal(unknown, 3);
    assert.ok(ids instanceof Int32Array);
    assert.equal(v.decode([1, 2, 1]), 'dcd');
    assert.equal(v.decode([0, 1]), `${UNKNOWN}d`);
    assert.equal(v.id('d'), 1);
    assert.equal(v.id('zzz'), 0);

    const w = Vocabulary.build('the cat saw the dog.', 'word');
    const e = w.encode('the dog saw a cat.');
    assert.equal(e.unknown, 1);
    assert.equal(w.decode(e.ids), `the dog saw ${UNKNOWN} cat.`);
  });

  test('toJSON / fromJSON round trip', () => {
    const v = Vocabulary.build('Call me Ishmael. Call me 🐋.', 'char');
    const j = JSON.parse(JSON.stringify(v.toJSON())) as VocabularyJSON;
    const back = Vocabulary.fromJSON(j);
    assert.deepEqual(back.tokens, v.tokens);
    assert.equal(back.level, 'char');
    assert.deepEqual(Array.from(back.encode('me 🐋').ids), Array.from(v.encode('me 🐋').ids));
    const w = Vocabulary.build('a b c a', 'word');
    assert.deepEqual(Vocabulary.fromJSON(w.toJSON()).toJSON(), w.toJSON());
  });

  test('fromJSON of bad input is a DataError', () => {
    const bad: unknown[] = [
      null, undefined, 42, 'char', {}, { level: 'byte', tokens: [UNKNOWN, 'a'] }, { level: 'char' }, { level: 'char', tokens: 'abc' },
      { level: 'char', tokens: [UNKNOWN, 1] }, { level: 'char', tokens: ['a', UNKNOWN] }, { level: 'char', tokens: [] },
      { level: 'char', tokens: [UNKNOWN, 'a', 'a'] },
    ];
    for (const j of bad) {
      assert.throws(() => Vocabulary.fromJSON(j as VocabularyJSON), (e: unknown) => e instanceof DataError && /Vocabulary/.test(e.message), JSON.stringify(j));
    }
  });
});

describe('TokenStreams', () => {
  const N = 23;
  const ids = Int32Array.from({ length: N }, (_, i) => i);

  test('stream b reads ids[b·L + t], targets one ahead, the last batch shorter', () => {
    const B = 3, steps = 3;
    const s = new TokenStreams(ids, B, steps);
    const L = Math.floor((N - 1) / B); // 7
    assert.equal(s.length, L);
    assert.equal(s.batchesPerEpoch, Math.ceil(L / steps)); // 3
    assert.equal(s.tokensPerEpoch, L * B);
    const seen: number[][] = [[], [], []];
    for (let k = 0; k < s.batchesPerEpoch; k++) {
      const b = s.get(k);
      assert.equal(b.batch, B);
      assert.equal(b.steps, k < 2 ? 3 : 1, `batch ${k} steps`);
      assert.equal(b.inputs.length, b.steps * B);
      for (let t = 0; t < b.steps; t++) {
        for (let r = 0; r < B; r++) {
          assert.equal(b.inputs[t * B + r], ids[r * L + k * steps + t]);
          assert.equal(b.targets[t * B + r], b.inputs[t * B + r]! + 1, 'target = next token');
          seen[r]!.push(b.inputs[t * B + r]!);
        }
      }
    }
    // each stream is one unbroken stretch of the text
    seen.forEach((s, r) => assert.deepEqual(s, Array.from({ length: L }, (_, t) => r * L + t)));
  });

  test('get outside the epoch is a DataError', () => {
    const s = new TokenStreams(ids, 2, 4);
    assert.throws(() => s.get(s.batchesPerEpoch), DataError);
    assert.throws(() => s.get(-1), DataError);
    assert.throws(() => s.get(0.5), DataError);
  });

  test('a text too short for the batch is a DataError that says so', () => {
    assert.throws(() => new TokenStreams(Int32Array.of(1, 2, 3), 3, 4), (e: unknown) => e instanceof DataError && /at least 4 tokens for 3 streams/.test(e.message) && /got 3 tokens/.test(e.message));
    assert.throws(() => new TokenStreams(Int32Array.of(1, 2, 3), 3, 4, 'my text'), /my text: expected/);
    assert.doesNotThrow(() => new TokenStreams(Int32Array.of(1, 2, 3, 4), 3, 4));
  });
});

describe('readTextFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bptt-text-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, bytes: string | Uint8Array): string => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    return p;
  };
  const rejects = (path: string, pattern: RegExp): void => {
    assert.throws(() => readTextFile(path), (e: unknown) => {
      assert.ok(e instanceof DataError, `DataError, got ${String(e)}`);
      assert.ok(e.message.includes(path), `names the file: ${e.message}`);
      assert.match(e.message, pattern);
      return true;
    });
  };

  test('reads UTF-8 text and strips a byte-order mark', () => {
    assert.equal(readTextFile(file('plain.txt', 'Call me Ishmael. 🐋\n')), 'Call me Ishmael. 🐋\n');
    assert.equal(readTextFile(file('bom.txt', '\ufeffCall me Ishmael.')), 'Call me Ishmael.');
  });

  test('missing, empty, whitespace-only, NUL byte, invalid UTF-8 and a directory are DataErrors that say which', () => {
    rejects(join(dir, 'missing.txt'), /no such file/);
    rejects(file('empty.txt', ''), /empty file/);
    rejects(file('blank.txt', ' \n\t\r\n  '), /only whitespace/);
    rejects(file('nul.bin', Uint8Array.of(0x61, 0x62, 0x00, 0x63)), /binary file \(a NUL byte at offset 2\)/);
    rejects(file('latin1.txt', Uint8Array.of(0x63, 0x61, 0x66, 0xe9, 0x0a)), /not valid UTF-8/);
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    rejects(sub, /a directory/);
  });
});

test('mobyDick(): the whole book, starting with the contents', () => {
  const text = mobyDick();
  assert.ok(text.length > 1_100_000, `${text.length} characters`);
  assert.ok(text.startsWith('CONTENTS'), JSON.stringify(text.slice(0, 40)));
  assert.ok(text.includes('CHAPTER 1. Loomings.'));
  assert.ok(text.includes('CHAPTER 1. Loomings.\n\nCall me Ishmael.'), 'the chapter heading precedes its text');
  assert.ok(text.includes('CHAPTER 135. The Chase.—Third Day.'), 'the last chapter');
});
