import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ag from '../../src/autograd/index.js';
import { Variable } from '../../src/autograd/index.js';
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell } from '../../src/nn/index.js';
import { Rng, Tensor } from '../../src/tensor/index.js';

const IN = 3, H = 3, B = 2;

function randVar(shape: number[], name: string, seed: number): Variable {
  const r = new Rng(seed);
  const t = Tensor.zeros(shape, 'float64');
  for (let i = 0; i < t.size; i++) t.data[i] = r.range(-1, 1);
  return new Variable(t, true, name);
}

function probe(y: Variable, seed = 7): Variable {
  const w = new Rng(seed);
  return ag.sum(ag.mul(y, ag.constant(Array.from({ length: y.value.size }, () => w.normal()), y.shape, y)));
}

const kinds = {
  'RNN tanh': (o: object) => new RNN({ inputSize: IN, hiddenSize: H, rng: new Rng(1), dtype: 'float64', ...o }),
  'RNN relu': (o: object) => new RNN({ inputSize: IN, hiddenSize: H, nonlinearity: 'relu', rng: new Rng(1), dtype: 'float64', ...o }),
  LSTM: (o: object) => new LSTM({ inputSize: IN, hiddenSize: H, rng: new Rng(1), dtype: 'float64', ...o }),
  GRU: (o: object) => new GRU({ inputSize: IN, hiddenSize: H, rng: new Rng(1), dtype: 'float64', ...o }),
  'GRU reset-before': (o: object) => new GRU({ inputSize: IN, hiddenSize: H, resetAfter: false, rng: new Rng(1), dtype: 'float64', ...o }),
};

/** The loss reads the whole output and the final state, so every path back through time is checked. */
function checkLayer(kind: keyof typeof kinds, T: number, extra: { numLayers?: number; bidirectional?: boolean; lengths?: number[]; batchFirst?: boolean } = {}) {
  const { lengths, ...options } = extra;
  const model = kinds[kind](options);
  const slots = (options.numLayers ?? 1) * (options.bidirectional ? 2 : 1);
  const x = randVar(options.batchFirst ? [B, T, IN] : [T, B, IN], 'x', 11);
  const h0 = randVar([slots, B, H], 'h0', 12);
  const c0 = randVar([slots, B, H], 'c0', 13);
  const isLstm = kind === 'LSTM';
  const f = () => {
    const { output, state } = model.forward(x, isLstm ? { h: h0, c: c0 } : { h: h0 }, lengths ? { lengths } : {});
    let loss = ag.add(probe(output, 3), probe(state.h, 4));
    if (isLstm) loss = ag.add(loss, probe((state as { c?: Variable }).c!, 5));
    return loss;
  };
  const r = ag.gradcheck(f, [x, h0, ...(isLstm ? [c0] : []), ...model.parameters()]);
  assert.ok(r.ok, r.message);
}

for (const kind of Object.keys(kinds) as Array<keyof typeof kinds>) {
  describe(`gradcheck ${kind}`, () => {
    for (const T of [1, 2, 7]) test(`T=${T}: parameters, input, initial state`, () => checkLayer(kind, T));
    test('masked batch, 2 layers, bidirectional (lengths 7 and 3)', () => checkLayer(kind, 7, { numLayers: 2, bidirectional: true, lengths: [7, 3] }));
    test('batchFirst with lengths shorter than T everywhere', () => checkLayer(kind, 4, { batchFirst: true, lengths: [2, 3] }));
    test('random directions on a 60-step sequence', () => {
      const model = kinds[kind]({});
      const x = randVar([60, B, IN], 'x', 21);
      const h0 = randVar([1, B, H], 'h0', 22);
      const f = () => probe(model.forward(x, { h: h0 } as never).output);
      const r = ag.gradcheckDirectional(f, [x, h0, ...model.parameters()], { directions: 3 });
      assert.ok(r.ok, r.message);
    });
  });
}

const cellKinds = {
  RNNCell: () => new RNNCell({ inputSize: IN, hiddenSize: H, rng: new Rng(2), dtype: 'float64' }),
  LSTMCell: () => new LSTMCell({ inputSize: IN, hiddenSize: H, rng: new Rng(2), dtype: 'float64' }),
  GRUCell: () => new GRUCell({ inputSize: IN, hiddenSize: H, rng: new Rng(2), dtype: 'float64' }),
  'GRUCell reset-before': () => new GRUCell({ inputSize: IN, hiddenSize: H, resetAfter: false, rng: new Rng(2), dtype: 'float64' }),
};

describe('gradcheck cells stepped by hand', () => {
  for (const [name, make] of Object.entries(cellKinds)) {
    test(`${name}: three steps, gradient through the carried state`, () => {
      const cell = make();
      const xs = [0, 1, 2].map((i) => randVar([B, IN], `x${i}`, 30 + i));
      const h0 = randVar([B, H], 'h0', 40), c0 = randVar([B, H], 'c0', 41);
      const isLstm = cell instanceof LSTMCell;
      const f = () => {
        let s: { h: Variable; c?: Variable } = isLstm ? { h: h0, c: c0 } : { h: h0 };
        let loss: Variable | null = null;
        for (const x of xs) {
          s = (cell as LSTMCell).step(x, s as { h: Variable; c: Variable });
          loss = loss ? ag.add(loss, probe(s.h)) : probe(s.h);
        }
        return s.c ? ag.add(loss!, probe(s.c, 9)) : loss!;
      };
      const r = ag.gradcheck(f, [...xs, h0, ...(isLstm ? [c0] : []), ...cell.parameters()]);
      assert.ok(r.ok, r.message);
    });
  }

  test('a cell step equals one step of the sequence layer with the same weights', () => {
    const cell = new LSTMCell({ inputSize: IN, hiddenSize: H, rng: new Rng(3), dtype: 'float64' });
    const layer = new LSTM({ inputSize: IN, hiddenSize: H, rng: new Rng(4), dtype: 'float64' });
    layer.loadStateDict(new Map([...cell.stateDict()].map(([k, v]) => [`${k}_l0`, v])));
    const x = randVar([1, B, IN], 'x', 50);
    const s = cell.step(ag.reshape(x, [B, IN]));
    const { state } = layer.forward(x);
    assert.deepEqual(Array.from(s.h.data), Array.from(state.h.data));
    assert.deepEqual(Array.from(s.c.data), Array.from(state.c.data));
  });
});
