/**
 * Keras weights → bptt. The Keras equations are written out below in float64
 * (an independent reference: Keras's own gate order, kernel layout and bias
 * conventions), and bptt's layers, loaded with the converted weights, must
 * give the same outputs and final states.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Variable, noGrad } from '../../src/autograd/index.js';
import { groupKerasWeights, kerasDenseToTorch, kerasToTorch, loadTorchStateDict, type KerasCellWeights, type KerasLayerWeights } from '../../src/io/index.js';
import { GRU, LSTM, RNN, type Recurrent } from '../../src/nn/index.js';
import { ConfigError, DataError, Rng, Tensor } from '../../src/tensor/index.js';
import { worstDiff } from '../helpers.js';

type Cell = 'lstm' | 'gru' | 'rnn';
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
const GATES = { lstm: 4, gru: 3, rnn: 1 };

/** x [T][B][F] times a Keras kernel [F, cols] (row-major), one batch row. */
function matvec(v: ArrayLike<number>, k: Tensor): number[] {
  const [rows, cols] = k.shape as [number, number];
  const out = new Array<number>(cols).fill(0);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j]! += v[i]! * k.data[i * cols + j]!;
  return out;
}

interface KerasOptions { cell: Cell; resetAfter: boolean; activation: 'tanh' | 'relu' }

/** One Keras cell over a sequence (reversed with goBackwards); outputs in input time order, as Bidirectional returns them. */
function kerasCell(x: number[][][], w: KerasCellWeights, o: KerasOptions, goBackwards: boolean): { ys: number[][][]; h: number[][]; c: number[][] } {
  const T = x.length, B = x[0]!.length, H = w.recurrentKernel.shape[0]!;
  const G = GATES[o.cell] * H;
  const bias = w.bias ? Array.from(w.bias.data) : new Array<number>(G).fill(0);
  const bIn = o.cell === 'gru' && o.resetAfter ? bias.slice(0, G) : bias.slice(0, G);
  const bRec = o.cell === 'gru' && o.resetAfter ? bias.slice(G) : new Array<number>(G).fill(0);
  const h = Array.from({ length: B }, () => new Array<number>(H).fill(0));
  const c = Array.from({ length: B }, () => new Array<number>(H).fill(0));
  const ys: number[][][] = Array.from({ length: T }, () => []);
  for (let s = 0; s < T; s++) {
    const t = goBackwards ? T - 1 - s : s;
    for (let b = 0; b < B; b++) {
      const xp = matvec(x[t]![b]!, w.kernel).map((v, j) => v + bIn[j]!);
      const hp = matvec(h[b]!, w.recurrentKernel).map((v, j) => v + bRec[j]!);
      const next = new Array<number>(H);
      for (let j = 0; j < H; j++) {
        if (o.cell === 'rnn') {
          const a = xp[j]! + hp[j]!;
          next[j] = o.activation === 'relu' ? Math.max(0, a) : Math.tanh(a);
        } else if (o.cell === 'lstm') {
          const i = sigmoid(xp[j]! + hp[j]!), f = sigmoid(xp[H + j]! + hp[H + j]!);
          const g = Math.tanh(xp[2 * H + j]! + hp[2 * H + j]!), og = sigmoid(xp[3 * H + j]! + hp[3 * H + j]!);
          c[b]![j] = f * c[b]![j]! + i * g;
          next[j] = og * Math.tanh(c[b]![j]!);
        } else {
          const z = sigmoid(xp[j]! + hp[j]!), r = sigmoid(xp[H + j]! + hp[H + j]!);
          let hh: number;
          if (o.resetAfter) {
            hh = Math.tanh(xp[2 * H + j]! + r * hp[2 * H + j]!);
          } else {
            // (r ⊙ h) · recurrent_kernel[:, 2H:3H]
            const rec = w.recurrentKernel;
            let acc = 0;
            for (let k = 0; k < H; k++) acc += sigmoid(xp[H + k]! + hp[H + k]!) * h[b]![k]! * rec.data[k * G + 2 * H + j]!;
            hh = Math.tanh(xp[2 * H + j]! + acc);
          }
          next[j] = z * h[b]![j]! + (1 - z) * hh;
        }
      }
      h[b] = next;
      ys[t]![b] = [...next];
    }
  }
  return { ys, h, c };
}

/** A Keras stack (Bidirectional concatenates forward, backward). */
function kerasStack(x: number[][][], layers: KerasLayerWeights[], o: KerasOptions): { y: number[][][]; h: number[][][]; c: number[][][] } {
  let input = x;
  const hs: number[][][] = [], cs: number[][][] = [];
  for (const layer of layers) {
    const f = kerasCell(input, layer.forward, o, false);
    hs.push(f.h), cs.push(f.c);
    if (layer.backward) {
      const b = kerasCell(input, layer.backward, o, true);
      hs.push(b.h), cs.push(b.c);
      input = f.ys.map((row, t) => row.map((v, i) => [...v, ...b.ys[t]![i]!]));
    } else {
      input = f.ys;
    }
  }
  return { y: input, h: hs, c: cs };
}

