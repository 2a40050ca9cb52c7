import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Variable, add, concat, linear, matmul, reshape, slice } from '../../src/autograd/index.js';
import { crossEntropy, mse } from '../../src/losses/index.js';
import {
  Embedding, GRU, GRUCell, LSTM, LSTMCell, Linear, RNN, RNNCell,
  type GRUOptions, type RNNOptions, type RecurrentOptions,
} from '../../src/nn/index.js';
import { ConfigError, DataError, Rng, ShapeError, Tensor, type DType } from '../../src/tensor/index.js';
import { rejects, untyped } from '../helpers.js';

/**
 * Every bad input must be rejected eagerly with a typed error (a BpttError
 * subclass) whose message says where, what was expected and what was got.
 */

function variable(shape: number[], dtype: DType = 'float32', seed = 1): Variable {
  const rng = new Rng(seed);
  const t = Tensor.zeros(shape, dtype);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.range(-1, 1);
  return new Variable(t);
}

function withValue(v: Variable, index: number, value: number): Variable {
  v.data[index] = value;
  return v;
}

type Kind = 'RNN' | 'LSTM' | 'GRU';
const KINDS: Kind[] = ['RNN', 'LSTM', 'GRU'];

function make(kind: Kind, options: Partial<RNNOptions & GRUOptions> = {}): RNN | LSTM | GRU {
  const o = { inputSize: 3, hiddenSize: 4, ...options };
  if (kind === 'RNN') return new RNN(o);
  if (kind === 'LSTM') return new LSTM(o);
  return new GRU(o);
}

// T = 5 steps, B = 2 batch rows, 3 features, H = 4.
const T = 5, B = 2;

