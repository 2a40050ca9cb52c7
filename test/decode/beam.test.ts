import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, DataError, Rng } from '../../src/tensor/index.js';
import { beamSearch, greedyDecode, logSoftmax, type BeamModel, type BeamOptions, type Hypothesis } from '../../src/decode/index.js';

/** A Markov chain: the state is the last token, `probs[a][b]` = P(next = b | last = a). Records the batch sizes. */
function markov(probs: number[][]): BeamModel<number> & { batches: number[] } {
  const rows = probs.map((r) => r.map(Math.log));
  const batches: number[] = [];
  return {
    batches,
    step(_states, tokens) {
      batches.push(tokens.length);
      return { logProbs: tokens.map((t) => rows[t]!), states: [...tokens] };
    },
  };
}

/** A random chain over V tokens, as log-probabilities. */
function randomModel(seed: number, V: number): BeamModel<number> {
  const rng = new Rng(seed);
  const rows = Array.from({ length: V }, () => logSoftmax(Array.from({ length: V }, () => 2 * rng.normal())));
  return { step: (_states, tokens) => ({ logProbs: tokens.map((t) => rows[t]!), states: [...tokens] }) };
}

const start = (token: number) => ({ state: token, token });

/**
 * From start token 2: A (0) is likelier than B (1), but A continues with at most .34 while B continues
 * with A at .9, so greedy finds A A (.6 · .34 = .204) and beam 2 finds B A (.4 · .9 = .36).
 */
const TRAP = [
  [0.34, 0.33, 0.33],
  [0.9, 0.05, 0.05],
  [0.6, 0.4, 0],
];

/**
 * With end token 3, from token 0: end now (.4) or go to 1 (.5), then end (.7) or go to 2 (.3); 2 always ends.
 * By raw logProb [3] (.4) beats [1, 3] (.35); per token the longer one is better.
 */
const ENDING = [
  [0.1, 0.5, 0, 0.4],
  [0, 0, 0.3, 0.7],
  [0, 0, 0, 1],
  [0.25, 0.25, 0.25, 0.25],
];

