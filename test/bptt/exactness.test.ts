import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Variable, scale } from '../../src/autograd/index.js';
import { Bptt, detachState, windows, type Strategy } from '../../src/bptt/index.js';
import type { HiddenState } from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';
import { Tensor } from '../../src/tensor/index.js';
import { GradientRecorder, Regressor, randomBatch, type RegressionBatch } from './models.js';

const T = 10, B = 2, F = 3, H = 4;

function maxDiff(a: Float64Array[], b: Float64Array[]): number {
  let m = 0;
  a.forEach((x, i) => x.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i]![j]!)))));
  return m;
}

/**
 * Williams & Peng straight from the definition, one loss step at a time: for the
 * update ending at e, each step s in [e - k1, e) sends its error back through
 * the graph that starts at max(0, e - k2) from the trajectory's state there.
 */
function bruteForceTbptt(model: Regressor, batch: RegressionBatch, k1: number, k2: number): Float64Array[][] {
  const params = model.parameters();
  const out: Float64Array[][] = [];
  for (const w of windows(T, { kind: 'truncated', k1, k2 })) {
    for (const p of params) p.zeroGrad();
    const s0 = model.stateAt(batch, w.start, null);
    let terms = 0;
    const losses: Variable[] = [];
    for (let s = w.lossFrom; s < w.end; s++) {
      const head = s > w.start ? model.unroll(batch, w.start, s, s0 && detachState(s0), false).state : s0;
      const r = model.unroll(batch, s, s + 1, head, true);
      losses.push(r.loss!);
      terms += r.terms;
    }
    for (const l of losses) scale(l, 1 / terms).backward();
    out.push(params.map((p) => Float64Array.from(p.grad!.data)));
  }
  return out;
}

function engineGradients(model: Regressor, batch: RegressionBatch, strategy: Strategy): Float64Array[][] {
  const rec = new GradientRecorder(model.parameters());
  new Bptt({ model, parameters: model.parameters(), optimizer: rec, strategy }).trainBatch(batch);
  return rec.updates;
}

describe('truncated BPTT(k1, k2) equals the definition', () => {
  for (const kind of ['lstm', 'gru', 'rnn'] as const) {
    for (const [k1, k2] of [[3, 3], [2, 5], [3, 7], [4, 12], [10, 10], [1, 1]] as const) {
      test(`${kind}, 2 layers, T=${T}, k1=${k1}, k2=${k2}`, () => {
        const model = new Regressor(kind, { inputSize: F, hiddenSize: H, numLayers: 2, dtype: 'float64' });
        const batch = randomBatch(T, B, F, 5);
        const want = bruteForceTbptt(model, batch, k1, k2);
        const got = engineGradients(model, batch, { kind: 'truncated', k1, k2 });
        assert.equal(got.length, Math.ceil(T / k1));
        assert.equal(got.length, want.length);
        got.forEach((g, i) => assert.ok(maxDiff(g, want[i]!) < 1e-10, `update ${i}: ${maxDiff(g, want[i]!)}`));
      });
    }
  }

  test('k2 > k1 differs from k1 = k2 (the overlap really reaches back)', () => {
    const model = new Regressor('lstm', { inputSize: F, hiddenSize: H, dtype: 'float64' });
    const batch = randomBatch(T, B, F, 6);
    const a = engineGradients(model, batch, { kind: 'truncated', k1: 3, k2: 3 });
    const b = engineGradients(model, batch, { kind: 'truncated', k1: 3, k2: 6 });
    assert.ok(maxDiff(a[0]!, b[0]!) < 1e-14, 'the first window is the same: nothing before step 0');
    assert.ok(maxDiff(a[2]!, b[2]!) > 1e-6, 'later windows see further back');
  });

  test('k2 >= T: every window reaches back to step 0', () => {
    const model = new Regressor('gru', { inputSize: F, hiddenSize: H, dtype: 'float64' });
    const batch = randomBatch(T, B, F, 7);
    const ws = windows(T, { kind: 'truncated', k1: 3, k2: 50 });
    assert.ok(ws.every((w) => w.start === 0));
    const got = engineGradients(model, batch, { kind: 'truncated', k1: 3, k2: 50 });
    const want = bruteForceTbptt(model, batch, 3, 50);
    got.forEach((g, i) => assert.ok(maxDiff(g, want[i]!) < 1e-10));
  });
});