function randomCell(rng: Rng, cell: Cell, inSize: number, H: number, biasShape: 'none' | 'one' | 'two'): KerasCellWeights {
  const G = GATES[cell] * H;
  const r = (shape: number[]) => Tensor.from(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.range(-0.6, 0.6)), shape, 'float64');
  return { kernel: r([inSize, G]), recurrentKernel: r([H, G]), bias: biasShape === 'none' ? null : r(biasShape === 'two' ? [2, G] : [G]) };
}

const flat = (a: number[][][]): number[] => a.flat(2);

interface Case { name: string; cell: Cell; resetAfter?: boolean; activation?: 'tanh' | 'relu'; layers: number; bidirectional: boolean; bias?: boolean }
const CASES: Case[] = [
  { name: 'LSTM, 2 layers, bidirectional', cell: 'lstm', layers: 2, bidirectional: true },
  { name: 'LSTM, 1 layer, no bias', cell: 'lstm', layers: 1, bidirectional: false, bias: false },
  { name: 'GRU reset_after=True (Keras default), 2 layers', cell: 'gru', resetAfter: true, layers: 2, bidirectional: false },
  { name: 'GRU reset_after=True, bidirectional', cell: 'gru', resetAfter: true, layers: 1, bidirectional: true },
  { name: 'GRU reset_after=False → resetAfter: false, 2 layers bidirectional', cell: 'gru', resetAfter: false, layers: 2, bidirectional: true },
  { name: 'SimpleRNN tanh, 2 layers', cell: 'rnn', activation: 'tanh', layers: 2, bidirectional: false },
  { name: 'SimpleRNN relu, bidirectional', cell: 'rnn', activation: 'relu', layers: 1, bidirectional: true },
];

describe('Keras weights → bptt, against the Keras equations in float64', () => {
  const T = 6, B = 3, F = 5, H = 4;
  CASES.forEach((k, n) => {
    test(k.name, () => {
      const rng = new Rng(100 + n);
      const o: KerasOptions = { cell: k.cell, resetAfter: k.resetAfter ?? true, activation: k.activation ?? 'tanh' };
      const biasShape = k.bias === false ? 'none' : k.cell === 'gru' && o.resetAfter ? 'two' : 'one';
      const layers: KerasLayerWeights[] = Array.from({ length: k.layers }, (_, l) => {
        const inSize = l === 0 ? F : H * (k.bidirectional ? 2 : 1);
        return { forward: randomCell(rng, k.cell, inSize, H, biasShape), backward: k.bidirectional ? randomCell(rng, k.cell, inSize, H, biasShape) : null };
      });
      const x = Array.from({ length: T }, () => Array.from({ length: B }, () => Array.from({ length: F }, () => rng.range(-1, 1))));
      const want = kerasStack(x, layers, o);

      const conv = kerasToTorch(layers, { cell: k.cell, activation: k.activation, ...(k.cell === 'gru' ? { resetAfter: o.resetAfter } : {}) });
      const m = conv.module;
      assert.deepEqual([m.inputSize, m.hiddenSize, m.numLayers, m.bidirectional, m.bias], [F, H, k.layers, k.bidirectional, k.bias !== false]);
      const opts = { inputSize: m.inputSize, hiddenSize: m.hiddenSize, numLayers: m.numLayers, bidirectional: m.bidirectional, bias: m.bias, dtype: 'float64' as const };
      const rnn: Recurrent = m.kind === 'LSTM' ? new LSTM(opts) : m.kind === 'GRU' ? new GRU({ ...opts, resetAfter: m.resetAfter }) : new RNN({ ...opts, nonlinearity: m.nonlinearity });
      loadTorchStateDict(rnn, conv.tensors);
      const { output, state } = noGrad(() => rnn.forward(new Variable(Tensor.from(x.flat(2), [T, B, F], 'float64'))));
      assert.ok(worstDiff(output.value.data, flat(want.y)).err < 1e-12, 'outputs');
      assert.ok(worstDiff(state.h.value.data, flat(want.h)).err < 1e-12, 'final h');
      if (k.cell === 'lstm') assert.ok(worstDiff((state as unknown as { c: Variable }).c.value.data, flat(want.c)).err < 1e-12, 'final c');
    });
  });
});