describe('beamSearch', () => {
  test('beam 2 finds the sequence greedy misses on a hand-built Markov chain', () => {
    const greedy = greedyDecode(markov(TRAP), start(2), { maxLength: 2 });
    assert.deepEqual(greedy.tokens, [0, 0]);
    assert.equal(greedy.logProb, Math.log(0.6) + Math.log(0.34));

    const model = markov(TRAP);
    const beams = beamSearch(model, start(2), { width: 2, maxLength: 2 });
    assert.deepEqual(beams, [
      { tokens: [1, 0], logProb: Math.log(0.4) + Math.log(0.9), score: Math.log(0.4) + Math.log(0.9), finished: false },
      { tokens: [0, 0], logProb: Math.log(0.6) + Math.log(0.34), score: Math.log(0.6) + Math.log(0.34), finished: false },
    ]);
    assert.ok(beams[0]!.logProb > greedy.logProb);
    assert.deepEqual(model.batches, [1, 2], 'one batched call per step with all live hypotheses');
  });

  test('fixed-length continuation: every hypothesis has maxLength tokens', () => {
    const beams = beamSearch(randomModel(1, 5), start(0), { width: 3, maxLength: 7 });
    assert.equal(beams.length, 3);
    for (const h of beams) assert.deepEqual([h.tokens.length, h.finished], [7, false]);
  });

  test('end token: finished hypotheses leave the beam, keep the end token, and stop the search early', () => {
    const model = markov(ENDING);
    const beams = beamSearch(model, start(0), { width: 2, maxLength: 10, endToken: 3 });
    assert.deepEqual(
      beams.map((h) => [h.tokens, h.finished]),
      [
        [[3], true],
        [[1, 3], true],
      ],
    );
    assert.equal(beams[1]!.logProb, Math.log(0.5) + Math.log(0.7));
    // Step 2 leaves [1, 2] live at .15, below both finished (.4, .35): no third call.
    assert.deepEqual(model.batches, [1, 1]);
  });

  test('lengthPenalty ranks the longer hypothesis first in a constructed case', () => {
    const model = markov(ENDING);
    const beams = beamSearch(model, start(0), { width: 2, maxLength: 10, endToken: 3, lengthPenalty: 1 });
    assert.deepEqual(
      beams.map((h) => h.tokens),
      [[1, 3], [3]],
    );
    const logProb = Math.log(0.5) + Math.log(0.7);
    assert.equal(beams[0]!.score, logProb / (7 / 6));
    assert.equal(beams[1]!.score, Math.log(0.4));
    // alpha > 0 gives no early bound: the search runs until nothing is live or maxLength.
    assert.ok(model.batches.length > 2);
  });

  test('width 1 equals greedyDecode on seeded random chains', () => {
    for (let seed = 0; seed < 20; seed++) {
      const model = randomModel(seed, 8);
      for (const endToken of [null, 7]) {
        const [beam] = beamSearch(model, start(seed % 8), { width: 1, maxLength: 12, endToken });
        assert.deepEqual(beam, greedyDecode(model, start(seed % 8), { maxLength: 12, endToken }));
      }
    }
  });

  test('a beam as wide as the search tree finds the exact best sequence', () => {
    const V = 3;
    const L = 4;
    const model = randomModel(7, V);
    let best = { tokens: [] as number[], logProb: -Infinity };
    const walk = (tokens: number[], logProb: number) => {
      if (tokens.length === L) {
        if (logProb > best.logProb) best = { tokens, logProb };
        return;
      }
      const row = model.step([0], [tokens.at(-1) ?? 0]).logProbs[0]!;
      for (let t = 0; t < V; t++) walk([...tokens, t], logProb + row[t]!);
    };
    walk([], 0);
    const [top] = beamSearch(model, start(0), { width: V ** (L - 1), maxLength: L });
    assert.deepEqual(top!.tokens, best.tokens);
    assert.ok(Math.abs(top!.logProb - best.logProb) < 1e-12);
  });

  test('results are sorted by score, which follows the GNMT formula', () => {
    for (const lengthPenalty of [0, 0.6, 2]) {
      const beams: Hypothesis[] = beamSearch(randomModel(3, 6), start(0), { width: 5, maxLength: 9, endToken: 5, lengthPenalty });
      assert.equal(beams.length, 5);
      for (let i = 1; i < beams.length; i++) assert.ok(beams[i - 1]!.score >= beams[i]!.score);
      for (const h of beams) {
        assert.ok(Math.abs(h.score - h.logProb / ((5 + h.tokens.length) / 6) ** lengthPenalty) < 1e-12);
        assert.equal(h.finished, h.tokens.at(-1) === 5);
        assert.equal(h.tokens.indexOf(5), h.finished ? h.tokens.length - 1 : -1);
      }
    }
  });

  test('ties go to the lower token id', () => {
    const uniform = markov([
      [0.25, 0.25, 0.25, 0.25],
      [0.25, 0.25, 0.25, 0.25],
      [0.25, 0.25, 0.25, 0.25],
      [0.25, 0.25, 0.25, 0.25],
    ]);
    const beams = beamSearch(uniform, start(0), { width: 3, maxLength: 2 });
    assert.deepEqual(
      beams.map((h) => h.tokens),
      [
        [0, 0],
        [1, 0],
        [2, 0],
      ],
    );
  });

  test('options are validated with ConfigError', () => {
    const model = markov(TRAP);
    const bad: [unknown, RegExp][] = [
      [{ width: 0, maxLength: 3 }, /^beamSearch: expected width an integer >= 1, got 0$/],
      [{ width: 1.5, maxLength: 3 }, /width/],
      [{ width: 2 }, /maxLength an integer >= 1, got undefined/],
      [{ width: 2, maxLength: 0 }, /maxLength/],
      [{ width: 2, maxLength: 3, lengthPenalty: -1 }, /lengthPenalty a finite number >= 0, got -1/],
      [{ width: 2, maxLength: 3, lengthPenalty: NaN }, /lengthPenalty/],
      [{ width: 2, maxLength: 3, endToken: -1 }, /endToken an integer >= 0 or null, got -1/],
      [{ width: 2, maxLength: 3, beamSize: 4 }, /options among width, maxLength, endToken, lengthPenalty, got 'beamSize'/],
    ];
    for (const [o, message] of bad) {
      assert.throws(() => beamSearch(model, start(2), o as BeamOptions), (e: unknown) => e instanceof ConfigError && message.test(e.message));
    }
    assert.throws(() => greedyDecode(model, start(2), { maxLength: 3, width: 2 } as never), /greedyDecode: expected options among maxLength, endToken/);
  });

  test('a malformed step result is a DataError', () => {
    const short: BeamModel<number> = { step: (s) => ({ logProbs: [], states: [...s] }) };
    assert.throws(() => beamSearch(short, start(0), { width: 2, maxLength: 2 }), DataError);
    const ragged: BeamModel<number> = { step: (s) => ({ logProbs: s.map((_, i) => new Float64Array(i + 2)), states: [...s] }) };
    assert.throws(() => beamSearch(ragged, start(0), { width: 2, maxLength: 3 }), DataError);
  });
});