for (const kind of KINDS) {
  describe(`${kind} forward rejects bad input`, () => {
    const where = `${kind}\\.forward`;

    test('input of rank 2', () => {
      rejects(() => make(kind).forward(variable([T, 3])), ShapeError,
        new RegExp(`^${where}: input: expected shape \\[T, B, inputSize=3\\], got \\[5, 3\\]$`));
    });

    test('input of rank 4', () => {
      rejects(() => make(kind).forward(variable([T, B, 3, 1])), ShapeError,
        new RegExp(`^${where}: input: expected shape \\[T, B, inputSize=3\\], got \\[5, 2, 3, 1\\]$`));
    });

    test('wrong feature size', () => {
      rejects(() => make(kind).forward(variable([T, B, 7])), ShapeError,
        new RegExp(`^${where}: input: expected shape \\[T, B, inputSize=3\\], got \\[5, 2, 7\\]$`));
    });

    test('wrong feature size with batchFirst names the [B, T, F] layout', () => {
      rejects(() => make(kind, { batchFirst: true }).forward(variable([B, T, 7])), ShapeError,
        new RegExp(`^${where}: input: expected shape \\[B, T, inputSize=3\\], got \\[2, 5, 7\\]$`));
    });

    test('empty sequence (T = 0)', () => {
      rejects(() => make(kind).forward(variable([0, B, 3])), ShapeError, /expected at least one step and one batch row, got \[0, 2, 3\]/);
    });

    test('NaN in input', () => {
      rejects(() => make(kind).forward(withValue(variable([T, B, 3]), 7, NaN)), DataError,
        new RegExp(`^${where}: input: expected finite values, got NaN at flat index 7$`));
    });

    test('Infinity in input', () => {
      rejects(() => make(kind).forward(withValue(variable([T, B, 3]), 4, Infinity)), DataError,
        new RegExp(`^${where}: input: expected finite values, got Infinity at flat index 4$`));
    });

    test('-Infinity in input', () => {
      rejects(() => make(kind).forward(withValue(variable([T, B, 3]), 0, -Infinity)), DataError,
        new RegExp(`^${where}: input: expected finite values, got -Infinity at flat index 0$`));
    });

    test('initial state h with the wrong batch size', () => {
      rejects(() => make(kind).forward(variable([T, B, 3]), { h: variable([1, 3, 4]) }), ShapeError,
        new RegExp(`^${where}: state\\.h: expected shape \\[layers·directions=1, B=2, H=4\\], got \\[1, 3, 4\\]$`));
    });

    test('initial state h with the wrong hidden size', () => {
      rejects(() => make(kind).forward(variable([T, B, 3]), { h: variable([1, B, 5]) }), ShapeError,
        new RegExp(`^${where}: state\\.h: expected shape \\[layers·directions=1, B=2, H=4\\], got \\[1, 2, 5\\]$`));
    });

    test('initial state h with too few slots for layers · directions', () => {
      const m = make(kind, { numLayers: 2, bidirectional: true });
      rejects(() => m.forward(variable([T, B, 3]), { h: variable([2, B, 4]) }), ShapeError,
        new RegExp(`^${where}: state\\.h: expected shape \\[layers·directions=4, B=2, H=4\\], got \\[2, 2, 4\\]$`));
    });

    test('initial state h of rank 2 (missing the slot axis)', () => {
      rejects(() => make(kind).forward(variable([T, B, 3]), { h: variable([B, 4]) }), ShapeError,
        new RegExp(`^${where}: state\\.h: expected shape \\[layers·directions=1, B=2, H=4\\], got \\[2, 4\\]$`));
    });

    test('NaN in initial state h', () => {
      rejects(() => make(kind).forward(variable([T, B, 3]), { h: withValue(variable([1, B, 4]), 3, NaN) }), DataError,
        new RegExp(`^${where}: state\\.h: expected finite values, got NaN at flat index 3$`));
    });

    test('lengths with the wrong count', () => {
      rejects(() => make(kind).forward(variable([T, B, 3]), undefined, { lengths: [5, 4, 3] }), ShapeError,
        new RegExp(`^${where}: lengths: expected 2 lengths \\(one per batch row\\), got 3$`));
    });

    test('a length longer than T', () => {
      rejects(() => make(kind).forward(variable([T, B, 3]), undefined, { lengths: [5, 6] }), DataError,
        new RegExp(`^${where}: lengths: expected each length an integer in \\[1, 5\\], got 6 for batch row 1$`));
    });

    test('a length of 0', () => {
      rejects(() => make(kind).forward(variable([T, B, 3]), undefined, { lengths: [0, 5] }), DataError,
        new RegExp(`^${where}: lengths: expected each length an integer in \\[1, 5\\], got 0 for batch row 0$`));
    });

    test('a length of -1', () => {
      rejects(() => make(kind).forward(variable([T, B, 3]), undefined, { lengths: [3, -1] }), DataError,
        new RegExp(`^${where}: lengths: expected each length an integer in \\[1, 5\\], got -1 for batch row 1$`));
    });

    test('a non-integer length', () => {
      rejects(() => make(kind).forward(variable([T, B, 3]), undefined, { lengths: [2.5, 5] }), DataError,
        new RegExp(`^${where}: lengths: expected each length an integer in \\[1, 5\\], got 2\\.5 for batch row 0$`));
    });

    test('a NaN length', () => {
      rejects(() => make(kind).forward(variable([T, B, 3]), undefined, { lengths: [NaN, 5] }), DataError,
        new RegExp(`^${where}: lengths: expected each length an integer in \\[1, 5\\], got NaN for batch row 0$`));
    });

    test('float64 input into a float32 model', () => {
      rejects(() => make(kind).forward(variable([T, B, 3], 'float64')), ShapeError, /expected all operands float32, got float64/);
    });

    test('float32 initial state into a float64 model', () => {
      const m = make(kind, { dtype: 'float64' });
      rejects(() => m.forward(variable([T, B, 3], 'float64'), { h: variable([1, B, 4], 'float32') }), ShapeError,
        /expected all operands float64, got float32/);
    });
  });

  describe(`${kind} constructor rejects bad options`, () => {
    test('hiddenSize 0', () => {
      rejects(() => make(kind, { hiddenSize: 0 }), ConfigError, new RegExp(`^${kind}: expected hiddenSize a positive integer, got 0$`));
    });

    test('hiddenSize -3', () => {
      rejects(() => make(kind, { hiddenSize: -3 }), ConfigError, new RegExp(`^${kind}: expected hiddenSize a positive integer, got -3$`));
    });

    test('non-integer hiddenSize', () => {
      rejects(() => make(kind, { hiddenSize: 2.5 }), ConfigError, new RegExp(`^${kind}: expected hiddenSize a positive integer, got 2\\.5$`));
    });

    test('hiddenSize given as a string', () => {
      rejects(() => make(kind, { hiddenSize: untyped<number>('4') }), ConfigError,
        new RegExp(`^${kind}: expected hiddenSize a positive integer, got "4"$`));
    });

    test('inputSize 0', () => {
      rejects(() => make(kind, { inputSize: 0 }), ConfigError, new RegExp(`^${kind}: expected inputSize a positive integer, got 0$`));
    });

    test('inputSize -1', () => {
      rejects(() => make(kind, { inputSize: -1 }), ConfigError, new RegExp(`^${kind}: expected inputSize a positive integer, got -1$`));
    });

    test('numLayers 0', () => {
      rejects(() => make(kind, { numLayers: 0 }), ConfigError, new RegExp(`^${kind}: expected numLayers a positive integer, got 0$`));
    });

    test('dropout -0.1', () => {
      rejects(() => make(kind, { numLayers: 2, dropout: -0.1 }), ConfigError, new RegExp(`^${kind}: expected dropout in \\[0, 1\\), got -0\\.1$`));
    });

    test('dropout 1', () => {
      rejects(() => make(kind, { numLayers: 2, dropout: 1 }), ConfigError, new RegExp(`^${kind}: expected dropout in \\[0, 1\\), got 1$`));
    });

    test('dropout 1.5', () => {
      rejects(() => make(kind, { numLayers: 2, dropout: 1.5 }), ConfigError, new RegExp(`^${kind}: expected dropout in \\[0, 1\\), got 1\\.5$`));
    });

    test('dropout NaN', () => {
      rejects(() => make(kind, { numLayers: 2, dropout: NaN }), ConfigError, new RegExp(`^${kind}: expected dropout in \\[0, 1\\), got NaN$`));
    });

    test('dropout > 0 with numLayers 1', () => {
      rejects(() => make(kind, { numLayers: 1, dropout: 0.2 }), ConfigError,
        new RegExp(`^${kind}: expected dropout 0 with numLayers 1, got 0\\.2 \\(dropout acts between stacked layers only`));
    });

    test('unknown option key hidden_size', () => {
      rejects(() => make(kind, untyped<RecurrentOptions>({ hidden_size: 8 })), ConfigError,
        new RegExp(`^${kind}: expected options among inputSize, hiddenSize, .*, got 'hidden_size'$`));
    });
  });
}

