import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Bptt, type Strategy, type UpdateReport } from '../../src/bptt/index.js';
import { DataParallel, WorkerError, rowRange, shardTensor } from '../../src/bptt/node/parallel.js';
import { decodeBatch, encodeBatch } from '../../src/bptt/node/parallel-protocol.js';
import { kernels, wasmBackend } from '../../src/kernels/index.js';
import type { HiddenState } from '../../src/nn/index.js';
import { Adam, SGD } from '../../src/optim/index.js';
import { ConfigError, DataError, Tensor } from '../../src/tensor/index.js';
import { RowRegressor, rowBatch, type ReplicaConfig, type RowBatch } from './replica-model.js';

const MODULE = new URL('./replica-model.js', import.meta.url);
const T = 12, B = 5, F = 3, H = 6;

type Opt = 'sgd' | 'adam';
interface Setup {
  config: ReplicaConfig;
  strategy: Strategy;
  stateful?: boolean;
  clipNorm?: number | null;
  optimizer: Opt;
}

function build(s: Setup): { model: RowRegressor; params: ReturnType<RowRegressor['parameters']>; optimizer: SGD | Adam } {
  const { model } = { model: new RowRegressor(s.config) };
  const params = model.parameters();
  const optimizer = s.optimizer === 'sgd' ? new SGD(params, { lr: 0.05, momentum: 0.5 }) : new Adam(params, { lr: 1e-2 });
  return { model, params, optimizer };
}

type Feed = Array<{ batch: RowBatch; reset?: number[] }>;

/** Single-threaded on the whole batch against 1 worker + main; returns the parameters of both and the reports. */
async function compare(s: Setup, feed: Feed, workers = 1): Promise<{ single: Float32Array[]; parallel: Float32Array[]; a: UpdateReport[]; b: UpdateReport[] }> {
  const one = build(s);
  const engine = new Bptt<RowBatch, HiddenState>({ model: one.model, parameters: one.params, optimizer: one.optimizer, strategy: s.strategy, stateful: s.stateful, clipNorm: s.clipNorm });
  const a = feed.flatMap((f) => engine.trainBatch(f.batch, f.reset ? { reset: f.reset } : {}));

  const two = build(s);
  const dp = await DataParallel.start<RowBatch, HiddenState>({
    model: two.model, parameters: two.params, optimizer: two.optimizer, strategy: s.strategy, stateful: s.stateful, clipNorm: s.clipNorm,
    module: MODULE, config: s.config, workers,
  });
  try {
    const b = feed.flatMap((f) => dp.trainBatch(f.batch, f.reset ? { reset: f.reset } : {}));
    assert.ok(two.params.every((p) => p.data.buffer instanceof SharedArrayBuffer), 'parameters live in shared memory');
    const w = wasmBackend();
    if (w && kernels() === w && w.sharedMemory) assert.ok(two.params.every((p) => w.isResident(p.data)), 'in the wasm memory, where kernels use them in place');
    return { single: one.params.map((p) => Float32Array.from(p.data)), parallel: two.params.map((p) => Float32Array.from(p.data)), a, b };
  } finally {
    await dp.close();
  }
}

function assertClose(got: Float32Array[], want: Float32Array[], rel = 1e-5): void {
  let worst = 0;
  got.forEach((g, i) => g.forEach((v, j) => {
    const w = want[i]![j]!;
    worst = Math.max(worst, Math.abs(v - w) / Math.max(Math.abs(w), 1e-2));
  }));
  assert.ok(worst <= rel, `largest relative difference ${worst.toExponential(2)} > ${rel}`);
}

function assertReports(a: UpdateReport[], b: UpdateReport[]): void {
  assert.equal(b.length, a.length);
  a.forEach((r, i) => {
    const q = b[i]!;
    assert.equal(q.terms, r.terms, `update ${i}: terms`);
    assert.equal(q.skipped === null, r.skipped === null, `update ${i}: skipped`);
    if (Number.isNaN(r.loss)) assert.ok(Number.isNaN(q.loss));
    else assert.ok(Math.abs(q.loss - r.loss) <= 1e-5 * Math.max(1, Math.abs(r.loss)), `update ${i}: loss ${q.loss} vs ${r.loss}`);
    if (Number.isFinite(r.gradNorm)) assert.ok(Math.abs(q.gradNorm - r.gradNorm) <= 1e-5 * Math.max(1, r.gradNorm), `update ${i}: norm ${q.gradNorm} vs ${r.gradNorm}`);
    assert.equal(q.clipped, r.clipped, `update ${i}: clipped`);
  });
}

