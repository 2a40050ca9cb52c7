import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ag from '../../src/autograd/index.js';
import { Variable } from '../../src/autograd/index.js';
import { crossEntropy, mse } from '../../src/losses/index.js';
import { Rng, Tensor } from '../../src/tensor/index.js';

const rng = new Rng(42);

function randVar(shape: number[], name: string, lo = -1, hi = 1): Variable {
  const t = Tensor.zeros(shape, 'float64');
  for (let i = 0; i < t.size; i++) t.data[i] = rng.range(lo, hi);
  return new Variable(t, true, name);
}

/** A fixed random weighting turns any output into a scalar whose gradient reaches every element. */
function probe(y: Variable): Variable {
  const w = new Rng(7);
  return ag.sum(ag.mul(y, ag.constant(Array.from({ length: y.value.size }, () => w.normal()), y.shape, y)));
}

function check(name: string, f: () => Variable, wrt: Variable[]): void {
  test(name, () => {
    const r = ag.gradcheck(f, wrt);
    assert.ok(r.ok, r.message);
    assert.ok(r.checked > 0);
  });
}

describe('gradcheck: every op', () => {
  const a = randVar([3, 4], 'a'), b = randVar([3, 4], 'b');
  check('add', () => probe(ag.add(a, b)), [a, b]);
  check('sub', () => probe(ag.sub(a, b)), [a, b]);
  check('mul', () => probe(ag.mul(a, b)), [a, b]);
  check('scale', () => probe(ag.scale(a, -2.5)), [a]);
  check('tanh', () => probe(ag.tanh(a)), [a]);
  check('sigmoid', () => probe(ag.sigmoid(a)), [a]);
  const awayFromKink = randVar([3, 4], 'k', 0.1, 1);
  const signs = ag.constant(Array.from({ length: 12 }, (_, i) => (i % 2 ? 1 : -1)), [3, 4], awayFromKink);
  check('relu (both sides of 0)', () => probe(ag.relu(ag.mul(awayFromKink, signs))), [awayFromKink]);
  check('exp', () => probe(ag.exp(a)), [a]);
  const pos = randVar([3, 4], 'pos', 0.5, 2);
  check('log', () => probe(ag.log(pos)), [pos]);
  check('square', () => probe(ag.square(a)), [a]);
  check('sum', () => ag.sum(ag.square(a)), [a]);
  check('mean', () => ag.mean(ag.square(a)), [a]);
  const m = randVar([4, 5], 'm');
  check('matmul', () => probe(ag.matmul(a, m)), [a, m]);
  const x3 = randVar([2, 3, 4], 'x3'), w = randVar([5, 4], 'w'), bias = randVar([5], 'bias');
  check('linear (3-d input, bias)', () => probe(ag.linear(x3, w, bias)), [x3, w, bias]);
  check('linear (no bias)', () => probe(ag.linear(a, w, null)), [a, w]);
  const c1 = randVar([2, 3, 2], 'c1'), c2 = randVar([2, 3, 3], 'c2');
  check('concat (last axis)', () => probe(ag.concat([c1, c2], 2)), [c1, c2]);
  check('concat (axis 0)', () => probe(ag.concat([a, b], 0)), [a, b]);
  check('slice (time)', () => probe(ag.slice(x3, 1, 1, 3)), [x3]);
  check('slice (features)', () => probe(ag.slice(x3, -1, 1, 2)), [x3]);
  check('split', () => probe(ag.concat(ag.split(x3, 2, [1, 3]).reverse(), 2)), [x3]);
  check('reshape', () => probe(ag.reshape(x3, [6, -1])), [x3]);
  check('transpose01', () => probe(ag.transpose01(x3)), [x3]);
  const table = randVar([6, 3], 'table');
  check('embedding (repeated ids)', () => probe(ag.embedding(table, [1, 4, 1, 0, 5, 4], [2, 3])), [table]);
  check('dropout (fixed mask)', () => probe(ag.dropout(a, 0.3, new Rng(5))), [a]);
  const logits = randVar([2, 3, 5], 'logits');
  check('crossEntropy (ignore index, mean)', () => crossEntropy(logits, [1, 4, -100, 0, -100, 2]), [logits]);
  check('crossEntropy (sum)', () => crossEntropy(logits, [1, 4, 3, 0, 2, 2], { reduction: 'sum' }), [logits]);
  check('mse', () => mse(a, b.value), [a]);
});

describe('gradcheck reports failures', () => {
  test('a wrong backward is caught and the worst element named', () => {
    const x = randVar([4], 'x');
    const wrong = (): Variable => {
      const out = ag.output(new Tensor([], Float64Array.of(Array.from(x.data).reduce((s, v) => s + v * v, 0))));
      ag.record('wrongSquareSum', [x], [out], () => {
        const gx = x.gradData();
        for (let i = 0; i < gx.length; i++) gx[i]! += i === 2 ? 0 : 2 * x.data[i]!; // element 2 forgotten
      });
      return out;
    };
    const r = ag.gradcheck(wrong, [x]);
    assert.equal(r.ok, false);
    assert.equal(r.worst?.variable, 'x');
    assert.equal(r.worst?.index, 2);
    assert.match(r.message, /FAILED.*x\[2\]/);
  });

  test('float32 variables are refused', () => {
    const x = new Variable(Tensor.zeros([2]), true, 'x32');
    assert.throws(() => ag.gradcheck(() => ag.sum(x), [x]), /gradcheck: expected float64 variables, got float32 for 'x32'/);
  });
});

describe('tape semantics', () => {
  test('gradients accumulate across backward calls and uses', () => {
    const x = randVar([3], 'x');
    const y = ag.sum(ag.add(x, x));
    y.backward();
    assert.deepEqual(Array.from(x.grad!.data), [2, 2, 2]);
    ag.sum(x).backward();
    assert.deepEqual(Array.from(x.grad!.data), [3, 3, 3]);
  });

  test('detach cuts the gradient', () => {
    const x = randVar([3], 'x');
    ag.sum(ag.mul(x, x.detach())).backward();
    assert.deepEqual(Array.from(x.grad!.data), Array.from(x.data));
  });

  test('noGrad records nothing', () => {
    const x = randVar([3], 'x');
    const y = ag.noGrad(() => ag.sum(ag.tanh(x)));
    assert.equal(y.creator, null);
    assert.equal(y.requiresGrad, false);
  });

  test('a 20,000-step chain back-propagates without overflowing the stack', () => {
    const x = randVar([1], 'x');
    let y: Variable = x;
    for (let i = 0; i < 20000; i++) y = ag.scale(y, 1);
    ag.sum(y).backward();
    assert.equal(x.grad!.data[0], 1);
  });
});
