/**
 * ONNX export, run in onnxruntime-node (CPU) and compared with bptt's own
 * forward pass: logits and final states within 1e-4.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { Variable, noGrad } from '../../src/autograd/index.js';
import { exportOnnx, recurrentCellKind, type OnnxSequenceModel } from '../../src/io/index.js';
import { GRU, LSTM, RNN, type Recurrent } from '../../src/nn/index.js';
import { LanguageModel, type CellKind } from '../../src/tasks/language-model/model.js';
import { Rng, Tensor } from '../../src/tensor/index.js';
import { worstDiff } from '../helpers.js';

const TOL = 1e-4;

function randomState(rng: Rng, shape: number[]): Tensor {
  return Tensor.from(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.range(-0.5, 0.5)), shape);
}

async function runOnnx(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return (await session.run(feeds)) as Record<string, ort.Tensor>;
  } finally {
    await session.release();
  }
}

function assertNear(got: ort.Tensor, want: Tensor, what: string): void {
  assert.deepEqual([...got.dims], [...want.shape], `${what}: shape`);
  const d = worstDiff(got.data as Float32Array, want.data);
  assert.ok(d.err <= TOL, `${what}: differs by ${d.err} at ${d.at} (scale ${d.scale})`);
}

describe('ONNX export of the language model, in onnxruntime', () => {
  const cases: Array<{ cell: CellKind; layers: number }> = [{ cell: 'lstm', layers: 2 }, { cell: 'gru', layers: 2 }, { cell: 'rnn', layers: 1 }];
  for (const { cell, layers } of cases) {
    test(`${cell} × ${layers}: logits and carried state match bptt (1e-4)`, async () => {
      const model = new LanguageModel({ cell, vocab: 11, embed: 5, hidden: 6, layers, dropout: 0, seed: 3 }).eval();
      // Trained-looking weights: larger than the initialisation, so gates saturate and differences show.
      const rng = new Rng(9);
      for (const p of model.parameters()) for (let i = 0; i < p.data.length; i++) p.data[i] = p.data[i]! * 2 + rng.range(-0.3, 0.3);
      const T = 7, B = 3;
      const ids = Array.from({ length: T * B }, () => Math.floor(rng.range(0, 11)));
      const h0 = randomState(rng, [layers, B, 6]);
      const c0 = randomState(rng, [layers, B, 6]);
      const want = noGrad(() => {
        const x = model.embedding.forward(ids, [T, B]);
        const state = cell === 'lstm' ? { h: new Variable(h0), c: new Variable(c0) } : { h: new Variable(h0) };
        const { output, state: s } = model.rnn.forward(x, state);
        return { logits: model.head.forward(output).value, h: s.h.value, c: (s as { c?: Variable }).c?.value };
      });
      const parts: OnnxSequenceModel = { embedding: model.embedding, rnn: model.rnn, head: model.head };
      const feeds: Record<string, ort.Tensor> = {
        tokens: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [T, B]),
        h0: new ort.Tensor('float32', Float32Array.from(h0.data), [layers, B, 6]),
      };
      if (cell === 'lstm') feeds.c0 = new ort.Tensor('float32', Float32Array.from(c0.data), [layers, B, 6]);
      const got = await runOnnx(exportOnnx(parts, { metadata: { vocabulary: 'x' } }), feeds);
      assertNear(got.logits!, want.logits, 'logits');
      assertNear(got.hn!, want.h, 'hn');
      if (cell === 'lstm') assertNear(got.cn!, want.c!, 'cn');

      // Without state inputs: a fresh start from zeros.
      const fresh = noGrad(() => model.head.forward(model.rnn.forward(model.embedding.forward(ids, [T, B])).output).value);
      const stateless = await runOnnx(exportOnnx(parts, { state: false }), { tokens: feeds.tokens! });
      assert.deepEqual(Object.keys(stateless), ['logits']);
      assertNear(stateless.logits!, fresh, 'logits without state');
    });
  }
});

describe('ONNX export of recurrent layers, in onnxruntime', () => {
  const layers: Array<[string, () => Recurrent]> = [
    ['LSTM 2 layers bidirectional', () => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, rng: new Rng(1) })],
    ['GRU (reset after, linear_before_reset=1) bidirectional', () => new GRU({ inputSize: 3, hiddenSize: 4, bidirectional: true, rng: new Rng(2) })],
    ['GRU resetAfter: false (linear_before_reset=0), 2 layers', () => new GRU({ inputSize: 3, hiddenSize: 4, numLayers: 2, resetAfter: false, rng: new Rng(3) })],
    ['RNN tanh, 3 layers', () => new RNN({ inputSize: 3, hiddenSize: 4, numLayers: 3, rng: new Rng(4) })],
    ['RNN relu bidirectional', () => new RNN({ inputSize: 3, hiddenSize: 4, bidirectional: true, nonlinearity: 'relu', rng: new Rng(5) })],
    ['LSTM batchFirst, no bias', () => new LSTM({ inputSize: 3, hiddenSize: 4, batchFirst: true, bias: false, rng: new Rng(6) })],
  ];
  for (const [name, make] of layers) {
    test(name, async () => {
      const rnn = make();
      const rng = new Rng(7);
      const T = 6, B = 2, slots = rnn.numLayers * rnn.directions;
      const x = randomState(rng, rnn.batchFirst ? [B, T, 3] : [T, B, 3]);
      const h0 = randomState(rng, [slots, B, 4]);
      const c0 = randomState(rng, [slots, B, 4]);
      const isLstm = recurrentCellKind(rnn) === 'lstm';
      const want = noGrad(() => rnn.forward(new Variable(x), isLstm ? { h: new Variable(h0), c: new Variable(c0) } as never : { h: new Variable(h0) }));
      const feeds: Record<string, ort.Tensor> = {
        input: new ort.Tensor('float32', Float32Array.from(x.data), [...x.shape]),
        h0: new ort.Tensor('float32', Float32Array.from(h0.data), [slots, B, 4]),
      };
      if (isLstm) feeds.c0 = new ort.Tensor('float32', Float32Array.from(c0.data), [slots, B, 4]);
      const got = await runOnnx(exportOnnx({ rnn }), feeds);
      assertNear(got.output!, want.output.value, 'output');
      assertNear(got.hn!, want.state.h.value, 'hn');
      if (isLstm) assertNear(got.cn!, (want.state as unknown as { c: Variable }).c.value, 'cn');
    });
  }

  test('the cell kind is read from the layer', () => {
    assert.equal(recurrentCellKind(new GRU({ inputSize: 1, hiddenSize: 1, resetAfter: false })), 'gru_reset_before');
    assert.equal(recurrentCellKind(new RNN({ inputSize: 1, hiddenSize: 1, nonlinearity: 'relu' })), 'rnn_relu');
  });
});