const stream = (n: number, seed: number, o: Parameters<typeof rowBatch>[4] = {}): Feed => Array.from({ length: n }, (_, i) => ({ batch: rowBatch(T, B, F, seed + i, o) }));

describe('DataParallel equals single-threaded training on the whole batch', () => {
  const lstm: ReplicaConfig = { kind: 'lstm', inputSize: F, hiddenSize: H, seed: 3 };
  const gru: ReplicaConfig = { kind: 'gru', inputSize: F, hiddenSize: H, numLayers: 2, seed: 4 };

  test('full BPTT, LSTM, SGD with momentum, 3 updates', async () => {
    const r = await compare({ config: lstm, strategy: { kind: 'full' }, optimizer: 'sgd' }, stream(3, 10));
    assertReports(r.a, r.b);
    assertClose(r.parallel, r.single);
  });

  test('full BPTT, GRU 2 layers, Adam, clipping fires', async () => {
    const r = await compare({ config: gru, strategy: { kind: 'full' }, optimizer: 'adam', clipNorm: 0.05 }, stream(3, 20));
    assert.ok(r.a.every((x) => x.clipped), 'the clip threshold is low enough to fire');
    assertReports(r.a, r.b);
    assertClose(r.parallel, r.single);
  });

  test('truncated BPTT(3, 7), LSTM, SGD: four updates per batch', async () => {
    const r = await compare({ config: lstm, strategy: { kind: 'truncated', k1: 3, k2: 7 }, optimizer: 'sgd' }, stream(2, 30));
    assert.equal(r.a.length, 8);
    assertReports(r.a, r.b);
    assertClose(r.parallel, r.single);
  });

  test('stateful TBPTT(4, 6), GRU, reset masks split with the rows', async () => {
    const feed: Feed = [
      { batch: rowBatch(T, B, F, 40) },
      { batch: rowBatch(T, B, F, 41), reset: [1, 0, 0, 1, 0] },
      { batch: rowBatch(T, B, F, 42), reset: [0, 1, 0, 0, 1] },
    ];
    const r = await compare({ config: gru, strategy: { kind: 'truncated', k1: 4, k2: 6 }, stateful: true, optimizer: 'sgd' }, feed);
    assertReports(r.a, r.b);
    assertClose(r.parallel, r.single);
  });

  test('checkpointed BPTT, LSTM, Adam', async () => {
    const r = await compare({ config: lstm, strategy: { kind: 'checkpointed', segment: 4 }, optimizer: 'adam' }, stream(2, 50));
    assertReports(r.a, r.b);
    assertClose(r.parallel, r.single);
  });

  test('windows where one shard, or every shard, has no targets', async () => {
    // Rows 0-1 (the main thread's shard of 2) never count; no targets before step 5: the first window is empty everywhere.
    const feed = stream(2, 60, { mask: [0, 0, 1, 1, 1], firstTarget: 5 });
    const r = await compare({ config: lstm, strategy: { kind: 'truncated', k1: 4 }, optimizer: 'adam' }, feed);
    assert.equal(r.a[0]!.terms, 0);
    assert.ok(r.a[1]!.terms > 0);
    assertReports(r.a, r.b);
    assertClose(r.parallel, r.single);
    // And the other way round: only the main thread's rows count.
    const back = await compare({ config: gru, strategy: { kind: 'truncated', k1: 4 }, optimizer: 'sgd' }, stream(2, 70, { mask: [1, 1, 0, 0, 0], firstTarget: 5 }));
    assertReports(back.a, back.b);
    assertClose(back.parallel, back.single);
  });

  test('three shards (2 workers), more workers than cores is allowed', async () => {
    const r = await compare({ config: lstm, strategy: { kind: 'truncated', k1: 6 }, stateful: true, optimizer: 'sgd' }, stream(2, 80), 2);
    assertReports(r.a, r.b);
    assertClose(r.parallel, r.single);
  });
});

