/** Error messages render whatever a hand-edited file holds, and never throw while doing it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expected, listOf, quoted, show, textOf } from '../../src/tensor/index.js';

test('show renders JSON values, strings quoted, and never throws', () => {
  assert.equal(show('lstm'), '"lstm"');
  assert.equal(show(NaN), 'NaN');
  assert.equal(show(undefined), 'undefined');
  assert.equal(show({ toString: 0 }), '{"toString":0}'); // String() throws on this
  assert.equal(show(10n), '10');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(show(cyclic), '[object Object]');
});

test('show cuts a long string to 200 characters and gives its length', () => {
  assert.equal(show('x'.repeat(200)), `"${'x'.repeat(200)}"`);
  assert.equal(show('x'.repeat(500)), `"${'x'.repeat(200)}…" (500 characters)`);
  const huge = 'lm'.repeat(50_000_000); // a 100 MB `task` field in a hand-edited manifest
  assert.equal(show(huge), `"${'lm'.repeat(100)}…" (100000000 characters)`);
  assert.equal(show('a\nb'), '"a\\nb"');
});

test('show cuts long strings and arrays inside a value', () => {
  assert.equal(show({ task: 'x'.repeat(500) }), `{"task":"${'x'.repeat(100)}… (500 characters)"}`);
  assert.equal(show(Array.from({ length: 1000 }, (_, i) => i)),
    '[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,"… (1000 in all)"]');
  assert.ok(show({ a: 'y'.repeat(10_000_000) }).length <= 200);
});

test('textOf and quoted cut long strings, never split a surrogate pair, and escape control characters', () => {
  assert.equal(textOf('y'.repeat(300)), `${'y'.repeat(200)}… (300 characters)`);
  assert.equal(quoted('gru'), "'gru'");
  assert.equal(quoted('z'.repeat(201)), `'${'z'.repeat(200)}…' (201 characters)`);
  assert.equal(quoted(3), '3');
  assert.equal(textOf(`${'a'.repeat(199)}😀tail`), `${'a'.repeat(199)}… (${199 + 2 + 4} characters)`);
  assert.equal(textOf('line\n\u001b[31mred'), 'line\\n\\u001b[31mred');
});

test('listOf cuts long lists and long items', () => {
  assert.equal(listOf(['a', 'b']), '[a, b]');
  assert.equal(listOf(['a', 'b'], quoted), "['a', 'b']");
  assert.match(listOf(Array.from({ length: 100 }, (_, i) => `w${i}`)), /^\[w0, w1, .*, w15, … \(100 in all\)\]$/);
  assert.equal(listOf(['q'.repeat(1000)]), `[${'q'.repeat(200)}… (1000 characters)]`);
});

test('textOf leaves strings as they are', () => {
  assert.equal(textOf('gru'), 'gru');
  assert.equal(textOf([1, 'a']), '[1,"a"]');
});

test('expected: where, what, got; long arrays cut', () => {
  assert.equal(expected('m', 'a cell', 'rnn2', 'see --help'), 'm: expected a cell, got rnn2 (see --help)');
  assert.equal(expected('m', 'a shape', [2, 3]), 'm: expected a shape, got [2, 3]');
  assert.equal(expected('m', 'x', [{ toString: 0 }]), 'm: expected x, got [{"toString":0}]');
  assert.match(expected('m', 'x', Array.from({ length: 1000 }, (_, i) => i)), /got \[0, 1, .*, 15, … \(1000 in all\)\]$/);
});

test('expected caps each part: a user string that reached it uncut still cannot flood stderr', () => {
  const message = expected('m', 'a cell', `task '${'t'.repeat(100_000)}'`);
  assert.equal(message, `m: expected a cell, got task '${'t'.repeat(994)}… (100007 characters)`);
  assert.equal(expected('w'.repeat(2000), 'x', 1).length,
    'm: expected x, got 1'.length - 1 + 1000 + ' (2000 characters)'.length + 1);
});