describe('checkpointed BPTT equals full BPTT', () => {
  for (const kind of ['lstm', 'gru', 'rnn'] as const) {
    for (const segment of [undefined, 1, 4, 23, 40]) {
      test(`${kind}, 2 layers, T=23, segment ${segment ?? '⌈√T⌉'}`, () => {
        const model = new Regressor(kind, { inputSize: F, hiddenSize: H, numLayers: 2, dtype: 'float64' });
        const batch = randomBatch(23, B, F, 8);
        const full = engineGradients(model, batch, { kind: 'full' });
        const ckpt = engineGradients(model, batch, { kind: 'checkpointed', segment });
        assert.equal(ckpt.length, 1);
        assert.ok(maxDiff(full[0]!, ckpt[0]!) < 1e-6, `max diff ${maxDiff(full[0]!, ckpt[0]!)}`);
        assert.ok(maxDiff(full[0]!, ckpt[0]!) < 1e-12, 'in fact equal to rounding');
      });
    }
  }

  test('with a carried initial state (stateful) and targets only at some steps', () => {
    const model = new Regressor('lstm', { inputSize: F, hiddenSize: H, dtype: 'float64' });
    const first = randomBatch(9, B, F, 9), second = { ...randomBatch(17, B, F, 10), targetSteps: (t: number) => t % 5 === 4 };
    const run = (strategy: Strategy) => {
      const rec = new GradientRecorder(model.parameters());
      const engine = new Bptt({ model, parameters: model.parameters(), optimizer: rec, strategy, stateful: true });
      engine.trainBatch(first);
      engine.trainBatch(second);
      return rec.updates;
    };
    const full = run({ kind: 'full' }), ckpt = run({ kind: 'checkpointed', segment: 3 });
    assert.ok(maxDiff(full[1]!, ckpt[1]!) < 1e-12);
  });
});

describe('stateful streaming', () => {
  test('batches of k steps with the state carried equal one long sequence under TBPTT(k, k), updates included', () => {
    const k = 4, n = 3;
    const long = randomBatch(k * n, B, F, 11);
    const chunk = (i: number): RegressionBatch => ({ x: sliceTime(long.x, i * k, (i + 1) * k), y: sliceTime(long.y, i * k, (i + 1) * k) });
    const a = new Regressor('lstm', { inputSize: F, hiddenSize: H, numLayers: 2, dtype: 'float64', seed: 3 });
    new Bptt({ model: a, parameters: a.parameters(), optimizer: new SGD(a.parameters(), { lr: 0.1 }), strategy: { kind: 'truncated', k1: k } }).trainBatch(long);
    const b = new Regressor('lstm', { inputSize: F, hiddenSize: H, numLayers: 2, dtype: 'float64', seed: 3 });
    const stream = new Bptt({ model: b, parameters: b.parameters(), optimizer: new SGD(b.parameters(), { lr: 0.1 }), stateful: true });
    for (let i = 0; i < n; i++) stream.trainBatch(chunk(i));
    const pa = a.parameters(), pb = b.parameters();
    pa.forEach((p, i) => assert.ok(maxDiff([Float64Array.from(p.data)], [Float64Array.from(pb[i]!.data)]) < 1e-12, p.name));
    assert.ok(stream.state);
  });

  test('a reset row starts from zeros; the other rows keep their carried state', () => {
    const model = new Regressor('gru', { inputSize: F, hiddenSize: H, dtype: 'float64' });
    const rec = new GradientRecorder(model.parameters());
    const engine = new Bptt({ model, parameters: model.parameters(), optimizer: rec, stateful: true });
    const b1 = randomBatch(5, B, F, 12), b2 = randomBatch(5, B, F, 13);
    engine.trainBatch(b1);
    const carried = Float64Array.from((engine.state as HiddenState).h.data);
    engine.trainBatch(b2, { reset: [true, false] });
    const fresh = model.stateAt(b2, 5, null)!.h.data;
    const continued = model.stateAt(b2, 5, { h: new Variable(new Tensor([1, B, H], carried)) })!.h.data;
    const after = (engine.state as HiddenState).h.data;
    for (let j = 0; j < H; j++) {
      assert.ok(Math.abs(after[j]! - fresh[j]!) < 1e-12, 'row 0 restarted');
      assert.ok(Math.abs(after[H + j]! - continued[H + j]!) < 1e-12, 'row 1 continued');
    }
  });
});

function sliceTime(t: Tensor, a: number, b: number): Tensor {
  const row = t.size / t.shape[0]!;
  return new Tensor([b - a, ...t.shape.slice(1)], t.data.slice(a * row, b * row));
}