describe('kind-specific options', () => {
  test('RNN with nonlinearity sigmoid', () => {
    rejects(() => new RNN({ inputSize: 3, hiddenSize: 4, nonlinearity: untyped<'tanh'>('sigmoid') }), ConfigError,
      /^RNN: expected nonlinearity 'tanh' or 'relu', got 'sigmoid'$/);
  });

  test('GRU with a non-boolean resetAfter', () => {
    rejects(() => new GRU({ inputSize: 3, hiddenSize: 4, resetAfter: untyped<boolean>('yes') }), ConfigError,
      /^GRU: expected resetAfter true or false, got "yes"$/);
  });

  test('LSTM rejects nonlinearity (an RNN-only option)', () => {
    rejects(() => new LSTM(untyped<RecurrentOptions>({ inputSize: 3, hiddenSize: 4, nonlinearity: 'relu' })), ConfigError,
      /^LSTM: expected options among .*, got 'nonlinearity'$/);
  });

  test('LSTM rejects resetAfter (a GRU-only option)', () => {
    rejects(() => new LSTM(untyped<RecurrentOptions>({ inputSize: 3, hiddenSize: 4, resetAfter: false })), ConfigError,
      /^LSTM: expected options among .*, got 'resetAfter'$/);
  });

  test('LSTM initial state c with the wrong batch size', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 4 });
    rejects(() => m.forward(variable([T, B, 3]), { h: variable([1, B, 4]), c: variable([1, 1, 4]) }), ShapeError,
      /^LSTM\.forward: state\.c: expected shape \[layers·directions=1, B=2, H=4\], got \[1, 1, 4\]$/);
  });

  test('LSTM initial state c with the wrong number of slots', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 3 });
    rejects(() => m.forward(variable([T, B, 3]), { c: variable([2, B, 4]) }), ShapeError,
      /^LSTM\.forward: state\.c: expected shape \[layers·directions=3, B=2, H=4\], got \[2, 2, 4\]$/);
  });

  test('NaN in LSTM initial state c', () => {
    const m = new LSTM({ inputSize: 3, hiddenSize: 4 });
    rejects(() => m.forward(variable([T, B, 3]), { c: withValue(variable([1, B, 4]), 5, NaN) }), DataError,
      /^LSTM\.forward: state\.c: expected finite values, got NaN at flat index 5$/);
  });
});

