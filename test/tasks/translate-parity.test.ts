/**
 * The encoder–decoder against PyTorch: test/fixtures/seq2seq.json holds, per
 * configuration, torch's weights, a batch of pairs of different lengths, the
 * summed cross-entropy and every parameter's gradient (float64, from
 * tools/make_seq2seq_fixtures.py, which writes the model out in torch). Both
 * ways of computing the loss (stepped, and fused without input feeding) must
 * give them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Seq2Seq, makePairBatch, type Seq2SeqConfig } from '../../src/tasks/translate/index.js';
import { readFixture, tensorOf, worstDiff, type TensorJson } from '../helpers.js';

interface Case {
  name: string;
  config: Seq2SeqConfig;
  pairs: Array<{ source: number[]; target: number[] }>;
  params: Record<string, TensorJson>;
  loss: number;
  grads: Record<string, TensorJson>;
}

const { cases } = readFixture<{ cases: Case[] }>('seq2seq.json');

describe('Seq2Seq matches PyTorch (loss and every gradient, float64)', () => {
  for (const c of cases) {
    const ways = c.config.inputFeeding ? (['steppedLoss'] as const) : (['steppedLoss', 'fusedLoss'] as const);
    for (const way of ways) {
      test(`${c.name} (${way})`, () => {
        const model = new Seq2Seq(c.config, 'float64');
        model.loadStateDict(new Map(Object.entries(c.params).map(([n, t]) => [n, tensorOf(t, 'float64')])));
        const batch = makePairBatch(c.pairs.map((p) => ({ source: Int32Array.from(p.source), target: Int32Array.from(p.target) })));
        const loss = model[way](batch);
        assert.ok(Math.abs(loss.item() - c.loss) <= 1e-9 * Math.abs(c.loss), `loss ${loss.item()} vs torch ${c.loss}`);
        loss.backward();
        const named = model.namedParameters();
        assert.deepEqual(named.map(([n]) => n).sort(), Object.keys(c.grads).sort());
        for (const [name, p] of named) {
          const { err, at, scale } = worstDiff(p.grad!.data, c.grads[name]!.data);
          assert.ok(err <= 1e-8 * Math.max(1, scale), `${name}[${at}]: off by ${err} (scale ${scale})`);
        }
      });
    }
  }
});
