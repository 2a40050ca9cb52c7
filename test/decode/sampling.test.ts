import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DataError, Rng } from '../../src/tensor/index.js';
import { argmax, logSoftmax, sampleFromLogits, topKIndices, validateSampling, type SamplingOptions } from '../../src/decode/index.js';

const LOGITS = [Math.log(0.5), Math.log(0.3), Math.log(0.2)];

/** Frequencies of each token over n seeded draws. */
function frequencies(logits: number[], options: SamplingOptions, n = 20000, seed = 1): number[] {
  const o = validateSampling(options);
  const rng = new Rng(seed);
  const counts = new Array<number>(logits.length).fill(0);
  for (let i = 0; i < n; i++) counts[sampleFromLogits(logits, o, rng)]!++;
  return counts.map((c) => c / n);
}

/** Straightforward reference, given the full sort `order` (best first): softmax, cut, renormalise, inverse CDF with the same uniform. */
function reference(logits: number[], order: number[], { temperature: t, topK, topP }: Required<SamplingOptions>, u: number): number {
  if (t === 0) return argmax(logits);
  const truncated = (topK > 0 && topK < logits.length) || topP < 1;
  let ids = !truncated ? logits.map((_, i) => i) : topK > 0 ? order.slice(0, topK) : order;
  const max = logits[order[0]!]!;
  let p = ids.map((i) => Math.exp((logits[i]! - max) / t));
  const total = p.reduce((s, v) => s + v, 0);
  p = p.map((v) => v / total);
  if (topP < 1) {
    let acc = 0;
    const m = p.findIndex((v) => (acc += v) >= topP);
    const kept = m < 0 ? ids.length : m + 1;
    p = p.slice(0, kept);
    ids = ids.slice(0, kept);
    if (topK === 0) {
      // without top-k the draw walks the nucleus in id order
      const byId = ids.map((_, j) => j).sort((a, b) => ids[a]! - ids[b]!);
      [ids, p] = [byId.map((j) => ids[j]!), byId.map((j) => p[j]!)];
    }
  }
  const r = u * p.reduce((s, v) => s + v, 0);
  let acc = 0;
  for (let i = 0; i < ids.length; i++) if (r < (acc += p[i]!)) return ids[i]!;
  return ids[ids.length - 1]!;
}

describe('argmax, logSoftmax, topKIndices', () => {
  test('argmax returns the first of equal maxima', () => {
    assert.equal(argmax([1, 3, 2, 3]), 1);
    assert.equal(argmax(new Float32Array([-Infinity, -5])), 1);
    assert.throws(() => argmax([]), DataError);
  });

  test('logSoftmax is stable for large logits and exponentiates to 1', () => {
    const out = logSoftmax([1000, 1000, 998]);
    const z = 2 + Math.exp(-2);
    assert.ok(Math.abs(out[0]! + Math.log(z)) < 1e-12);
    assert.ok(Math.abs(out[2]! - (-2 - Math.log(z))) < 1e-12);
    assert.ok(Math.abs(Array.from(out, Math.exp).reduce((s, v) => s + v, 0) - 1) < 1e-12);
    assert.equal(logSoftmax([0, -Infinity])[1], -Infinity);
    assert.throws(() => logSoftmax([-Infinity, -Infinity]), DataError);
  });

  test('topKIndices: largest first, ties kept in index order, exactly k', () => {
    assert.deepEqual(topKIndices([1, 2, 2, 2, 0], 2), [1, 2]);
    assert.deepEqual(topKIndices([5, 1, 4, 9, 4], 3), [3, 0, 2]);
    assert.deepEqual(topKIndices([1, 2], 5), [1, 0]);
    assert.deepEqual(topKIndices([1, 2], 0), []);
    const rng = new Rng(3);
    const v = Array.from({ length: 1000 }, () => rng.int(50)); // many ties
    const sorted = v.map((_, i) => i).sort((a, b) => v[b]! - v[a]! || a - b);
    for (const k of [1, 7, 64, 999, 1000]) assert.deepEqual(topKIndices(v, k), sorted.slice(0, k));
  });
});