describe('DataParallel guards and errors', () => {
  const config: ReplicaConfig = { kind: 'lstm', inputSize: F, hiddenSize: H, seed: 5 };

  test('NaN guard: a NaN in a worker\'s rows skips the update on every thread, then training goes on alike', async () => {
    // Row 4 belongs to the worker (rows 2-4 of 5); the NaN at step 2 poisons its loss.
    const feed: Feed = [{ batch: rowBatch(T, B, F, 90, { nanAt: [2, 4] }) }, { batch: rowBatch(T, B, F, 91) }];
    const r = await compare({ config, strategy: { kind: 'full' }, optimizer: 'adam' }, feed);
    assert.match(r.b[0]!.skipped ?? '', /^update 1: loss is NaN; the non-finite loss came from the rows of worker 1/);
    assert.equal(r.b[1]!.skipped, null);
    assertReports(r.a, r.b);
    assertClose(r.parallel, r.single);
  });

  test('the main thread counts every shard\'s skips: K in a row end training; continueFrom numbers on', async () => {
    const m = { model: new RowRegressor(config) };
    const params = m.model.parameters();
    const optimizer = new Adam(params, { lr: 1e-2 });
    const dp = await DataParallel.start<RowBatch, HiddenState>({
      model: m.model, parameters: params, optimizer, module: MODULE, config, workers: 1, maxConsecutiveSkips: 3,
    });
    try {
      dp.continueFrom(40);
      const bad = (seed: number) => rowBatch(T, B, F, seed, { nanAt: [2, 4] }); // row 4: the worker's
      const [first] = dp.trainBatch(bad(1));
      assert.match(first!.skipped ?? '', /^update 41: loss is NaN; the non-finite loss came from the rows of worker/);
      dp.trainBatch(bad(2));
      const weights = params.map((p) => Float32Array.from(p.data));
      const message = /fewer than 3 consecutive updates skipped by the NaN guard, got 3, updates 41 to 43; the first/;
      assert.throws(() => dp.trainBatch(bad(3)), (e: unknown) => e instanceof DataError && message.test(e.message));
      assert.deepEqual(params.map((p) => Float32Array.from(p.data)), weights);
      assert.throws(() => dp.trainBatch(rowBatch(T, B, F, 4)), /unusable after an earlier error/);
    } finally {
      await dp.close();
    }
  });

  test('weights replaced after start (loadStateDict) reach the workers', async () => {
    const setup: Setup = { config, strategy: { kind: 'truncated', k1: 4 }, optimizer: 'sgd' };
    const fresh = new RowRegressor({ ...config, seed: 99 });
    const one = build(setup);
    one.model.rnn.loadStateDict(fresh.rnn.stateDict());
    const engine = new Bptt<RowBatch, HiddenState>({ model: one.model, parameters: one.params, optimizer: one.optimizer, strategy: setup.strategy });
    const two = build(setup);
    const dp = await DataParallel.start<RowBatch, HiddenState>({ model: two.model, parameters: two.params, optimizer: two.optimizer, strategy: setup.strategy, module: MODULE, config, workers: 1 });
    try {
      two.model.rnn.loadStateDict(fresh.rnn.stateDict()); // new arrays, not the shared ones
      for (const seed of [1, 2]) {
        engine.trainBatch(rowBatch(T, B, F, seed));
        dp.trainBatch(rowBatch(T, B, F, seed));
      }
      assert.ok(two.params.every((p) => p.data.buffer instanceof SharedArrayBuffer));
      assertClose(two.params.map((p) => Float32Array.from(p.data)), one.params.map((p) => Float32Array.from(p.data)));
    } finally {
      await dp.close();
    }
  });

  test('a worker that throws gives a clear error on the main thread, and the trainer refuses further batches', async () => {
    const m = { model: new RowRegressor(config) };
    const params = m.model.parameters();
    const dp = await DataParallel.start<RowBatch, HiddenState>({
      model: m.model, parameters: params, optimizer: new SGD(params, { lr: 0.1 }), module: MODULE, config: { ...config, failInWorker: true }, workers: 1,
    });
    try {
      const t0 = performance.now();
      assert.throws(() => dp.trainBatch(rowBatch(T, B, F, 1)), (e: unknown) => {
        assert.ok(e instanceof WorkerError, String(e));
        assert.match(e.message, /DataParallel worker 1: RangeError: replica-model: deliberate failure in a worker/);
        return true;
      });
      assert.ok(performance.now() - t0 < 10_000, 'reported at once, not after a timeout');
      assert.throws(() => dp.trainBatch(rowBatch(T, B, F, 2)), /unusable after an earlier error/);
    } finally {
      await dp.close();
    }
  });

  test('a replica whose parameters do not match fails at start', async () => {
    const m = { model: new RowRegressor(config) };
    const params = m.model.parameters();
    await assert.rejects(DataParallel.start<RowBatch, HiddenState>({
      model: m.model, parameters: params, optimizer: new SGD(params, { lr: 0.1 }), module: MODULE, config: { ...config, hiddenSize: H + 1 }, workers: 1,
    }), (e: unknown) => e instanceof WorkerError && /parameter 0: expected 'weight_ih_l0' float32 \[24, 3\]/.test(e.message));
  });

  test('bad options and batches', async () => {
    const m = { model: new RowRegressor(config) };
    const params = m.model.parameters();
    const base = { model: m.model, parameters: params, optimizer: new SGD(params, { lr: 0.1 }), module: MODULE, config };
    await assert.rejects(DataParallel.start({ ...base, workers: -1 }), ConfigError);
    await assert.rejects(DataParallel.start({ ...base, workers: 1, threads: 2 } as never), /options among/);
    await assert.rejects(DataParallel.start({ ...base, module: new URL('./models.js', import.meta.url), workers: 1 }), /createReplica\(config\) and shard/);
    const dp = await DataParallel.start<RowBatch, HiddenState>({ ...base, workers: 1 });
    try {
      assert.throws(() => dp.trainBatch(rowBatch(T, B, F, 1), { reset: [1, 0, 0, 0, 0] }), /reset only in stateful mode/);
      assert.throws(() => dp.trainBatch({ ...rowBatch(T, B, F, 1), x: null } as unknown as RowBatch), TypeError); // shard() fails
      assert.equal(dp.trainBatch(rowBatch(T, B, F, 1)).length, 1, 'still usable after a batch refused before posting');
    } finally {
      await dp.close();
    }
    assert.throws(() => dp.trainBatch(rowBatch(T, B, F, 1)), /closed/);
  });

  test('workers: 0 is the plain single-threaded engine', async () => {
    const m = { model: new RowRegressor(config) };
    const params = m.model.parameters();
    const dp = await DataParallel.start<RowBatch, HiddenState>({ model: m.model, parameters: params, optimizer: new SGD(params, { lr: 0.1 }), module: MODULE, config, workers: 0 });
    assert.equal(dp.workers, 0);
    assert.equal(dp.trainBatch(rowBatch(T, B, F, 1)).length, 1);
    assert.ok(!(params[0]!.data.buffer instanceof SharedArrayBuffer));
    await dp.close();
  });
});

