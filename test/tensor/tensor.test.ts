import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { BpttError, DataError, Rng, ShapeError, Tensor, checkFinite, checkShape } from '../../src/tensor/index.js';

describe('Tensor basics', () => {
  test('zeros: shape, size, rank, dtype, all zero', () => {
    const t = Tensor.zeros([2, 3, 4]);
    assert.deepEqual(t.shape, [2, 3, 4]);
    assert.equal(t.size, 24);
    assert.equal(t.rank, 3);
    assert.equal(t.dtype, 'float32');
    assert.ok(t.data instanceof Float32Array);
    assert.ok(t.data.every((v) => v === 0));
    const d = Tensor.zeros([5], 'float64');
    assert.equal(d.dtype, 'float64');
    assert.ok(d.data instanceof Float64Array);
  });

  test('zeros of a scalar shape [] has one element; an empty dimension has none', () => {
    assert.equal(Tensor.zeros([]).size, 1);
    assert.equal(Tensor.zeros([]).rank, 0);
    assert.equal(Tensor.zeros([3, 0]).size, 0);
  });

  test('the shape is frozen and copied', () => {
    const shape = [2, 3];
    const t = Tensor.zeros(shape);
    shape[0] = 7;
    assert.deepEqual(t.shape, [2, 3]);
    assert.ok(Object.isFrozen(t.shape));
  });

  test('from copies values row-major in the requested dtype', () => {
    const src = [1, 2, 3, 4, 5, 6];
    const t = Tensor.from(src, [2, 3]);
    assert.deepEqual(t.toArray(), src);
    src[0] = 99;
    assert.equal(t.data[0], 1);
    assert.equal(Tensor.from([0.1], [1], 'float64').data[0], 0.1);
    assert.equal(Tensor.from([0.1], [1]).data[0], Math.fround(0.1));
  });

  test('full fills every element', () => {
    const t = Tensor.full([3, 2], 2.5, 'float64');
    assert.deepEqual(t.toArray(), [2.5, 2.5, 2.5, 2.5, 2.5, 2.5]);
    assert.equal(t.dtype, 'float64');
  });

  test('clone is a deep copy', () => {
    const t = Tensor.from([1, 2, 3], [3]);
    const c = t.clone();
    assert.deepEqual(c.shape, t.shape);
    assert.deepEqual(c.toArray(), t.toArray());
    assert.notEqual(c.data, t.data);
    c.data[0] = 42;
    assert.equal(t.data[0], 1);
  });

  test('to converts the dtype and copies; to the same dtype keeps the values', () => {
    const t = Tensor.from([0.5, -1.25, 3], [3]);
    const d = t.to('float64');
    assert.equal(d.dtype, 'float64');
    assert.ok(d.data instanceof Float64Array);
    assert.deepEqual(d.toArray(), [0.5, -1.25, 3]);
    d.data[0] = 9;
    assert.equal(t.data[0], 0.5);
    const back = d.to('float32');
    assert.equal(back.dtype, 'float32');
    assert.deepEqual(back.toArray(), [9, -1.25, 3]);
    assert.deepEqual(t.to('float32').toArray(), t.toArray());
  });

  test('reshape keeps row-major order and infers one -1', () => {
    const t = Tensor.from([0, 1, 2, 3, 4, 5], [2, 3]);
    const r = t.reshape([3, 2]);
    assert.deepEqual(r.shape, [3, 2]);
    assert.deepEqual(r.toArray(), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(t.reshape([-1]).shape, [6]);
    assert.deepEqual(t.reshape([3, -1]).shape, [3, 2]);
    assert.deepEqual(t.reshape([-1, 1, 2]).shape, [3, 1, 2]);
    assert.equal(t.reshape([6, 1]).dtype, 'float32');
  });

  test('reshape to an incompatible shape is a ShapeError', () => {
    const t = Tensor.zeros([2, 3]);
    assert.throws(() => t.reshape([4, 2]), (e: unknown) => e instanceof ShapeError && /^reshape: expected a shape with 6 elements, got \[4, 2\]$/.test(e.message));
    assert.throws(() => t.reshape([-1, 4]), ShapeError);
    assert.throws(() => t.reshape([-1, -1]), ShapeError);
  });
});

describe('checkShape and checkFinite', () => {
  test('checkShape accepts a match and -1 wildcards', () => {
    checkShape('f', [2, 3, 4], [2, -1, 4]);
    checkShape('f', [], []);
  });

  test('checkShape names wildcard and fixed dimensions in the message', () => {
    assert.throws(() => checkShape('layer: input', [2, 5], [-1, 4], ['B', 'F']), (e: unknown) => {
      assert.ok(e instanceof ShapeError);
      assert.ok(e instanceof BpttError);
      assert.equal(e.message, 'layer: input: expected shape [B, F=4], got [2, 5]');
      return true;
    });
  });

  test('checkShape without names shows * for wildcards', () => {
    assert.throws(() => checkShape('f', [2, 3], [-1, 3, 1]), (e: unknown) => {
      assert.ok(e instanceof ShapeError);
      assert.equal(e.message, 'f: expected shape [*, 3, 1], got [2, 3]');
      return true;
    });
  });

  test('checkFinite accepts finite data and names the first bad element', () => {
    checkFinite('x', new Float32Array([1, -2, 0, 3.4e38]));
    assert.throws(() => checkFinite('model: input', new Float32Array([0, 1, NaN, Infinity])), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.ok(e instanceof BpttError);
      assert.equal(e.message, 'model: input: expected finite values, got NaN at flat index 2');
      return true;
    });
    assert.throws(() => checkFinite('y', new Float64Array([0, -Infinity])), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.message, 'y: expected finite values, got -Infinity at flat index 1');
      return true;
    });
  });

  test('error classes carry their own name', () => {
    assert.equal(new ShapeError('m').name, 'ShapeError');
    assert.equal(new DataError('m').name, 'DataError');
    assert.ok(new DataError('m') instanceof Error);
  });
});