describe('Keras conversion, exactly', () => {
  test('GRU: kernel [in, z|r|h] becomes weight_ih [r|z|n, in], biases split by row', () => {
    const F = 2, H = 2, G = 6;
    const kernel = Tensor.from(Array.from({ length: F * G }, (_, k) => 100 * Math.floor(k / G) + (k % G)), [F, G]); // value = 100·row + column
    const rec = Tensor.from(Array.from({ length: H * G }, (_, k) => 1000 + 100 * Math.floor(k / G) + (k % G)), [H, G]);
    const bias = Tensor.from(Array.from({ length: 2 * G }, (_, k) => k), [2, G]);
    const { tensors, module } = kerasToTorch([{ forward: { kernel, recurrentKernel: rec, bias } }], { cell: 'gru' });
    assert.equal(module.resetAfter, true);
    // torch row (gate block · H + j), column i  ←  keras [i, kerasBlock · H + j]; blocks r ← 1, z ← 0, n ← 2
    assert.deepEqual([...tensors.get('weight_ih_l0')!.data], [2, 102, 3, 103, 0, 100, 1, 101, 4, 104, 5, 105]);
    assert.deepEqual([...tensors.get('weight_hh_l0')!.data].slice(0, 4), [1002, 1102, 1003, 1103]);
    assert.deepEqual([...tensors.get('bias_ih_l0')!.data], [2, 3, 0, 1, 4, 5]);
    assert.deepEqual([...tensors.get('bias_hh_l0')!.data], [8, 9, 6, 7, 10, 11]);
  });

  test('LSTM: i,f,c,o is already PyTorch order: a transpose, and bias_hh zero', () => {
    const kernel = Tensor.from([1, 2, 3, 4, 5, 6, 7, 8], [2, 4]);
    const rec = Tensor.from([9, 10, 11, 12], [1, 4]);
    const { tensors } = kerasToTorch([{ forward: { kernel, recurrentKernel: rec, bias: Tensor.from([1, 2, 3, 4], [4]) } }], { cell: 'lstm' });
    assert.deepEqual([...tensors.get('weight_ih_l0')!.data], [1, 5, 2, 6, 3, 7, 4, 8]);
    assert.deepEqual(tensors.get('weight_hh_l0')!.shape, [4, 1]);
    assert.deepEqual([...tensors.get('bias_ih_l0')!.data], [1, 2, 3, 4]);
    assert.deepEqual([...tensors.get('bias_hh_l0')!.data], [0, 0, 0, 0]);
  });

  test('Dense: kernel [in, out] → weight [out, in]', () => {
    const m = kerasDenseToTorch(Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]), Tensor.from([7, 8, 9], [3]));
    assert.deepEqual(m.get('weight')!.shape, [3, 2]);
    assert.deepEqual([...m.get('weight')!.data], [1, 4, 2, 5, 3, 6]);
  });

  test('Keras weight names group into layers, Bidirectional into directions', () => {
    const rng = new Rng(1);
    const c = () => randomCell(rng, 'lstm', 3, 2, 'one');
    const [a, b, d] = [c(), c(), c()];
    const named = new Map<string, Tensor>([
      ['lstm_1/lstm_cell_1/kernel:0', d.kernel], ['lstm_1/lstm_cell_1/recurrent_kernel:0', d.recurrentKernel], ['lstm_1/lstm_cell_1/bias:0', d.bias!],
      ['bidirectional/backward_lstm/lstm_cell/kernel', b.kernel], ['bidirectional/backward_lstm/lstm_cell/recurrent_kernel', b.recurrentKernel], ['bidirectional/backward_lstm/lstm_cell/bias', b.bias!],
      ['bidirectional/forward_lstm/lstm_cell/kernel', a.kernel], ['bidirectional/forward_lstm/lstm_cell/recurrent_kernel', a.recurrentKernel], ['bidirectional/forward_lstm/lstm_cell/bias', a.bias!],
    ]);
    const layers = groupKerasWeights(named);
    assert.equal(layers.length, 2);
    assert.equal(layers[0]!.forward.kernel, a.kernel);
    assert.equal(layers[0]!.backward!.kernel, b.kernel);
    assert.equal(layers[1]!.forward.bias, d.bias);
    assert.throws(() => groupKerasWeights(named, ['lstm_1']), DataError);
    assert.deepEqual(groupKerasWeights(named, ['lstm_1', 'bidirectional'])[0]!.forward.kernel, d.kernel);
  });

  test('wrong shapes and unsupported activations are refused with the reason', () => {
    const rng = new Rng(2);
    const gru = randomCell(rng, 'gru', 3, 2, 'two');
    assert.throws(() => kerasToTorch([{ forward: gru }], { cell: 'gru', resetAfter: false }), /reset_after=False keeps one bias/);
    assert.throws(() => kerasToTorch([{ forward: gru }], { cell: 'lstm' }), DataError);
    assert.throws(() => kerasToTorch([{ forward: gru }], { cell: 'gru', recurrentActivation: 'hard_sigmoid' }), ConfigError);
    assert.throws(() => kerasToTorch([{ forward: randomCell(rng, 'rnn', 3, 2, 'one') }], { cell: 'rnn', activation: 'elu' }), ConfigError);
    assert.throws(() => kerasToTorch([{ forward: gru }, { forward: randomCell(rng, 'gru', 3, 2, 'two') }], { cell: 'gru' }), /layer 1 kernel: expected shape \[2, 6\]/);
  });
});
