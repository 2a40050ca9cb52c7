/**
 * A 'language-model' checkpoint written before the run format (test/fixtures/old-checkpoints/lm, made by
 * main@f59f42f) still loads for use: `bptt sample` and `bptt eval` give what that code gave.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { loadLanguageModel } from '../../src/tasks/language-model/node/checkpoint.js';
import { cliSandbox } from './sandbox.js';

const { run } = cliSandbox('bptt-lm-old-');
const dir = fileURLToPath(new URL('../../../test/fixtures/old-checkpoints/lm/', import.meta.url));
const best = `${dir}best.json`;

describe('an lm checkpoint of the format before the run format', () => {
  test('loads as a run: task lm, its model, vocabulary and data source, no trainer state', () => {
    const c = loadLanguageModel(best);
    assert.equal(c.meta.task, 'lm');
    assert.equal(c.meta.model.hidden, 8);
    assert.equal(c.vocabulary.size, 16);
    assert.deepEqual(c.meta.data, [{ role: '--text', name: '/tmp/lmold-text.txt', sha256: '33842da07c71a529' }]);
    assert.equal(c.meta.trainer, null);
  });

  test('bptt sample gives the text the old code gave', { timeout: 60_000 }, () => {
    const r = run('sample', '--checkpoint', best, '--length', '40', '--seed', '3');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'cont.lstmsda  d.e\n atsslth\nla  \nsaldccoh\n');
  });

  test('bptt eval gives the score the old code gave', { timeout: 60_000 }, () => {
    const r = run('eval', '--checkpoint', best, '--text', `${dir}text.txt`, '--json');
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as { tokens: number; bits: number; perplexity: number };
    assert.equal(s.tokens, 952);
    assert.ok(Math.abs(s.bits - 3.9119828860178685) < 1e-9, `${s.bits} bits`);
    assert.ok(Math.abs(s.perplexity - 15.053039152357137) < 1e-7, `perplexity ${s.perplexity}`);
  });

  test('--resume from it is refused with a DataError saying there is no training state', { timeout: 60_000 }, () => {
    const r = run('train', '--resume', best, '--text', `${dir}text.txt`, '--quiet', '--out', 'resumed');
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^bptt: .*a training state to resume from/);
  });
});
