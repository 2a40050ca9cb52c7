import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Embedding, GRU, GRUCell, LSTM, LSTMCell, Linear, RNN, RNNCell, recurrentParameterCount, type Module } from '../../src/nn/index.js';
import { Rng } from '../../src/tensor/index.js';

/** Default initialisation, parameter names, shapes and order as torch.nn. */

interface Stats {
  n: number;
  min: number;
  max: number;
  mean: number;
  variance: number;
}

function stats(values: ArrayLike<number>): Stats {
  const n = values.length;
  let sum = 0, sq = 0, min = Infinity, max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    sum += v;
    sq += v * v;
    min = Math.min(min, v);
    max = Math.max(max, v);
  }
  const mean = sum / n;
  return { n, min, max, mean, variance: sq / n - mean * mean };
}

/**
 * U(-b, b) has variance b²/3. The sample variance of n draws has relative
 * standard error √(0.8/n), so small tensors (biases of 64..256 values) get a
 * 4σ tolerance; large ones and the pooled parameters get the 15% of the spec.
 */
function assertUniform(name: string, values: ArrayLike<number>, bound: number): void {
  const s = stats(values);
  const eps = 1e-6 * bound; // float32 rounding of values drawn just inside the bound
  assert.ok(s.min >= -bound - eps && s.max <= bound + eps, `${name}: range [${s.min}, ${s.max}] outside ±${bound}`);
  const want = (bound * bound) / 3;
  const tol = Math.max(0.15, 4 * Math.sqrt(0.8 / s.n));
  assert.ok(Math.abs(s.variance / want - 1) < tol, `${name}: variance ${s.variance}, want ${want} ± ${(tol * 100).toFixed(0)}% (n = ${s.n})`);
  // The mean's standard error is b/√(3n).
  assert.ok(Math.abs(s.mean) < 5 * bound / Math.sqrt(3 * s.n), `${name}: mean ${s.mean}`);
  // Spread over the whole interval, not a constant or a narrow band.
  if (s.n >= 64) assert.ok(s.min < -0.8 * bound && s.max > 0.8 * bound, `${name}: range [${s.min}, ${s.max}] too narrow`);
}

function assertModuleUniform(label: string, m: Module, bound: number): void {
  const params = m.namedParameters();
  assert.ok(params.length > 0);
  const pooled: number[] = [];
  for (const [name, p] of params) {
    assertUniform(`${label}.${name}`, p.data, bound);
    pooled.push(...p.data);
  }
  const s = stats(pooled);
  const want = (bound * bound) / 3;
  assert.ok(Math.abs(s.variance / want - 1) < 0.15, `${label} pooled: variance ${s.variance}, want ${want}`);
}

const H = 64, IN = 32;

describe('recurrent parameters are U(±1/√H) as PyTorch', () => {
  const bound = 1 / Math.sqrt(H);
  const cases: Array<[string, () => Module]> = [
    ['RNN', () => new RNN({ inputSize: IN, hiddenSize: H, rng: new Rng(1) })],
    ['RNN relu 2-layer', () => new RNN({ inputSize: IN, hiddenSize: H, numLayers: 2, nonlinearity: 'relu', rng: new Rng(2) })],
    ['LSTM', () => new LSTM({ inputSize: IN, hiddenSize: H, rng: new Rng(3) })],
    ['LSTM 2-layer bidirectional', () => new LSTM({ inputSize: IN, hiddenSize: H, numLayers: 2, bidirectional: true, rng: new Rng(4) })],
    ['GRU', () => new GRU({ inputSize: IN, hiddenSize: H, rng: new Rng(5) })],
    ['GRU reset-before bidirectional', () => new GRU({ inputSize: IN, hiddenSize: H, bidirectional: true, resetAfter: false, rng: new Rng(6) })],
    ['RNNCell', () => new RNNCell({ inputSize: IN, hiddenSize: H, rng: new Rng(7) })],
    ['LSTMCell', () => new LSTMCell({ inputSize: IN, hiddenSize: H, rng: new Rng(8) })],
    ['GRUCell', () => new GRUCell({ inputSize: IN, hiddenSize: H, rng: new Rng(9) })],
    ['LSTM default rng', () => new LSTM({ inputSize: IN, hiddenSize: H })],
    ['GRU float64', () => new GRU({ inputSize: IN, hiddenSize: H, dtype: 'float64', rng: new Rng(10) })],
  ];
  for (const [label, make] of cases) {
    test(label, () => assertModuleUniform(label, make(), bound));
  }

  test('the bound follows hiddenSize, not inputSize', () => {
    const m = new LSTM({ inputSize: 4, hiddenSize: 100, rng: new Rng(11) });
    assertModuleUniform('LSTM H=100', m, 0.1);
  });
});

