import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Variable, add, gradcheck, mul, sum, type Variable as V } from '../../src/autograd/index.js';
import { Attention, type AttentionConfig, type AttentionKind } from '../../src/nn/index.js';
import { BpttError, ConfigError, DataError, Rng, ShapeError, Tensor, type DType } from '../../src/tensor/index.js';

const S = 5, B = 3;
const LENGTHS = Int32Array.from([5, 2, 3]);

function random(shape: number[], seed: number, dtype: DType = 'float64', requiresGrad = true): Variable {
  const rng = new Rng(seed);
  const t = Tensor.zeros(shape, dtype);
  for (let i = 0; i < t.size; i++) t.data[i] = rng.range(-1, 1);
  return new Variable(t, requiresGrad);
}

/** Odd sizes per kind: dot needs Dq = Dk, the others use different sizes to catch transposed weights. */
function configFor(kind: AttentionKind): AttentionConfig {
  if (kind === 'dot') return { kind, queryDim: 3, keyDim: 3, seed: 7 };
  if (kind === 'general') return { kind, queryDim: 2, keyDim: 3, seed: 7 };
  return { kind, queryDim: 2, keyDim: 3, attnDim: 5, seed: 7 };
}

/** A scalar that depends on every element of context and weights through fixed random coefficients. */
function probe(out: { context: V; weights: V }): V {
  const rc = random([...out.context.shape], 101, 'float64', false);
  const rw = random([...out.weights.shape], 102, 'float64', false);
  return add(sum(mul(out.context, rc)), sum(mul(out.weights, rw)));
}

const KINDS: AttentionKind[] = ['dot', 'general', 'additive'];

describe('Attention gradients (float64 central differences)', () => {
  for (const kind of KINDS) {
    for (const lengths of [undefined, LENGTHS]) {
      test(`${kind}, ${lengths ? 'masked lengths [5, 2, 3]' : 'no mask'}: w.r.t. query, keys and every parameter`, () => {
        const cfg = configFor(kind);
        const attn = new Attention(cfg).to('float64');
        const query = random([B, cfg.queryDim], 1);
        const keys = random([S, B, cfg.keyDim], 2);
        query.name = 'query';
        keys.name = 'keys';
        const params = attn.namedParameters().map(([n, p]) => Object.assign(p, { name: n })); // full names in failure messages
        assert.equal(params.length, { dot: 0, general: 1, additive: 4 }[kind]);
        const report = gradcheck(() => probe(attn.forward(query, keys, lengths)), [query, keys, ...params]);
        assert.ok(report.ok, report.message);
        assert.equal(report.checked, query.value.size + keys.value.size + params.reduce((n, p) => n + p.value.size, 0));
      });
    }
  }

  test('additive: precomputed keys reused by two decoder steps accumulate gradients correctly', () => {
    const cfg = configFor('additive');
    const attn = new Attention(cfg).to('float64');
    const q1 = random([B, cfg.queryDim], 3), q2 = random([B, cfg.queryDim], 4);
    const keys = random([S, B, cfg.keyDim], 5);
    const f = () => {
      const memory = attn.precompute(keys);
      return add(probe(attn.attend(q1, memory, LENGTHS)), probe(attn.attend(q2, memory, LENGTHS)));
    };
    const report = gradcheck(f, [q1, q2, keys, ...attn.parameters()]);
    assert.ok(report.ok, report.message);
  });

  test('padded key steps receive exactly zero gradient', () => {
    const attn = new Attention(configFor('additive')).to('float64');
    const query = random([B, 2], 1), keys = random([S, B, 3], 2);
    probe(attn.forward(query, keys, LENGTHS)).backward();
    const g = keys.grad!.data;
    let validNonZero = 0;
    for (let s = 0; s < S; s++) {
      for (let b = 0; b < B; b++) {
        for (let d = 0; d < 3; d++) {
          const v = g[(s * B + b) * 3 + d]!;
          if (s >= LENGTHS[b]!) assert.equal(v, 0, `keys grad at padded step s=${s}, b=${b}`);
          else if (v !== 0) validNonZero++;
        }
      }
    }
    assert.ok(validNonZero > 0, 'valid steps should get gradient');
  });
});