type CellKind = 'RNNCell' | 'LSTMCell' | 'GRUCell';
const CELLS: CellKind[] = ['RNNCell', 'LSTMCell', 'GRUCell'];

function makeCell(kind: CellKind, options: Record<string, unknown> = {}): RNNCell | LSTMCell | GRUCell {
  const o = { inputSize: 3, hiddenSize: 4, ...options } as { inputSize: number; hiddenSize: number };
  if (kind === 'RNNCell') return new RNNCell(o);
  if (kind === 'LSTMCell') return new LSTMCell(o);
  return new GRUCell(o);
}

for (const kind of CELLS) {
  describe(`${kind} rejects bad input`, () => {
    const where = `${kind}\\.step`;

    test('x of rank 3', () => {
      rejects(() => makeCell(kind).step(variable([1, B, 3])), ShapeError,
        new RegExp(`^${where}: input: expected shape \\[B, inputSize=3\\], got \\[1, 2, 3\\]$`));
    });

    test('x with the wrong feature size', () => {
      rejects(() => makeCell(kind).step(variable([B, 5])), ShapeError,
        new RegExp(`^${where}: input: expected shape \\[B, inputSize=3\\], got \\[2, 5\\]$`));
    });

    test('NaN in x', () => {
      rejects(() => makeCell(kind).step(withValue(variable([B, 3]), 2, NaN)), DataError,
        new RegExp(`^${where}: input: expected finite values, got NaN at flat index 2$`));
    });

    test('Infinity in x', () => {
      rejects(() => makeCell(kind).step(withValue(variable([B, 3]), 1, Infinity)), DataError,
        new RegExp(`^${where}: input: expected finite values, got Infinity at flat index 1$`));
    });

    test('state h with the wrong batch size', () => {
      rejects(() => makeCell(kind).step(variable([B, 3]), { h: variable([3, 4]) }), ShapeError,
        new RegExp(`^${where}: state\\.h: expected shape \\[B=2, H=4\\], got \\[3, 4\\]$`));
    });

    test('NaN in state h', () => {
      rejects(() => makeCell(kind).step(variable([B, 3]), { h: withValue(variable([B, 4]), 6, NaN) }), DataError,
        new RegExp(`^${where}: state\\.h: expected finite values, got NaN at flat index 6$`));
    });

    test('hiddenSize 0', () => {
      rejects(() => makeCell(kind, { hiddenSize: 0 }), ConfigError, new RegExp(`^${kind}: expected hiddenSize a positive integer, got 0$`));
    });

    test('non-integer inputSize', () => {
      rejects(() => makeCell(kind, { inputSize: 1.5 }), ConfigError, new RegExp(`^${kind}: expected inputSize a positive integer, got 1\\.5$`));
    });

    test('unknown option key hidden_size', () => {
      rejects(() => makeCell(kind, { hidden_size: 4 }), ConfigError, new RegExp(`^${kind}: expected options among .*, got 'hidden_size'$`));
    });

    test('float64 x into a float32 cell', () => {
      rejects(() => makeCell(kind).step(variable([B, 3], 'float64')), ShapeError, /expected all operands float32, got float64/);
    });
  });
}