describe('Linear and Embedding initialisation', () => {
  test('Linear weight and bias within ±1/√in, spread as U(±1/√in)', () => {
    const inF = 50;
    const lin = new Linear(inF, 40, { rng: new Rng(12) });
    const bound = 1 / Math.sqrt(inF);
    assert.deepEqual(lin.weight.shape, [40, inF]);
    assert.deepEqual(lin.bias?.shape, [40]);
    assertUniform('Linear.weight', lin.weight.data, bound);
    assertUniform('Linear.bias', lin.bias!.data, bound);
  });

  test('Linear names are weight, bias; bias: false removes the bias', () => {
    assert.deepEqual(new Linear(3, 2).namedParameters().map(([n]) => n), ['weight', 'bias']);
    const noBias = new Linear(3, 2, { bias: false });
    assert.equal(noBias.bias, null);
    assert.deepEqual(noBias.namedParameters().map(([n]) => n), ['weight']);
  });

  test('Embedding weight ~ N(0, 1)', () => {
    const emb = new Embedding(200, 50, { rng: new Rng(13) });
    assert.deepEqual(emb.weight.shape, [200, 50]);
    assert.deepEqual(emb.namedParameters().map(([n]) => n), ['weight']);
    const s = stats(emb.weight.data);
    assert.ok(Math.abs(s.mean) < 0.05, `mean ${s.mean}`);
    assert.ok(Math.abs(s.variance - 1) < 0.06, `variance ${s.variance}`);
    // Normal, not uniform: tails beyond ±3 exist, and about 68% lie within ±1.
    assert.ok(s.min < -3 && s.max > 3, `range [${s.min}, ${s.max}]`);
    const within1 = Array.from(emb.weight.data).filter((v) => Math.abs(v) < 1).length / s.n;
    assert.ok(Math.abs(within1 - 0.6827) < 0.02, `fraction within ±1: ${within1}`);
  });
});

type Shapes = Array<[string, number[]]>;

function namesAndShapes(m: Module): Shapes {
  return m.namedParameters().map(([n, p]) => [n, [...p.shape]]);
}

/** torch.nn's named_parameters() for a recurrent layer: per layer, per direction, weight_ih, weight_hh, bias_ih, bias_hh. */
function torchNames(gates: number, inputSize: number, hidden: number, layers: number, bidirectional: boolean, bias = true): Shapes {
  const G = gates * hidden, dirs = bidirectional ? 2 : 1;
  const out: Shapes = [];
  for (let l = 0; l < layers; l++) {
    const inSize = l === 0 ? inputSize : dirs * hidden;
    for (let d = 0; d < dirs; d++) {
      const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
      out.push([`weight_ih${sfx}`, [G, inSize]], [`weight_hh${sfx}`, [G, hidden]]);
      if (bias) out.push([`bias_ih${sfx}`, [G]], [`bias_hh${sfx}`, [G]]);
    }
  }
  return out;
}