describe('sampleFromLogits', () => {
  test('temperature 0 is argmax and draws nothing from the rng', () => {
    const rng = new Rng(5);
    const before = rng.getState();
    const o = validateSampling({ temperature: 0, topK: 2, topP: 0.5 });
    for (let i = 0; i < 10; i++) assert.equal(sampleFromLogits([0.1, 2, -1, 2], o, rng), 1);
    assert.deepEqual(rng.getState(), before);
  });

  test('plain sampling matches the softmax (chi-square over 20k draws)', () => {
    const n = 20000;
    const f = frequencies(LOGITS, {}, n);
    const chi2 = [0.5, 0.3, 0.2].reduce((s, p, i) => s + (n * (f[i]! - p)) ** 2 / (n * p), 0);
    assert.ok(chi2 < 13.8, `chi2 = ${chi2} (p < 0.001 at 2 dof is 13.8), frequencies ${f}`);
  });

  test('exactly one uniform per token, so a seed fixes the sequence', () => {
    for (const options of [{}, { topK: 2 }, { topP: 0.5 }, { topK: 2, topP: 0.9, temperature: 0.7 }]) {
      const o = validateSampling(options);
      const a = new Rng(9);
      const b = new Rng(9);
      const first = Array.from({ length: 50 }, () => sampleFromLogits(LOGITS, o, a));
      for (let i = 0; i < 50; i++) b.uniform();
      assert.deepEqual(a.getState(), b.getState());
      const c = new Rng(9);
      assert.deepEqual(Array.from({ length: 50 }, () => sampleFromLogits(LOGITS, o, c)), first);
    }
  });

  test('topK 1 always picks the argmax', () => {
    const rng = new Rng(11);
    const o = validateSampling({ topK: 1, temperature: 5 });
    for (let i = 0; i < 200; i++) {
      const logits = Array.from({ length: 20 }, () => rng.normal());
      assert.equal(sampleFromLogits(logits, o, rng), argmax(logits));
    }
  });

  test('topK 2 never picks the third token and renormalises over the first two', () => {
    const f = frequencies(LOGITS, { topK: 2 });
    assert.equal(f[2], 0);
    assert.ok(Math.abs(f[0]! - 0.625) < 0.015, `f = ${f}`);
  });

  test('topK keeps exactly k on ties: the lower ids', () => {
    const f = frequencies([0, 1, 1, 1], { topK: 2 }, 2000);
    assert.deepEqual([f[0], f[3]], [0, 0]);
    assert.ok(f[1]! > 0.4 && f[2]! > 0.4);
  });

  test('topP 0.5 on [.6, .3, .1] always picks token 0', () => {
    const f = frequencies([0.6, 0.3, 0.1].map(Math.log), { topP: 0.5 }, 2000);
    assert.deepEqual(f, [1, 0, 0]);
  });

  test('topP 0.85 on [.6, .3, .1] picks only 0 or 1, renormalised', () => {
    const f = frequencies([0.6, 0.3, 0.1].map(Math.log), { topP: 0.85 });
    assert.equal(f[2], 0);
    assert.ok(Math.abs(f[0]! - 2 / 3) < 0.015, `f = ${f}`);
  });

  test('temperature < 1 sharpens, > 1 flattens', () => {
    const base = frequencies(LOGITS, {})[0]!;
    const cold = frequencies(LOGITS, { temperature: 0.5 })[0]!;
    const hot = frequencies(LOGITS, { temperature: 3 })[0]!;
    // exact: .5^2/(.25+.09+.04) = .658 and .5^(1/3)/Σ = .388
    assert.ok(cold > base + 0.1 && Math.abs(cold - 0.658) < 0.015, `cold ${cold}`);
    assert.ok(hot < base - 0.1 && Math.abs(hot - 0.388) < 0.015, `hot ${hot}`);
  });

  test('masked (-Infinity) logits are never drawn; all masked is a DataError', () => {
    const f = frequencies([-Infinity, 0, -Infinity, 0], { topP: 0.9 }, 1000);
    assert.deepEqual([f[0], f[2]], [0, 0]);
    assert.throws(() => sampleFromLogits([-Infinity, -Infinity], validateSampling({}), new Rng(1)), DataError);
    assert.throws(() => sampleFromLogits([], validateSampling({}), new Rng(1)), DataError);
  });

  test('agrees with a full-sort reference on a 20k vocabulary', () => {
    const rng = new Rng(21);
    const logits = Array.from({ length: 20000 }, () => 3 * rng.normal());
    const order = logits.map((_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
    // topP 0.7 / 0.9 / 1 - 1e-12 at temperature 0.05 sort the weights above 1e-2 / 1e-4 / all of them
    const configs: SamplingOptions[] = [{}, { topK: 40 }, { topP: 0.7 }, { topP: 0.9 }, { topP: 1 - 1e-12, temperature: 0.05 }, { topK: 1000, topP: 0.7, temperature: 0.8 }];
    for (const options of configs) {
      const o = validateSampling(options);
      const a = new Rng(4);
      const b = new Rng(4);
      for (let i = 0; i < 25; i++) assert.equal(sampleFromLogits(logits, o, a), reference(logits, order, o, b.uniform()), JSON.stringify(options));
    }
  });
});

describe('validateSampling', () => {
  test('fills defaults', () => {
    assert.deepEqual(validateSampling({}), { temperature: 1, topK: 0, topP: 1 });
    assert.deepEqual(validateSampling({ temperature: 0, topK: 5, topP: 0.9 }), { temperature: 0, topK: 5, topP: 0.9 });
  });

  test('rejects bad values and unknown keys with a ConfigError in the house format', () => {
    const bad: [unknown, RegExp][] = [
      [{ temperature: -1 }, /^generate: expected temperature a finite number >= 0, got -1$/],
      [{ temperature: NaN }, /temperature .* got NaN/],
      [{ temperature: Infinity }, /temperature/],
      [{ topK: 1.5 }, /topK an integer >= 0, got 1.5/],
      [{ topK: -1 }, /topK/],
      [{ topP: 0 }, /topP a number in \(0, 1\], got 0/],
      [{ topP: 1.1 }, /topP/],
      [{ topP: '0.5' }, /topP a number in \(0, 1\], got '0.5'/],
      [{ top_k: 3 }, /expected options among temperature, topK, topP, got 'top_k'/],
      [null, /expected an options object, got null/],
    ];
    for (const [o, message] of bad) {
      assert.throws(() => validateSampling(o as SamplingOptions, 'generate'), (e: unknown) => e instanceof ConfigError && message.test(e.message));
    }
  });
});