describe('cell-specific options and state', () => {
  test('RNNCell with nonlinearity sigmoid', () => {
    rejects(() => makeCell('RNNCell', { nonlinearity: 'sigmoid' }), ConfigError, /^RNNCell: expected nonlinearity 'tanh' or 'relu', got 'sigmoid'$/);
  });

  test('GRUCell with a non-boolean resetAfter', () => {
    rejects(() => makeCell('GRUCell', { resetAfter: 1 }), ConfigError,
      /^GRUCell: expected resetAfter true or false, got 1$/);
  });

  test('LSTMCell state c with the wrong hidden size', () => {
    rejects(() => new LSTMCell({ inputSize: 3, hiddenSize: 4 }).step(variable([B, 3]), { c: variable([B, 3]) }), ShapeError,
      /^LSTMCell\.step: state\.c: expected shape \[B=2, H=4\], got \[2, 3\]$/);
  });

  test('NaN in LSTMCell state c', () => {
    rejects(() => new LSTMCell({ inputSize: 3, hiddenSize: 4 }).step(variable([B, 3]), { c: withValue(variable([B, 4]), 0, NaN) }), DataError,
      /^LSTMCell\.step: state\.c: expected finite values, got NaN at flat index 0$/);
  });
});

describe('Linear and Embedding reject bad input', () => {
  test('Linear with the wrong input size', () => {
    rejects(() => new Linear(3, 2).forward(variable([4, 5])), ShapeError,
      /^linear: expected input \[\.\.\., 3\] for weight \[2, 3\], got \[4, 5\]$/);
  });

  test('Linear with inFeatures 0', () => {
    rejects(() => new Linear(0, 2), ConfigError, /^Linear: expected inFeatures a positive integer, got 0$/);
  });

  test('Linear with an unknown option', () => {
    rejects(() => new Linear(3, 2, untyped<{ bias: boolean }>({ use_bias: false })), ConfigError, /^Linear: expected options among .*, got 'use_bias'$/);
  });

  test('Linear with float64 input into float32 weights', () => {
    rejects(() => new Linear(3, 2).forward(variable([4, 3], 'float64')), ShapeError,
      /^linear: expected all operands float32, got float64 \(convert with \.to\(\) first\)$/);
  });

  test('Embedding with an id equal to the vocabulary size', () => {
    rejects(() => new Embedding(5, 3).forward([0, 4, 5]), DataError, /^embedding: expected ids in \[0, 5\), got 5 at position 2$/);
  });

  test('Embedding with a negative id', () => {
    rejects(() => new Embedding(5, 3).forward([-1, 4]), DataError, /^embedding: expected ids in \[0, 5\), got -1 at position 0$/);
  });

  test('Embedding with a non-integer id', () => {
    rejects(() => new Embedding(5, 3).forward([1, 2.5]), DataError, /^embedding: expected ids in \[0, 5\), got 2\.5 at position 1$/);
  });

  test('Embedding with a NaN id', () => {
    rejects(() => new Embedding(5, 3).forward([NaN]), DataError, /^embedding: expected ids in \[0, 5\), got NaN at position 0$/);
  });

  test('Embedding with ids not matching their shape', () => {
    rejects(() => new Embedding(5, 3).forward([1, 2, 3], [2, 2]), ShapeError, /^embedding: expected 4 ids for shape \[2, 2\], got 3$/);
  });

  test('Embedding with numEmbeddings 0', () => {
    rejects(() => new Embedding(0, 3), ConfigError, /^Embedding: expected numEmbeddings a positive integer, got 0$/);
  });
});

