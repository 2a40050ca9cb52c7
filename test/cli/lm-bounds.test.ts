import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { activationBytes, windowProblem } from '../../src/cli/lm-bounds.js';
import type { LanguageModelConfig } from '../../src/tasks/language-model/model.js';

const MODEL: LanguageModelConfig = {
  cell: 'lstm', vocab: 80, embed: 64, hidden: 256, layers: 2, dropout: 0, forgetBias: 0, seed: 1,
};
const GiB = 2 ** 30;

describe('the window of bptt train lm, bounded by the text and by memory', () => {
  test('the batch within the training tokens, the window within a stream', () => {
    assert.equal(windowProblem(MODEL, { batch: 16, seqLen: 32, strategy: { kind: 'full' } }, 1_000_000, GiB), null);
    assert.deepEqual(windowProblem(MODEL, { batch: 100, seqLen: 1, strategy: { kind: 'full' } }, 100, GiB)?.field,
      'batch');
    const long = windowProblem(MODEL, { batch: 4, seqLen: 1e9, strategy: { kind: 'full' } }, 1001, GiB);
    assert.deepEqual(long,
      { field: 'seqLen', want: 'at most 250, the steps in each of 4 streams of the 1001 training tokens', got: 1e9 });
  });

  test('a window whose activations exceed the cap: the longest that fits is named '
    + '(so is the batch when one step does not fit)', () => {
    // Moby Dick's 1.2 M characters in 16 streams, one window each: far more than 1 GiB.
    const w = { batch: 16, seqLen: 75_000, strategy: { kind: 'full' } as const };
    const p = windowProblem(MODEL, w, 1_200_001, GiB)!;
    assert.equal(p.field, 'seqLen');
    const fits = Number(/at most (\d+):/.exec(p.want)![1]);
    assert.ok(activationBytes(MODEL, { ...w, seqLen: fits }, 75_000) <= GiB
      && activationBytes(MODEL, { ...w, seqLen: fits + 1 }, 75_000) > GiB, p.want);
    assert.match(p.want, /the activations of longer windows would take more than the machine's 1\.0 GiB of memory$/);
    assert.equal(windowProblem(MODEL, { ...w, strategy: { kind: 'truncated', k1: 32, k2: 32 } }, 1_200_001, GiB), null,
      'truncated BPTT keeps k2 steps');
    assert.equal(windowProblem(MODEL, { ...w, strategy: { kind: 'checkpointed' } }, 1_200_001, GiB), null,
      'checkpointed BPTT keeps about 2√T steps');
    const wide = windowProblem(MODEL, { batch: 100_000, seqLen: 1, strategy: { kind: 'full' } }, 1_200_001, 2 ** 20);
    assert.equal(wide?.field, 'batch');
  });
});
