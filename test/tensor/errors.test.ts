/** Error messages render whatever a hand-edited file holds, and never throw while doing it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expected, show, textOf } from '../../src/tensor/index.js';

test('show renders JSON values, strings quoted, and never throws', () => {
  assert.equal(show('lstm'), '"lstm"');
  assert.equal(show(NaN), 'NaN');
  assert.equal(show(undefined), 'undefined');
  assert.equal(show({ toString: 0 }), '{"toString":0}'); // String() throws on this
  assert.equal(show(10n), '10');
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  assert.equal(show(cyclic), '[object Object]');
  assert.equal(show('x'.repeat(500)).length, 100);
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
