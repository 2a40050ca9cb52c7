/**
 * The NaN guard over a run: a run of skipped updates ends training with a
 * DataError naming its first update (maxConsecutiveSkips), an optimizer step
 * that makes a weight non-finite ends it at once, and a resumed engine numbers
 * its updates on from the checkpoint's (continueFrom).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Bptt, type BpttOptions } from '../../src/bptt/index.js';
import type { HiddenState } from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';
import { ConfigError, DataError, expected } from '../../src/tensor/index.js';
import { Regressor, randomBatch, type RegressionBatch } from './models.js';

const T = 6, B = 2, F = 2, H = 4;

/** An engine on a fresh model; `clean(seed)`: a batch that trains, `poisoned(seed, t)`: a NaN target at step t. */
function setup(options: Partial<BpttOptions<RegressionBatch, HiddenState>> = {}) {
  const model = new Regressor('gru', { inputSize: F, hiddenSize: H, dtype: 'float32' });
  const optimizer = new SGD(model.parameters(), { lr: 0.01 });
  const engine = new Bptt({ model, parameters: model.parameters(), optimizer, ...options });
  const clean = (seed: number) => randomBatch(T, B, F, seed, 'float32');
  const poisoned = (seed: number, t = 2) => {
    const b = clean(seed);
    b.y.data[t * B] = NaN; // row 0
    return b;
  };
  const weights = () => model.parameters().map((p) => Float32Array.from(p.data));
  return { model, engine, clean, poisoned, weights };
}

describe('consecutive skipped updates', () => {
  test('the 10th update in a row skipped by the guard is a DataError naming the first; the weights stay', () => {
    const { engine, clean, poisoned, weights } = setup();
    engine.trainBatch(clean(1));
    const before = weights();
    for (let k = 0; k < 9; k++) {
      assert.match(engine.trainBatch(poisoned(10 + k))[0]!.skipped!, new RegExp(`^update ${k + 2}: loss is NaN`));
    }
    assert.throws(() => engine.trainBatch(poisoned(20)), (e: unknown) => {
      assert.ok(e instanceof DataError, String(e));
      assert.match(e.message, /^Bptt\.trainBatch: expected fewer than 10 consecutive updates skipped by the NaN/);
      assert.match(e.message, /got 10, updates 2 to 11; the first, update 2: loss is NaN; /);
      assert.match(e.message, /; first non-finite loss at time step 2 /);
      assert.match(e.message, /\(training diverged: /);
      return true;
    });
    assert.deepEqual(weights(), before, 'no update applied');
    assert.equal(engine.skippedUpdates, 10);
  });

  test('an applied update ends a run of skips; a window without targets neither ends nor extends it', () => {
    const { engine, poisoned } = setup({ maxConsecutiveSkips: 2, strategy: { kind: 'truncated', k1: 3 } });
    // A NaN at step 5: the first window (steps 0-2) trains, the second is skipped.
    for (let k = 0; k < 5; k++) {
      assert.deepEqual(engine.trainBatch(poisoned(k, 5)).map((r) => r.skipped === null), [true, false]);
    }
    assert.equal(engine.skippedUpdates, 5);
    // Update 10 was skipped; now the first window has no targets (update 11), and the second is skipped again.
    const empty = { ...poisoned(30, 5), targetSteps: (t: number) => t >= 3 };
    assert.throws(() => engine.trainBatch(empty), /got 2, updates 10 to 12; the first, update 10: loss is NaN/);
  });

  test('maxConsecutiveSkips: an integer >= 1, or null for never', () => {
    const message = /maxConsecutiveSkips an integer >= 1, or null/;
    const refused = (e: unknown): boolean => e instanceof ConfigError && message.test(e.message);
    for (const bad of [0, -1, 1.5, NaN, Infinity, '3']) {
      assert.throws(() => setup({ maxConsecutiveSkips: bad as number }), refused, String(bad));
    }
    const { engine, poisoned } = setup({ maxConsecutiveSkips: null });
    for (let k = 0; k < 30; k++) engine.trainBatch(poisoned(k));
    assert.equal(engine.skippedUpdates, 30);
    const one = setup({ maxConsecutiveSkips: 1 });
    assert.throws(() => one.engine.trainBatch(one.poisoned(1)), /fewer than 1 consecutive .*, got 1, updates 1 to 1;/);
  });

  test('an optimizer step that makes a weight non-finite is a DataError at once', () => {
    const model = new Regressor('gru', { inputSize: F, hiddenSize: H, dtype: 'float32' });
    const params = model.parameters();
    const sgd = new SGD(params, { lr: 0.01 });
    const optimizer = { step: () => (sgd.step(), (params[1]!.data[3] = Infinity)) }; // e.g. from a corrupt moment
    const engine = new Bptt({ model, parameters: params, optimizer });
    const message = /^Bptt\.trainBatch: update 1: expected finite weights after the optimizer step, got Infinity in/;
    const batch = randomBatch(T, B, F, 1, 'float32');
    assert.throws(() => engine.trainBatch(batch), (e: unknown) => e instanceof DataError && message.test(e.message)
      && / Infinity in weight_hh_l0 at index 3 /.test(e.message));
  });
});

test('a model that unrolls whole batches only still has its non-finite updates skipped (no replay by steps)', () => {
  const { model, poisoned } = setup();
  const whole = {
    steps: (b: RegressionBatch) => model.steps(b),
    unroll: (b: RegressionBatch, from: number, to: number, s: HiddenState | null, wantLoss: boolean) => {
      if (from !== 0 || to !== T) throw new ConfigError(expected('whole', `steps [0, ${T})`, `[${from}, ${to})`));
      return model.unroll(b, from, to, s, wantLoss);
    },
  };
  const parameters = model.parameters();
  const engine = new Bptt({ model: whole, parameters, optimizer: new SGD(parameters, { lr: 0.01 }) });
  const [r] = engine.trainBatch(poisoned(1));
  const want = 'update 1: loss is NaN; the model does not unroll step by step: the first bad step is unknown';
  assert.equal(r!.skipped, want);
});

describe('continueFrom', () => {
  test('a resumed engine numbers its updates, and its skip messages, on from the checkpoint\'s', () => {
    const { engine, clean, poisoned } = setup({ maxConsecutiveSkips: 3 });
    engine.trainBatch(poisoned(1));
    engine.trainBatch(poisoned(2));
    engine.continueFrom(500); // a restored run starts without skips
    assert.match(engine.trainBatch(poisoned(3))[0]!.skipped!, /^update 501: loss is NaN/);
    assert.equal(engine.trainBatch(clean(4))[0]!.update, 502);
    engine.trainBatch(poisoned(5));
    engine.trainBatch(poisoned(6));
    assert.throws(() => engine.trainBatch(poisoned(7)), /got 3, updates 503 to 505; the first, update 503: /);
    for (const bad of [-1, 1.5, NaN]) assert.throws(() => engine.continueFrom(bad), ConfigError);
  });
});
