import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { copyMemoryBaseline, copyMemoryBatch, addingBatch } from '../../src/data/index.js';
import { Rng } from '../../src/tensor/index.js';
import type { AddingModel } from '../../src/tasks/adding/index.js';
import { trainAdding } from '../../examples/adding.js';
import { fall, gradientFlow } from '../../examples/vanishing.js';

/** The stated budget: 1,600 updates of batch 32 (seed 1, Adam 1e-2, clip 1, forget-gate bias 1). */
const BUDGET = 1600;

describe('long-range dependencies (T = 100)', () => {
  let lstm: AddingModel;
  let testMse = Infinity;

  before(() => {
    ({ model: lstm, testMse } = trainAdding({ cell: 'lstm', T: 100, steps: BUDGET, hidden: 32, batch: 32, lr: 1e-2, forgetBias: 1, seed: 1 }));
  });

  test(`an LSTM solves the adding problem within ${BUDGET} updates: test MSE < 0.01 (predicting 1 gives 0.167)`, () => {
    assert.ok(testMse < 0.01, `test MSE ${testMse}`);
  });

  test('an untrained tanh RNN loses the gradient: ||dL/dh_t|| falls by more than 1e3 over 100 steps', () => {
    const rnnFall = fall(gradientFlow('rnn', { T: 100 }));
    assert.ok(rnnFall > 1e3, `fell by ${rnnFall}`);
  });

  test('the trained LSTM carries it: its ||dL/dh_t|| falls by far less (under 1e2, against over 1e3 for the RNN)', () => {
    const rnnFall = fall(gradientFlow('rnn', { T: 100 }));
    const lstmFall = fall(gradientFlow('lstm', { T: 100, model: lstm }));
    assert.ok(lstmFall < 1e2, `LSTM fell by ${lstmFall}`);
    assert.ok(lstmFall * 1e3 < rnnFall, `LSTM ${lstmFall} vs RNN ${rnnFall}`);
  });
});

describe('task generators', () => {
  test('adding problem: two markers, one in each half, target = sum of the marked values', () => {
    const b = addingBatch(new Rng(3), 10, 4);
    for (let r = 0; r < 4; r++) {
      const marked = [...Array(10).keys()].filter((t) => b.inputs[(t * 4 + r) * 2 + 1] === 1);
      assert.equal(marked.length, 2);
      assert.ok(marked[0]! < 5 && marked[1]! >= 5);
      const sum = marked.reduce((s, t) => s + b.inputs[(t * 4 + r) * 2]!, 0);
      assert.ok(Math.abs(sum - b.targets[r]!) < 1e-6);
    }
  });

  test('copy memory: ten symbols, a delimiter after the delay, the same symbols as targets at the end', () => {
    const delay = 15, B = 3;
    const b = copyMemoryBatch(new Rng(4), delay, B);
    assert.equal(b.steps, delay + 20);
    for (let r = 0; r < B; r++) {
      const at = (a: Int32Array, t: number) => a[t * B + r]!;
      for (let i = 0; i < 10; i++) {
        assert.ok(at(b.inputs, i) >= 1 && at(b.inputs, i) <= 8);
        assert.equal(at(b.targets, delay + 10 + i), at(b.inputs, i));
      }
      assert.equal(at(b.inputs, delay + 9), 9);
      for (let t = 10; t < delay + 20; t++) if (t !== delay + 9) assert.equal(at(b.inputs, t), 0);
      for (let t = 0; t < delay + 10; t++) assert.equal(at(b.targets, t), 0);
    }
    assert.ok(Math.abs(copyMemoryBaseline(100) - (10 * Math.log(8)) / 120) < 1e-12);
  });
});