describe('parameter names, shapes and order as torch.nn', () => {
  test('2-layer bidirectional LSTM, written out', () => {
    const m = new LSTM({ inputSize: 5, hiddenSize: 3, numLayers: 2, bidirectional: true });
    assert.deepEqual(namesAndShapes(m), [
      ['weight_ih_l0', [12, 5]],
      ['weight_hh_l0', [12, 3]],
      ['bias_ih_l0', [12]],
      ['bias_hh_l0', [12]],
      ['weight_ih_l0_reverse', [12, 5]],
      ['weight_hh_l0_reverse', [12, 3]],
      ['bias_ih_l0_reverse', [12]],
      ['bias_hh_l0_reverse', [12]],
      ['weight_ih_l1', [12, 6]],
      ['weight_hh_l1', [12, 3]],
      ['bias_ih_l1', [12]],
      ['bias_hh_l1', [12]],
      ['weight_ih_l1_reverse', [12, 6]],
      ['weight_hh_l1_reverse', [12, 3]],
      ['bias_ih_l1_reverse', [12]],
      ['bias_hh_l1_reverse', [12]],
    ]);
  });

  const configs: Array<[string, number, (o: { inputSize: number; hiddenSize: number; numLayers: number; bidirectional: boolean; bias: boolean }) => Module]> = [
    ['RNN', 1, (o) => new RNN(o)],
    ['LSTM', 4, (o) => new LSTM(o)],
    ['GRU', 3, (o) => new GRU(o)],
  ];
  for (const [kind, gates, make] of configs) {
    for (const layers of [1, 3]) {
      for (const bidirectional of [false, true]) {
        for (const bias of [true, false]) {
          test(`${kind} numLayers=${layers} bidirectional=${bidirectional} bias=${bias}`, () => {
            const m = make({ inputSize: 7, hiddenSize: 5, numLayers: layers, bidirectional, bias });
            assert.deepEqual(namesAndShapes(m), torchNames(gates, 7, 5, layers, bidirectional, bias));
            assert.deepEqual([...m.stateDict().keys()], torchNames(gates, 7, 5, layers, bidirectional, bias).map(([n]) => n));
            if (bias) {
              const count = m.parameters().reduce((s, p) => s + p.data.length, 0);
              assert.equal(recurrentParameterCount(gates, 7, 5, layers, bidirectional ? 2 : 1), count);
            }
          });
        }
      }
    }
  }

  test('recurrentParameterCount of an absurd layer count returns at once (a hand-edited checkpoint must not hang the loader)', () => {
    assert.ok(recurrentParameterCount(4, 8, 16, 2 ** 53) > 2 ** 53);
  });

  test('bias: false removes every bias of a 2-layer bidirectional LSTM', () => {
    const m = new LSTM({ inputSize: 5, hiddenSize: 3, numLayers: 2, bidirectional: true, bias: false });
    const names = m.namedParameters().map(([n]) => n);
    assert.equal(names.length, 8);
    assert.ok(names.every((n) => n.startsWith('weight_')), names.join(', '));
  });

  test('cells: weight_ih [G, in], weight_hh [G, H], bias_ih [G], bias_hh [G]', () => {
    const cells: Array<[Module, number]> = [
      [new RNNCell({ inputSize: 5, hiddenSize: 3 }), 1],
      [new LSTMCell({ inputSize: 5, hiddenSize: 3 }), 4],
      [new GRUCell({ inputSize: 5, hiddenSize: 3 }), 3],
    ];
    for (const [cell, gates] of cells) {
      assert.deepEqual(namesAndShapes(cell), [
        ['weight_ih', [gates * 3, 5]],
        ['weight_hh', [gates * 3, 3]],
        ['bias_ih', [gates * 3]],
        ['bias_hh', [gates * 3]],
      ]);
    }
  });

  test('cells with bias: false have only weights', () => {
    for (const cell of [
      new RNNCell({ inputSize: 5, hiddenSize: 3, bias: false }),
      new LSTMCell({ inputSize: 5, hiddenSize: 3, bias: false }),
      new GRUCell({ inputSize: 5, hiddenSize: 3, bias: false }),
    ]) {
      assert.deepEqual(cell.namedParameters().map(([n]) => n), ['weight_ih', 'weight_hh']);
      assert.equal(cell.bias_ih, null);
      assert.equal(cell.bias_hh, null);
    }
  });
});

