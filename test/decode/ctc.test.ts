import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ctcGreedy, ctcPrefixBeam } from '../../src/decode/index.js';
import { ConfigError, DataError, Rng, ShapeError, Tensor } from '../../src/tensor/index.js';

const log = (rows: number[][]) => rows.map((r) => r.map(Math.log));

/** Brute force: P(labels) summed over every alignment of T frames, keyed by the collapsed labels. */
function exhaustive(rows: number[][], blank: number): Map<string, number> {
  const T = rows.length, C = rows[0]!.length;
  const out = new Map<string, number>();
  for (let code = 0; code < C ** T; code++) {
    let p = 1, prev = -1, rest = code;
    const labels: number[] = [];
    for (let t = 0; t < T; t++) {
      const c = rest % C;
      rest = Math.floor(rest / C);
      p *= rows[t]![c]!;
      if (c !== blank && c !== prev) labels.push(c);
      prev = c;
    }
    out.set(labels.join(','), (out.get(labels.join(',')) ?? 0) + p);
  }
  return out;
}

function randomPosteriors(seed: number, T: number, C: number): number[][] {
  const rng = new Rng(seed);
  return Array.from({ length: T }, () => {
    const e = Array.from({ length: C }, () => Math.exp(rng.normal()));
    const s = e.reduce((a, b) => a + b, 0);
    return e.map((v) => v / s);
  });
}

describe('ctcGreedy', () => {
  // argmax per frame: 1 1 _ 1 2 2 _ 3
  const P = [
    [0.1, 0.7, 0.1, 0.1],
    [0.2, 0.6, 0.1, 0.1],
    [0.8, 0.1, 0.05, 0.05],
    [0.3, 0.5, 0.1, 0.1],
    [0.1, 0.1, 0.7, 0.1],
    [0.1, 0.2, 0.6, 0.1],
    [0.9, 0.05, 0.03, 0.02],
    [0.1, 0.1, 0.1, 0.7],
  ];

  test('collapses repeats, keeps a label repeated across a blank, drops blanks', () => {
    assert.deepEqual(ctcGreedy(log(P)), [1, 1, 2, 3]);
  });

  test('reads a [T, C] tensor like per-row arrays, and stops at length', () => {
    const t = Tensor.from(log(P).flat(), [8, 4], 'float32');
    assert.deepEqual(ctcGreedy(t), [1, 1, 2, 3]);
    assert.deepEqual(ctcGreedy(t, { length: 5 }), [1, 1, 2]);
    assert.deepEqual(ctcGreedy(t, { length: 0 }), []);
  });

  test('honours another blank index: with blank 1 the 1s are dropped and 0 is a label', () => {
    assert.deepEqual(ctcGreedy(log(P), { blank: 1 }), [0, 2, 0, 3]);
  });

  test('rejects a bad length, blank, rank or ragged rows', () => {
    assert.throws(() => ctcGreedy(log(P), { length: 9 }), DataError);
    assert.throws(() => ctcGreedy(log(P), { blank: 4 }), ConfigError);
    assert.throws(() => ctcGreedy(Tensor.zeros([2, 3, 4])), ShapeError);
    assert.throws(() => ctcGreedy([[0, 0], [0]]), ShapeError);
  });
});

describe('ctcPrefixBeam', () => {
  // Two frames, blank .6 and label .4 each: the best path is "_ _" (.36, so greedy says []),
  // but "a" collects a a + a _ + _ a = .16 + .24 + .24 = .64.
  const SPLIT = [
    [0.6, 0.4],
    [0.6, 0.4],
  ];

  test('finds the sequence that greedy misses because its probability is spread over paths', () => {
    assert.deepEqual(ctcGreedy(log(SPLIT)), []);
    const beams = ctcPrefixBeam(log(SPLIT), { beam: 2 });
    assert.deepEqual(beams.map((b) => b.labels), [[1], []]);
    assert.ok(Math.abs(beams[0]!.logProb - Math.log(0.64)) < 1e-12);
    assert.ok(Math.abs(beams[1]!.logProb - Math.log(0.36)) < 1e-12);
  });

  test('beam 1 equals greedy on clear posteriors', () => {
    const rng = new Rng(4);
    for (let k = 0; k < 20; k++) {
      // One class per frame at .9, the rest share .1.
      const rows = Array.from({ length: 10 }, () => {
        const hot = Math.floor(rng.uniform() * 4);
        return Array.from({ length: 4 }, (_, c) => (c === hot ? 0.9 : 0.1 / 3));
      });
      const [best] = ctcPrefixBeam(log(rows), { beam: 1 });
      assert.deepEqual(best!.labels, ctcGreedy(log(rows)), `case ${k}`);
    }
  });

  test('a beam wide enough to keep every prefix gives the exact label-sequence probabilities', () => {
    for (const blank of [0, 2]) {
      const rows = randomPosteriors(9 + blank, 5, 3);
      const exact = exhaustive(rows, blank);
      const beams = ctcPrefixBeam(log(rows), { beam: 1000, blank });
      assert.equal(beams.length, exact.size);
      for (const b of beams) assert.ok(Math.abs(Math.exp(b.logProb) - exact.get(b.labels.join(','))!) < 1e-12, `blank ${blank}, [${b.labels.join(', ')}]`);
      const best = [...exact.entries()].sort((a, b) => b[1] - a[1])[0]![0];
      assert.equal(beams[0]!.labels.join(','), best);
      for (let i = 1; i < beams.length; i++) assert.ok(beams[i - 1]!.logProb >= beams[i]!.logProb, 'sorted best first');
    }
  });

  test('returns at most beam hypotheses, and reads a tensor with a length', () => {
    const rows = randomPosteriors(3, 6, 4);
    assert.equal(ctcPrefixBeam(log(rows), { beam: 3 }).length, 3);
    const t = Tensor.from(log(rows).flat(), [6, 4], 'float64');
    assert.deepEqual(ctcPrefixBeam(t, { beam: 3, length: 4 }), ctcPrefixBeam(log(rows.slice(0, 4)), { beam: 3 }));
  });

  test('rejects a beam that is not a positive integer', () => {
    assert.throws(() => ctcPrefixBeam(log(SPLIT), { beam: 0 }), (e: unknown) => e instanceof ConfigError && /beam an integer >= 1, got 0/.test((e as Error).message));
  });
});