describe('row splitting', () => {
  test('rowRange covers the rows once, in order', () => {
    for (const [rows, count] of [[5, 2], [32, 2], [7, 3], [2, 3]] as const) {
      let next = 0;
      for (let i = 0; i < count; i++) {
        const [lo, hi] = rowRange(rows, i, count);
        assert.equal(lo, next);
        next = hi;
      }
      assert.equal(next, rows);
    }
  });

  test('batches cross threads with their Tensors; functions and class instances are refused', () => {
    const t = new Tensor([2, 1], Float32Array.of(1, 2));
    const back = structuredClone(encodeBatch({ a: [t, 3], b: { c: 'x', d: Int32Array.of(5) } })) as unknown;
    const got = decodeBatch(back) as { a: [Tensor, number]; b: { c: string; d: Int32Array } };
    assert.ok(got.a[0] instanceof Tensor);
    assert.deepEqual(got.a[0].toArray(), [1, 2]);
    assert.deepEqual([got.a[1], got.b.c, got.b.d[0]], [3, 'x', 5]);
    assert.throws(() => encodeBatch({ x: t, steps: () => 1 }), (e: unknown) => e instanceof DataError && /batch\.steps/.test(e.message));
    assert.throws(() => encodeBatch({ m: new Map() }), /an instance of Map/);
  });

  test('shardTensor takes rows along an axis', () => {
    const t = new Tensor([2, 3, 2], Float32Array.from({ length: 12 }, (_, i) => i));
    assert.deepEqual(shardTensor(t, 1, 1, 2).toArray(), [2, 3, 4, 5, 8, 9, 10, 11]);
    assert.deepEqual(shardTensor(t, 1, 1, 2).shape, [2, 2, 2]);
    assert.deepEqual(shardTensor(t, 0, 0, 2).toArray(), [0, 1, 2, 3, 4, 5]);
  });
});