describe('losses reject bad input', () => {
  test('crossEntropy with a target equal to the class count', () => {
    rejects(() => crossEntropy(variable([3, 4]), [0, 4, 1]), DataError,
      /^crossEntropy: expected targets in \[0, 4\) or ignoreIndex -100, got 4 at position 1$/);
  });

  test('crossEntropy with a negative target that is not ignoreIndex', () => {
    rejects(() => crossEntropy(variable([3, 4]), [0, 1, -1]), DataError,
      /^crossEntropy: expected targets in \[0, 4\) or ignoreIndex -100, got -1 at position 2$/);
  });

  test('crossEntropy with a non-integer target', () => {
    rejects(() => crossEntropy(variable([3, 4]), [0, 1.5, 2]), DataError,
      /^crossEntropy: expected targets in \[0, 4\) or ignoreIndex -100, got 1\.5 at position 1$/);
  });

  test('crossEntropy with the wrong target count', () => {
    rejects(() => crossEntropy(variable([2, 3, 4]), [0, 1, 2]), ShapeError,
      /^crossEntropy: expected 6 targets for logits \[2, 3, 4\], got 3$/);
  });

  test('crossEntropy with a bad reduction', () => {
    rejects(() => crossEntropy(variable([3, 4]), [0, 1, 2], { reduction: untyped<'mean'>('avg') }), ConfigError,
      /^crossEntropy: expected reduction 'mean' or 'sum', got 'avg'$/);
  });

  test('mse with a shape mismatch', () => {
    rejects(() => mse(variable([3, 4]), Tensor.zeros([4, 3])), ShapeError, /^mse: expected target shape \[3, 4\], got \[4, 3\]$/);
  });

  test('mse with a bad reduction', () => {
    rejects(() => mse(variable([3, 4]), Tensor.zeros([3, 4]), untyped<'mean'>('none')), ConfigError,
      /^mse: expected reduction 'mean' or 'sum', got 'none'$/);
  });
});