describe('Attention weights', () => {
  for (const kind of KINDS) {
    test(`${kind}: rows sum to 1, padded steps are exactly 0, context is the weighted sum`, () => {
      const cfg = configFor(kind);
      const attn = new Attention(cfg).to('float64');
      const keys = random([S, B, cfg.keyDim], 2, 'float64', false);
      const { context, weights } = attn.forward(random([B, cfg.queryDim], 1, 'float64', false), keys, LENGTHS);
      assert.deepEqual([...weights.shape], [B, S]);
      assert.deepEqual([...context.shape], [B, cfg.keyDim]);
      for (let b = 0; b < B; b++) {
        let total = 0;
        for (let s = 0; s < S; s++) {
          const w = weights.data[b * S + s]!;
          if (s >= LENGTHS[b]!) assert.equal(w, 0, `weight at padded step s=${s}, b=${b}`);
          else assert.ok(w > 0, `weight at valid step s=${s}, b=${b} is ${w}`);
          total += w;
        }
        assert.ok(Math.abs(total - 1) < 1e-12, `row ${b} sums to ${total}`);
        for (let d = 0; d < cfg.keyDim; d++) {
          let expectedContext = 0;
          for (let s = 0; s < S; s++) expectedContext += weights.data[b * S + s]! * keys.data[(s * B + b) * cfg.keyDim + d]!;
          assert.ok(Math.abs(context.data[b * cfg.keyDim + d]! - expectedContext) < 1e-12);
        }
      }
    });
  }

  test('dot: a key that matches the query strongly takes ~all the weight, and context ≈ that key', () => {
    const attn = new Attention({ kind: 'dot', queryDim: 4, keyDim: 4 });
    const q = [3, -2, 4, 1];
    const keys = Tensor.zeros([S, 1, 4], 'float32');
    for (let s = 0; s < S; s++) for (let d = 0; d < 4; d++) keys.data[s * 4 + d] = s === 3 ? q[d]! : ((s + d) % 3) * 0.1 - 0.1;
    const { context, weights } = attn.forward(new Variable(Tensor.from(q, [1, 4], 'float32')), new Variable(keys));
    assert.ok(weights.data[3]! > 0.999, `weight on the matching key: ${weights.data[3]}`);
    for (let d = 0; d < 4; d++) assert.ok(Math.abs(context.data[d]! - q[d]!) < 0.05, `context[${d}] = ${context.data[d]}`);
  });

  test('huge scores do not overflow (max-shifted softmax)', () => {
    const attn = new Attention({ kind: 'dot', queryDim: 1, keyDim: 1 }).to('float64');
    const keys = new Variable(Tensor.from([1000, 999, -1000], [3, 1, 1], 'float64'));
    const { weights } = attn.forward(new Variable(Tensor.from([1], [1, 1], 'float64')), keys);
    const e = Math.exp(-1);
    assert.ok(Math.abs(weights.data[0]! - 1 / (1 + e)) < 1e-12, `got ${weights.data[0]}`);
    assert.ok(Math.abs(weights.data[1]! - e / (1 + e)) < 1e-12);
  });
});

describe('Attention parameters and errors', () => {
  test('parameter names and shapes follow the documented PyTorch-style layout', () => {
    const names = (kind: AttentionKind) => new Attention(configFor(kind)).namedParameters().map(([n, p]) => `${n} [${p.shape.join(', ')}]`);
    assert.deepEqual(names('dot'), []);
    assert.deepEqual(names('general'), ['linear_in.weight [3, 2]']);
    assert.deepEqual(names('additive'), ['query_proj.weight [5, 2]', 'query_proj.bias [5]', 'key_proj.weight [5, 3]', 'v.weight [1, 5]']);
    assert.deepEqual(new Attention({ kind: 'additive', queryDim: 2, keyDim: 3 }).namedParameters().map(([n, p]) => `${n} [${p.shape.join(', ')}]`)[0], 'query_proj.weight [3, 2]', 'attnDim defaults to keyDim');
  });

  test('same seed, same weights; another seed, other weights', () => {
    const w = (seed: number) => [...new Attention({ ...configFor('additive'), seed }).parameters()[0]!.data];
    assert.deepEqual(w(3), w(3));
    assert.notDeepEqual(w(3), w(4));
  });

  function rejects(fn: () => unknown, cls: typeof ShapeError | typeof DataError | typeof ConfigError, message: RegExp): void {
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof cls && err instanceof BpttError, `expected a ${cls.name}, got ${String(err)}`);
      assert.match(err.message, /^Attention|^maskedSoftmax/);
      assert.match(err.message, /: expected .+, got .+/);
      assert.match(err.message, message);
      return true;
    });
  }

  const general = () => new Attention(configFor('general'));
  const q = (shape: number[]) => random(shape, 1, 'float32', false);

  test('bad shapes are ShapeErrors that name what was expected', () => {
    rejects(() => general().forward(q([B, 2]), q([S, B, 4])), ShapeError, /keys \[S, B, 3\].*got \[5, 3, 4\]/);
    rejects(() => general().forward(q([B, 2]), q([B, 3])), ShapeError, /keys \[S, B, 3\]/);
    rejects(() => general().forward(q([B + 1, 2]), q([S, B, 3])), ShapeError, /query \[3, 2\].*got \[4, 2\]/);
    rejects(() => general().forward(q([B, 3]), q([S, B, 3])), ShapeError, /query \[3, 2\]/);
  });

  test('bad lengths are DataErrors; a row with length 0 is refused with a hint', () => {
    const keys = q([S, B, 3]);
    rejects(() => general().forward(q([B, 2]), keys, Int32Array.from([5, 2])), DataError, /3 lengths.*got 2/);
    rejects(() => general().forward(q([B, 2]), keys, Int32Array.from([5, 0, 3])), DataError, /lengths in 1\.\.5.*0 at row 1.*nothing to attend/);
    rejects(() => general().forward(q([B, 2]), keys, Int32Array.from([5, 6, 3])), DataError, /6 at row 1/);
  });

  test('bad configuration is a ConfigError, never silently ignored', () => {
    rejects(() => new Attention({ kind: 'dot', queryDim: 2, keyDim: 3 }), ConfigError, /queryDim = keyDim/);
    rejects(() => new Attention({ kind: 'general', queryDim: 2, keyDim: 3, attnDim: 4 }), ConfigError, /attnDim only with kind 'additive'/);
    rejects(() => new Attention({ kind: 'concat' as AttentionKind, queryDim: 2, keyDim: 2 }), ConfigError, /kind among/);
    rejects(() => new Attention({ kind: 'additive', queryDim: 2, keyDim: 2, attnDim: 0 }), ConfigError, /attnDim a positive integer/);
    rejects(() => new Attention({ kind: 'dot', queryDim: 2, keyDim: 2, heads: 2 } as AttentionConfig), ConfigError, /'heads'/);
  });
});