function flat(m: Module): number[] {
  return m.parameters().flatMap((p) => Array.from(p.data));
}

describe('seeding', () => {
  const makers: Array<[string, (rng?: Rng) => Module]> = [
    ['RNN', (rng) => new RNN({ inputSize: 4, hiddenSize: 6, numLayers: 2, rng })],
    ['LSTM', (rng) => new LSTM({ inputSize: 4, hiddenSize: 6, bidirectional: true, rng })],
    ['GRU', (rng) => new GRU({ inputSize: 4, hiddenSize: 6, rng })],
    ['LSTMCell', (rng) => new LSTMCell({ inputSize: 4, hiddenSize: 6, rng })],
    ['Linear', (rng) => new Linear(4, 6, { rng })],
    ['Embedding', (rng) => new Embedding(10, 6, { rng })],
  ];
  for (const [kind, make] of makers) {
    test(`${kind}: same seed gives identical weights, different seeds differ`, () => {
      assert.deepEqual(flat(make(new Rng(42))), flat(make(new Rng(42))));
      assert.notDeepEqual(flat(make(new Rng(42))), flat(make(new Rng(43))));
      // No rng option: still deterministic.
      assert.deepEqual(flat(make()), flat(make()));
    });
  }

  test('every parameter gets its own draws (no two tensors share values)', () => {
    const m = new LSTM({ inputSize: 6, hiddenSize: 6, numLayers: 2, rng: new Rng(1) });
    const seen = new Set<string>();
    for (const [name, p] of m.namedParameters()) {
      const key = Array.from(p.data.subarray(0, 6)).join(',');
      assert.ok(!seen.has(key), `${name} repeats another parameter's values`);
      seen.add(key);
    }
  });

  test('float64 and float32 models from the same seed hold the same draws', () => {
    const m32 = new GRU({ inputSize: 4, hiddenSize: 6, rng: new Rng(5) });
    const m64 = new GRU({ inputSize: 4, hiddenSize: 6, rng: new Rng(5), dtype: 'float64' });
    assert.deepEqual(flat(m64).map(Math.fround), flat(m32));
  });
});

describe("to('float64')", () => {
  test('converts every parameter of a stacked bidirectional LSTM and keeps the values', () => {
    const m = new LSTM({ inputSize: 4, hiddenSize: 5, numLayers: 2, bidirectional: true, rng: new Rng(3) });
    const before = flat(m);
    assert.equal(m.dtype, 'float32');
    const same = m.to('float64');
    assert.equal(same, m);
    assert.equal(m.dtype, 'float64');
    for (const [name, p] of m.namedParameters()) {
      assert.equal(p.dtype, 'float64', name);
      assert.ok(p.data instanceof Float64Array, name);
      assert.equal(p.value.dtype, 'float64', name);
    }
    assert.deepEqual(flat(m), before);
    m.to('float32');
    assert.ok(m.parameters().every((p) => p.data instanceof Float32Array));
    assert.deepEqual(flat(m), before);
  });

  test('converts cells, Linear and Embedding', () => {
    for (const m of [new GRUCell({ inputSize: 3, hiddenSize: 2 }), new Linear(3, 2), new Embedding(4, 2), new RNN({ inputSize: 3, hiddenSize: 2, bias: false })]) {
      m.to('float64');
      assert.ok(m.parameters().length > 0);
      assert.ok(m.parameters().every((p) => p.dtype === 'float64'));
    }
  });

  test('drops stale gradients', () => {
    const m = new Linear(3, 2);
    m.weight.gradData().fill(1);
    m.to('float64');
    assert.equal(m.weight.grad, null);
  });
});