describe('loadStateDict rejects bad state and writes nothing', () => {
  const model = () => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, rng: new Rng(7) });
  /** A complete state dict of the right shapes holding other values. */
  const replacement = () => new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, rng: new Rng(8) }).stateDict();
  const snapshot = (m: LSTM) => m.namedParameters().map(([n, p]) => [n, p.value, Array.from(p.data)] as const);

  function assertUnchanged(m: LSTM, before: ReturnType<typeof snapshot>): void {
    const after = m.namedParameters();
    assert.equal(after.length, before.length);
    after.forEach(([n, p], i) => {
      const [bn, bt, bd] = before[i]!;
      assert.equal(n, bn);
      assert.equal(p.value, bt, `${n}: the tensor was replaced`);
      assert.deepEqual(Array.from(p.data), bd, `${n}: values changed`);
    });
  }

  test('the replacement itself loads (sanity check of the fixture)', () => {
    const m = model();
    const state = replacement();
    m.loadStateDict(state);
    assert.deepEqual(Array.from(m.namedParameters()[0]![1].data), Array.from(state.get('weight_ih_l0')!.data));
  });

  test('a missing key (strict)', () => {
    const m = model();
    const before = snapshot(m);
    const state = replacement();
    state.delete('bias_hh_l1');
    rejects(() => m.loadStateDict(state), ConfigError,
      /^loadStateDict: expected exactly the model's parameter names, got missing \[bias_hh_l1\], unexpected \[\]$/);
    assertUnchanged(m, before);
  });

  test('an unexpected key (strict)', () => {
    const m = model();
    const before = snapshot(m);
    const state = replacement();
    state.set('weight_ih_l2', Tensor.zeros([16, 4]));
    rejects(() => m.loadStateDict(state), ConfigError,
      /^loadStateDict: expected exactly the model's parameter names, got missing \[\], unexpected \[weight_ih_l2\]$/);
    assertUnchanged(m, before);
  });

  test('a wrong shape, after keys that would load fine', () => {
    const m = model();
    const before = snapshot(m);
    const state = replacement();
    state.set('weight_hh_l1', Tensor.zeros([16, 5])); // late in the order: earlier keys are valid
    rejects(() => m.loadStateDict(state), ShapeError, /^loadStateDict: weight_hh_l1: expected shape \[16, 4\], got \[16, 5\]$/);
    assertUnchanged(m, before);
  });

  test('a wrong shape with strict = false', () => {
    const m = model();
    const before = snapshot(m);
    const state = replacement();
    state.delete('bias_ih_l0');
    state.set('bias_hh_l1', Tensor.zeros([4]));
    rejects(() => m.loadStateDict(state, false), ShapeError, /^loadStateDict: bias_hh_l1: expected shape \[16\], got \[4\]$/);
    assertUnchanged(m, before);
  });

  test('a record (not a Map) with a wrong shape', () => {
    const m = model();
    const before = snapshot(m);
    const state = Object.fromEntries(replacement());
    state['weight_ih_l0'] = Tensor.zeros([3, 16]);
    rejects(() => m.loadStateDict(state), ShapeError, /^loadStateDict: weight_ih_l0: expected shape \[16, 3\], got \[3, 16\]$/);
    assertUnchanged(m, before);
  });
});

