import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Variable } from '../../src/autograd/index.js';
import type { UpdateReport } from '../../src/bptt/index.js';
import { mse } from '../../src/losses/index.js';
import { Linear } from '../../src/nn/index.js';
import { Adam, learningRate } from '../../src/optim/index.js';
import { ConfigError, Rng, Tensor } from '../../src/tensor/index.js';
import { Trainer, fit, type Callback, type FitOptions, type UpdateEngine, type UpdateEvent, type ValidationEvent } from
  '../../src/training/index.js';

type Batch = { x: Tensor; y: Tensor };

/** y = 2x - 1 with noise: a linear model learns it; batches of 8. */
function regression(seed: number, batches = 16): Batch[] {
  const rng = new Rng(seed);
  return Array.from({ length: batches }, () => {
    const x = Array.from({ length: 8 }, () => rng.range(-1, 1));
    return { x: Tensor.from(x, [8, 1]), y: Tensor.from(x.map((v) => 2 * v - 1 + 0.01 * rng.normal()), [8, 1]) };
  });
}

function setup(over: Partial<FitOptions<Batch>> = {}): FitOptions<Batch> & { model: Linear } {
  const model = new Linear(1, 1, { rng: new Rng(7) });
  const data = regression(1);
  const dev = regression(2, 2);
  const validate = (): number => dev.reduce((a, b) => a + mse(model.forward(new Variable(b.x, false)), b.y).item(), 0) / dev.length;
  return {
    model, data, optimizer: new Adam(model.parameters(), { lr: 0.05 }), budget: { steps: 40 }, seed: 3,
    loss: (b: Batch) => mse(model.forward(new Variable(b.x, false)), b.y), validate, ...over,
  } as FitOptions<Batch> & { model: Linear };
}

/** Records every event of a run. */
function recorder(): { updates: UpdateEvent[]; validations: ValidationEvent[]; interrupted: string[] } & Callback {
  const r = { updates: [] as UpdateEvent[], validations: [] as ValidationEvent[], interrupted: [] as string[] };
  return Object.assign(r, {
    onUpdate: (e: UpdateEvent) => void r.updates.push(e),
    onValidation: (v: ValidationEvent) => void r.validations.push(v),
    onInterrupt: (reason: string) => void r.interrupted.push(reason),
  });
}

/** An engine on a fake clock: every batch takes `ms` of training. */
function slowEngine(clock: { t: number }, ms: number): () => UpdateEngine<Batch, unknown> {
  let updates = 0;
  return () => ({
    trainBatch: (): UpdateReport[] => {
      clock.t += ms;
      updates++;
      return [{ update: updates, window: { start: 0, lossFrom: 0, end: 1, carryAt: null }, loss: 1, terms: 1,
        gradNorm: 1, clipped: false, skipped: null, flow: null }];
    },
    continueFrom: (n: number) => void (updates = n),
    resetState: () => {},
  });
}

