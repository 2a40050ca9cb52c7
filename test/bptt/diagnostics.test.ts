import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Variable, noGrad, reshape, slice } from '../../src/autograd/index.js';
import { mse } from '../../src/losses/index.js';
import { Tensor } from '../../src/tensor/index.js';
import { Bptt, FlowRecorder, leafState } from '../../src/bptt/index.js';
import type { HiddenState } from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';
import { GradientRecorder, Regressor, randomBatch } from './models.js';

const T = 12, B = 3, F = 2, H = 5;
const lastStepOnly = (t: number) => t === T - 1;

function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]! ;
  return Math.sqrt(s);
}

describe('gradient-flow diagnostics', () => {
  for (const kind of ['rnn', 'lstm', 'gru'] as const) {
    test(`${kind}: ||dL/dh_t|| equals the gradient reaching a leaf state put at step t`, () => {
      const model = new Regressor(kind, { inputSize: F, hiddenSize: H, dtype: 'float64' });
      const batch = { ...randomBatch(T, B, F, 3), targetSteps: lastStepOnly };
      const recorder = new FlowRecorder().attach([model.rnn]);
      const engine = new Bptt({ model, parameters: model.parameters(), optimizer: new GradientRecorder(model.parameters()), recorder });
      const [report] = engine.trainBatch(batch);
      const flow = report!.flow!.layers[`${kind}.l0`]!;
      assert.equal(flow.dh.length, T);
      for (const t of [0, 4, 9]) {
        // dL/dh_t: split the sequence after step t and read the gradient of the second part's initial state.
        const head = model.stateAt(batch, t + 1, null)!;
        const leaf = leafState(head);
        const r = model.unroll(batch, t + 1, T, leaf, true);
        r.loss!.backward();
        const want = norm(leaf.h.grad!.data) / r.terms;
        assert.ok(Math.abs(flow.dh[t]! - want) <= 1e-9 * Math.max(1, want), `t=${t}: ${flow.dh[t]} vs ${want}`);
        if (kind === 'lstm') {
          const wantC = norm((leaf as HiddenState & { c: Variable }).c.grad!.data) / r.terms;
          assert.ok(Math.abs(flow.dc![t]! - wantC) <= 1e-9 * Math.max(1, wantC), `dc t=${t}`);
        }
      }
      assert.equal(flow.dc === null, kind !== 'lstm');
    });
  }

  test('gate statistics: means inside the gate ranges, saturation fractions in [0, 1], LSTM gates i f g o', () => {
    const model = new Regressor('lstm', { inputSize: F, hiddenSize: H, numLayers: 2 });
    const recorder = new FlowRecorder().attach([model.rnn]);
    const engine = new Bptt({ model, parameters: model.parameters(), optimizer: new SGD(model.parameters(), { lr: 0.01 }), recorder, clipNorm: 1e-3 });
    const [report] = engine.trainBatch(randomBatch(T, B, F, 4, 'float32'));
    const flow = report!.flow!;
    assert.deepEqual(Object.keys(flow.layers).sort(), ['lstm.l0', 'lstm.l1']);
    const gates = flow.layers['lstm.l0']!.gates;
    assert.deepEqual(Object.keys(gates), ['i', 'f', 'g', 'o']);
    for (const g of ['i', 'f', 'o']) assert.ok(gates[g]!.mean > 0 && gates[g]!.mean < 1);
    assert.ok(gates.g!.mean > -1 && gates.g!.mean < 1);
    for (const s of Object.values(gates)) assert.ok(s.saturated >= 0 && s.saturated <= 1);
    assert.equal(flow.clipped, true, 'a tiny clipNorm fires');
    assert.ok(flow.gradNorm > 1e-3);
    assert.equal(report!.clipped, true);
  });

  test('per-step clipping of dL/dh_t keeps every recorded norm under the threshold per row', () => {
    const model = new Regressor('rnn', { inputSize: F, hiddenSize: H, dtype: 'float64' });
    model.rnn.hiddenGradClip = 1e-3;
    const recorder = new FlowRecorder().attach([model.rnn]);
    const engine = new Bptt({ model, parameters: model.parameters(), optimizer: new GradientRecorder(model.parameters()), recorder });
    const [report] = engine.trainBatch(randomBatch(T, B, F, 5));
    const dh = report!.flow!.layers['rnn.l0']!.dh;
    for (const v of dh) assert.ok(v <= Math.sqrt(B) * 1e-3 + 1e-12, `${v}`);
  });

  test('the NaN guard skips the update, leaves the weights untouched and names the first bad step', () => {
    const model = new Regressor('rnn', { inputSize: F, hiddenSize: H, nonlinearity: 'relu' });
    // A recurrent weight of 1e12 multiplies the state at every step: float32 overflows after a few steps.
    const whh = model.rnn.namedParameters().find(([n]) => n === 'weight_hh_l0')![1];
    whh.data.fill(1e12);
    const before = model.parameters().map((p) => Float64Array.from(p.data));
    const engine = new Bptt({ model, parameters: model.parameters(), optimizer: new SGD(model.parameters(), { lr: 0.1 }) });
    const batch = randomBatch(T, B, F, 6, 'float32');
    const [report] = engine.trainBatch(batch);
    assert.equal(engine.skippedUpdates, 1);
    assert.match(report!.skipped!, /^update 1: (loss is|gradient of)/);
    const firstBad = firstInfiniteStep(model, batch);
    assert.ok(firstBad > 0 && firstBad < T);
    assert.match(report!.skipped!, new RegExp(`first non-finite (state|loss) at time step ${firstBad}$`));
    model.parameters().forEach((p, i) => assert.deepEqual(Float64Array.from(p.data), before[i]));
    assert.ok(model.parameters().every((p) => p.grad === null), 'gradients cleared');
  });
});

/** From one full forward pass: the first step whose output or squared error is not finite in float32. */
function firstInfiniteStep(model: Regressor, batch: ReturnType<typeof randomBatch>): number {
  return noGrad(() => {
    const { output } = model.rnn.forward(new Variable(batch.x));
    for (let t = 0; t < T; t++) {
      const out = reshape(slice(output, 0, t, t + 1), [B, H]);
      const loss = mse(model.head.forward(out), new Tensor([B, 1], batch.y.data.slice(t * B, (t + 1) * B)), 'sum');
      if (out.data.some((v) => !Number.isFinite(v)) || !Number.isFinite(loss.item())) return t;
    }
    return -1;
  });
}

test('hiddenGradClip must be a positive number', () => {
  const model = new Regressor('gru', { inputSize: F, hiddenSize: H });
  model.rnn.hiddenGradClip = -1;
  assert.throws(() => model.rnn.forward(new Variable(Tensor.zeros([2, 1, F]))), /recurrentLayer: expected hiddenGradClip a finite number > 0, or null, got -1/);
});