describe('tensors and ops reject bad input', () => {
  test('Tensor constructor with a data length not matching the shape', () => {
    rejects(() => new Tensor([2, 3], new Float32Array(5)), ShapeError, /^Tensor: expected 6 elements for shape \[2, 3\], got 5$/);
  });

  test('Tensor.from with too many values', () => {
    rejects(() => Tensor.from([1, 2, 3, 4, 5, 6, 7], [2, 3]), ShapeError, /^Tensor: expected 6 elements for shape \[2, 3\], got 7$/);
  });

  test('Tensor with a negative dimension', () => {
    rejects(() => Tensor.zeros([2, -3]), ShapeError, /^Tensor: expected non-negative integer dimensions, got \[2, -3\]$/);
  });

  test('Tensor with a non-integer dimension', () => {
    rejects(() => Tensor.zeros([1.5, 2]), ShapeError, /^Tensor: expected non-negative integer dimensions, got \[1\.5, 2\]$/);
  });

  test('reshape to an incompatible shape', () => {
    rejects(() => Tensor.zeros([2, 3]).reshape([4, 2]), ShapeError, /^reshape: expected a shape with 6 elements, got \[4, 2\]$/);
  });

  test('reshape with -1 that cannot divide evenly', () => {
    rejects(() => Tensor.zeros([2, 3]).reshape([-1, 4]), ShapeError, /^reshape: expected a shape with 6 elements, got \[-1, 4\]$/);
  });

  test('reshape with two -1 dimensions', () => {
    rejects(() => Tensor.zeros([2, 3]).reshape([-1, -1]), ShapeError, /^reshape: expected .*, got \[-1, -1\]$/);
  });

  test('reshape with a negative dimension other than -1', () => {
    rejects(() => Tensor.zeros([2, 3]).reshape([-2, -3]), ShapeError, /^reshape: expected .*, got \[-2, -3\]$/);
  });

  test('autograd reshape to an incompatible shape', () => {
    rejects(() => reshape(variable([2, 3]), [5]), ShapeError, /^reshape: expected a shape with 6 elements, got \[5\]$/);
  });

  test('concat on an axis past the rank', () => {
    rejects(() => concat([variable([2, 3]), variable([2, 3])], 2), ShapeError, /^concat: expected an axis in \[-2, 1\], got 2$/);
  });

  test('concat on a non-integer axis', () => {
    rejects(() => concat([variable([2, 3]), variable([2, 3])], 0.5), ShapeError, /^concat: expected an axis in \[-2, 1\], got 0\.5$/);
  });

  test('concat with a mismatch off the concat axis', () => {
    rejects(() => concat([variable([2, 3]), variable([4, 3])], 1), ShapeError,
      /^concat: expected shapes like \[2, 3\] except on axis 1, got \[4, 3\]$/);
  });

  test('concat with a rank mismatch', () => {
    rejects(() => concat([variable([2, 3]), variable([2, 3, 1])], 0), ShapeError,
      /^concat: expected shapes like \[2, 3\] except on axis 0, got \[2, 3, 1\]$/);
  });

  test('concat of nothing', () => {
    rejects(() => concat([], 0), ShapeError, /^concat: expected at least one variable, got none$/);
  });

  test('concat mixing float32 and float64', () => {
    rejects(() => concat([variable([2, 3]), variable([2, 3], 'float64')], 0), ShapeError,
      /^concat: expected all operands float32, got float64/);
  });

  test('slice on an axis below -rank', () => {
    rejects(() => slice(variable([2, 3]), -3, 0, 1), ShapeError, /^slice: expected an axis in \[-2, 1\], got -3$/);
  });

  test('slice with end past the size', () => {
    rejects(() => slice(variable([2, 3]), 1, 1, 4), ShapeError, /^slice: expected 0 <= start < end <= 3 on axis 1, got start 1, end 4$/);
  });

  test('slice with start >= end', () => {
    rejects(() => slice(variable([2, 3]), 0, 1, 1), ShapeError, /^slice: expected 0 <= start < end <= 2 on axis 0, got start 1, end 1$/);
  });

  test('slice with a negative start', () => {
    rejects(() => slice(variable([2, 3]), 1, -1, 2), ShapeError, /^slice: expected 0 <= start < end <= 3 on axis 1, got start -1, end 2$/);
  });

  test('slice with a non-integer start', () => {
    rejects(() => slice(variable([2, 3]), 1, 0.5, 2), ShapeError, /^slice: expected 0 <= start < end <= 3 on axis 1, got start 0\.5, end 2$/);
  });

  test('matmul with mismatched inner dimensions', () => {
    rejects(() => matmul(variable([2, 3]), variable([4, 5])), ShapeError,
      /^matmul: expected A \[m, k\] and B \[k, n\], got A \[2, 3\], B \[4, 5\]$/);
  });

  test('matmul with a rank-3 operand', () => {
    rejects(() => matmul(variable([2, 3, 1]), variable([3, 5])), ShapeError,
      /^matmul: expected A \[m, k\] and B \[k, n\], got A \[2, 3, 1\], B \[3, 5\]$/);
  });

  test('matmul mixing float32 and float64', () => {
    rejects(() => matmul(variable([2, 3]), variable([3, 4], 'float64')), ShapeError,
      /^matmul: expected all operands float32, got float64 \(convert with \.to\(\) first\)$/);
  });

  test('add mixing float64 and float32', () => {
    rejects(() => add(variable([2, 3], 'float64'), variable([2, 3])), ShapeError,
      /^add: expected all operands float64, got float32 \(convert with \.to\(\) first\)$/);
  });

  test('add with a shape mismatch', () => {
    rejects(() => add(variable([2, 3]), variable([3, 2])), ShapeError, /^add: expected matching shapes, left \[2, 3\], got right \[3, 2\]$/);
  });

  test('linear with a bias of the wrong size', () => {
    rejects(() => linear(variable([4, 3]), variable([2, 3]), variable([3])), ShapeError, /^linear: expected bias \[2\], got \[3\]$/);
  });
});