describe('fit', () => {
  test('learns a linear map (loss of a batch, array data) and keeps the best validated weights', async () => {
    const o = setup({ budget: { steps: 200 } });
    const r = await fit(o);
    assert.equal(r.updates, 200);
    assert.equal(r.stoppedBy, 'budget');
    assert.ok(r.best!.score < 0.01, `best ${r.best!.score}`);
    assert.ok(Math.abs(o.model.weight.value.data[0]! - 2) < 0.1, `weight ${o.model.weight.value.data[0]}`);
    assert.equal((o.validate!() as number), r.best!.score, 'the model holds the best weights at the end');
  });

  test('a steps budget: the lr of update k follows the schedule at progress (k - 1) / steps', async () => {
    const events = recorder();
    const schedule = { kind: 'cosine' as const, lr: 0.05, warmup: 5, floor: 0 };
    await fit(setup({ schedule, budget: { steps: 30 }, callbacks: [events] }));
    assert.equal(events.updates.length, 30);
    for (const e of events.updates) {
      assert.equal(e.lr, learningRate(schedule, e.update, (e.update - 1) / 30));
      assert.equal(e.progress, e.update / 30);
    }
  });

  test('an epochs budget: 2.5 epochs of 16 batches are 40 updates', async () => {
    const r = await fit(setup({ budget: { epochs: 2.5 } }));
    assert.equal(r.updates, 40);
    assert.equal(r.epoch, 2.5);
  });

  test('cadence: every n updates, every share of an epoch, and the default (an epoch, >= 10 updates)', async () => {
    const at = async (evalEvery: FitOptions<Batch>['evalEvery'], steps: number): Promise<number[]> => {
      const events = recorder();
      await fit(setup({ evalEvery, budget: { steps }, callbacks: [events] }));
      return events.validations.map((v) => v.update);
    };
    assert.deepEqual(await at(7, 30), [7, 14, 21, 28, 30]);
    assert.deepEqual(await at({ epochs: 0.5 }, 30), [8, 16, 24, 30]);
    assert.deepEqual(await at(undefined, 160), Array.from({ length: 10 }, (_, i) => 16 * (i + 1)));
    assert.deepEqual(await at(undefined, 48), [10, 20, 30, 40, 48]);
  });

  test('early stopping: patience 2 stops after two validations without an improvement of minDelta', async () => {
    const events = recorder();
    let calls = 0;
    const scores = [5, 4, 3.95, 3.9, 1, 0];
    const r = await fit(setup({ validate: () => scores[calls++]!, evalEvery: 5, patience: 2, minDelta: 0.2,
      budget: { steps: 100 }, callbacks: [events] }));
    assert.equal(r.stoppedBy, 'patience');
    assert.equal(r.updates, 20);
    assert.deepEqual(events.validations.map((v) => [v.best, v.sinceBest]), [[true, 0], [true, 0], [false, 1],
      [false, 2]]);
    assert.equal(r.best!.score, 4);
  });

  test('a time budget: the run, validations included, ends by the deadline; the schedule follows training time only',
    async () => {
      const clock = { t: 0 };
      const events = recorder();
      const schedule = { kind: 'cosine' as const, lr: 0.05, warmup: 0, floor: 0 };
      const o = setup({
        schedule, budget: { time: 10 }, evalEvery: 20, clock: () => clock.t, startedAt: 0, reserveMs: 0,
        engine: slowEngine(clock, 10), callbacks: [events],
        validate: () => {
          clock.t += 300; // each validation costs 30 updates' time
          return 1;
        },
      });
      const r = await fit(o);
      assert.ok(clock.t <= 10_000, `ended at ${clock.t} ms`);
      assert.ok(clock.t >= 9_000, `ended early, at ${clock.t} ms`);
      assert.equal(r.trainMs, r.updates * 10);
      for (const e of events.updates) assert.equal(e.lr, learningRate(schedule, e.update, prev(e)));
      // after the first validation is measured, progress grows by the same step every update, validations or not
      const steps = events.updates.slice(25).map((e, i, all) => (i ? e.progress - all[i - 1]!.progress : NaN)).slice(1);
      const [lo, hi] = [Math.min(...steps), Math.max(...steps)];
      assert.ok(hi - lo < 1e-3, `progress steps from ${lo} to ${hi}`);
      function prev(e: UpdateEvent): number {
        return e.update === 1 ? events.updates[0]!.progress - (events.updates[1]!.progress - events.updates[0]!.progress)
          : events.updates[e.update - 2]!.progress;
      }
    });

  test('stop() ends the run after the update in progress; callbacks hear onInterrupt', async () => {
    const events = recorder();
    const stopper = { onUpdate: (e: UpdateEvent, t: Trainer<Batch>) => e.update === 7 && t.stop('SIGINT') };
    const r = await fit(setup({ callbacks: [events, stopper as never] }));
    assert.equal(r.stoppedBy, 'stopped');
    assert.equal(r.updates, 7);
    assert.deepEqual(events.interrupted, ['SIGINT']);
  });

  test('snapshot + restore continues bit-identically (optimiser, batch order, counts, best weights)', async () => {
    const whole = setup({ evalEvery: 4, budget: { steps: 30 } });
    await fit(whole);
    const first = setup({ evalEvery: 4, budget: { steps: 30 } });
    const stopper = { onUpdate: (e: UpdateEvent, t: Trainer<Batch>) => e.update === 13 && t.stop('test') };
    const t1 = new Trainer({ ...first, callbacks: [stopper as never] });
    await t1.fit();
    const state = structuredClone(await t1.snapshot());
    const best = new Map([...t1.best!.weights].map(([k, v]) => [k, v.clone()]));
    const second = setup({ evalEvery: 4, budget: { steps: 30 } });
    second.model.loadStateDict(first.model.stateDict());
    const t2 = new Trainer(second);
    await t2.restore(state, best);
    const r = await t2.fit();
    assert.equal(r.updates, 30);
    assert.deepEqual([...second.model.weight.value.data], [...whole.model.weight.value.data]);
    assert.deepEqual([...second.model.bias!.value.data], [...whole.model.bias!.value.data]);
  });

  test('bad options are ConfigErrors that name them', () => {
    const bad: Array<Partial<FitOptions<Batch>>> = [
      { budget: {} }, { budget: { steps: 0 } }, { budget: { time: -1 } }, { evalEvery: 0 },
      { evalEvery: { epochs: 0 } }, { patience: 0 }, { minDelta: -1 }, { patience: 2, validate: undefined },
      { loss: undefined }, { bogus: 1 } as never,
    ];
    for (const over of bad) assert.throws(() => new Trainer(setup(over)), ConfigError, JSON.stringify(over));
  });

  test('a model that is unrolled goes through the engine (no loss function)', async () => {
    const model = new Linear(1, 1, { rng: new Rng(1) });
    const unrolled = Object.assign(model, {
      steps: () => 1,
      unroll: (b: Batch) => ({ state: null, loss: mse(model.forward(new Variable(b.x, false)), b.y), terms: 1 }),
    });
    const r = await fit({ model: unrolled, data: regression(1), optimizer: new Adam(model.parameters(), { lr: 0.05 }),
      budget: { steps: 100 } });
    assert.equal(r.updates, 100);
    assert.ok(r.best === null);
    assert.ok(model.weight.value.data[0]! > 1.5, `weight ${model.weight.value.data[0]}`);
  });
});