function draws(rng: Rng, n: number): number[] {
  return Array.from({ length: n }, () => rng.nextU32());
}

describe('Rng', () => {
  test('same seed gives the same stream', () => {
    assert.deepEqual(draws(new Rng(123), 100), draws(new Rng(123), 100));
    const a = new Rng(5), b = new Rng(5);
    for (let i = 0; i < 50; i++) {
      assert.equal(a.uniform(), b.uniform());
      assert.equal(a.normal(), b.normal());
    }
  });

  test('different seeds give different streams', () => {
    const streams = [0, 1, 2, 42, 2 ** 32, 2 ** 32 + 1].map((s) => draws(new Rng(s), 8).join(','));
    assert.equal(new Set(streams).size, streams.length);
  });

  test('nextU32 is an unsigned 32-bit integer', () => {
    const rng = new Rng(9);
    for (let i = 0; i < 1000; i++) {
      const v = rng.nextU32();
      assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 32);
    }
  });

  test('split: the child does not depend on later draws of the parent', () => {
    const p1 = new Rng(77);
    const c1 = p1.split();
    const childFirst = draws(c1, 20);

    const p2 = new Rng(77);
    const c2 = p2.split();
    draws(p2, 1000); // the parent keeps drawing before the child is used
    p2.split();
    assert.deepEqual(draws(c2, 20), childFirst);
  });

  test('split: the parent does not depend on draws of the child', () => {
    const p1 = new Rng(3);
    p1.split();
    const parentAfter = draws(p1, 20);
    const p2 = new Rng(3);
    const c2 = p2.split();
    draws(c2, 1000);
    assert.deepEqual(draws(p2, 20), parentAfter);
  });

  test('split: child and parent streams differ, and successive children differ', () => {
    const p = new Rng(11);
    const c1 = p.split();
    const c2 = p.split();
    const a = draws(c1, 16).join(','), b = draws(c2, 16).join(','), c = draws(p, 16).join(',');
    assert.equal(new Set([a, b, c]).size, 3);
    assert.notEqual(draws(new Rng(11), 16).join(','), a);
  });

  test('getState/setState round trip reproduces the stream', () => {
    const rng = new Rng(2024);
    draws(rng, 37);
    const state = rng.getState();
    assert.equal(state.length, 4);
    const next = [rng.uniform(), rng.normal(), rng.int(10), ...draws(rng, 10)];
    rng.setState(state);
    assert.deepEqual([rng.uniform(), rng.normal(), rng.int(10), ...draws(rng, 10)], next);
    const other = new Rng(1);
    other.setState(state);
    assert.deepEqual([other.uniform(), other.normal(), other.int(10), ...draws(other, 10)], next);
  });

  test('getState returns a copy', () => {
    const rng = new Rng(8);
    const state = rng.getState();
    rng.nextU32();
    assert.notDeepEqual(rng.getState(), state);
  });

  test('uniform lies in [0, 1) with mean within 0.01 of 0.5 over 100k draws', () => {
    const rng = new Rng(31);
    const n = 100_000;
    let sum = 0, min = 1, max = 0;
    for (let i = 0; i < n; i++) {
      const u = rng.uniform();
      assert.ok(u >= 0 && u < 1, `uniform gave ${u}`);
      sum += u;
      min = Math.min(min, u);
      max = Math.max(max, u);
    }
    assert.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`);
    assert.ok(min < 0.001 && max > 0.999, `range [${min}, ${max}]`);
  });

  test('range(lo, hi) lies in [lo, hi)', () => {
    const rng = new Rng(4);
    for (let i = 0; i < 10_000; i++) {
      const v = rng.range(-0.25, 0.75);
      assert.ok(v >= -0.25 && v < 0.75);
    }
  });

  test('normal has mean ~0 and variance ~1 within 0.02 over 100k draws', () => {
    const rng = new Rng(17);
    const n = 100_000;
    let sum = 0, sq = 0;
    for (let i = 0; i < n; i++) {
      const z = rng.normal();
      assert.ok(Number.isFinite(z));
      sum += z;
      sq += z * z;
    }
    const mean = sum / n;
    const variance = sq / n - mean * mean;
    assert.ok(Math.abs(mean) < 0.02, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.02, `variance ${variance}`);
  });

  test('int(n) covers every value in [0, n) and nothing else', () => {
    const rng = new Rng(6);
    for (const n of [1, 2, 7, 100]) {
      const counts = new Array<number>(n).fill(0);
      for (let i = 0; i < 50 * n; i++) {
        const k = rng.int(n);
        assert.ok(Number.isInteger(k) && k >= 0 && k < n, `int(${n}) gave ${k}`);
        counts[k]!++;
      }
      assert.ok(counts.every((c) => c > 0), `int(${n}) missed a value`);
    }
  });

  test('shuffle is an in-place permutation', () => {
    const rng = new Rng(12);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const out = rng.shuffle(items);
    assert.equal(out, items);
    assert.deepEqual([...items].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
    assert.notDeepEqual(items, Array.from({ length: 50 }, (_, i) => i));
  });

  test('shuffle is reproducible and reaches every permutation of 3', () => {
    assert.deepEqual(new Rng(5).shuffle([1, 2, 3, 4, 5, 6]), new Rng(5).shuffle([1, 2, 3, 4, 5, 6]));
    const rng = new Rng(21);
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) seen.add(rng.shuffle(['a', 'b', 'c']).join(''));
    assert.equal(seen.size, 6);
    assert.deepEqual(rng.shuffle([]), []);
    assert.deepEqual(rng.shuffle(['x']), ['x']);
  });
});
