import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { gradcheck } from '../../src/autograd/index.js';
import { shard } from '../../src/tasks/translate/node/replica.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Adam } from '../../src/optim/index.js';
import { parameterCount } from '../../src/tasks/translate/codec.js';
import { Trainer, type RunState, type UpdateEvent } from '../../src/training/index.js';
import { dataParallel } from '../../src/training/node/data-parallel.js';
import { loadRun, runStateOf } from '../../src/training/node/run-files.js';
import {
  PairBatches, translateCodec, vocabulariesOf,
  BOS_ID, EOS_ID, PairCorpus, Seq2Seq, beamIds, buildVocabulary, encodePairs, greedyIds, makePairBatch, translateIds, translateTexts,
  type EncodedPair, type PairBatch, type Seq2SeqConfig,
} from '../../src/tasks/translate/index.js';
import { ConfigError, DataError, Rng } from '../../src/tensor/index.js';

const base: Seq2SeqConfig = {
  cell: 'lstm', sourceVocab: 7, targetVocab: 6, embed: 3, hidden: 4, layers: 1, bidirectional: true,
  attention: 'general', inputFeeding: true, dropout: 0, shareEmbeddings: false, seed: 3,
};

const REPLICA = new URL('../../src/tasks/translate/node/replica.js', import.meta.url);

/** A runner training `model` on `corpus` (full BPTT, clip 5, Adam) through the data-parallel engine. */
function trainer(model: Seq2Seq, corpus: PairCorpus, o: { batch: number; lr: number; steps: number; seed: number;
  workers: number; warmup?: number; events?: UpdateEvent[] }): Trainer<PairBatch, unknown> {
  return new Trainer<PairBatch, unknown>({
    model, data: new PairBatches(corpus, o.batch, o.seed), optimizer: new Adam(model.parameters(), { lr: o.lr }),
    schedule: { kind: o.warmup ? 'cosine' : 'constant', lr: o.lr, warmup: o.warmup ?? 0, floor: 0 },
    budget: { steps: o.steps }, clip: 5,
    engine: dataParallel({ module: REPLICA, config: model.config, workers: o.workers }),
    callbacks: [{ onUpdate: (e) => o.events?.push(e) }],
  });
}

function randomPairs(n: number, seed: number, config: Seq2SeqConfig, maxLen = 4): EncodedPair[] {
  const rng = new Rng(seed);
  const seq = (V: number) => Int32Array.from({ length: 1 + rng.int(maxLen) }, () => 3 + rng.int(V - 3)); // ids 0–2 are <unk>, <s>, </s>
  return Array.from({ length: n }, () => ({ source: seq(config.sourceVocab), target: seq(config.targetVocab) }));
}

describe('Seq2Seq gradients (float64 central differences, through decoder, attention and every encoder step)', () => {
  const variants: Array<[string, Partial<Seq2SeqConfig>]> = [
    ['biLSTM, general attention, input feeding', {}],
    ['biGRU, 2 layers, additive attention', { cell: 'gru', layers: 2, attention: 'additive' }],
    ['LSTM, dot attention, no input feeding (fused decoder), shared embeddings', { bidirectional: false, attention: 'dot', inputFeeding: false, shareEmbeddings: true, targetVocab: 7 }],
    ['biLSTM, 2 layers, no input feeding (fused decoder)', { layers: 2, inputFeeding: false }],
  ];
  for (const [name, change] of variants) {
    test(name, () => {
      const config = { ...base, ...change };
      const model = new Seq2Seq(config).to('float64');
      const batch = makePairBatch(randomPairs(3, 5, config)); // lengths differ: padding and masks are exercised
      const params = model.namedParameters().map(([n, p]) => Object.assign(p, { name: n }));
      const report = gradcheck(() => model.loss(batch), params);
      assert.ok(report.ok, report.message);
    });
  }
});

test('without input feeding, the fused decoder and attention give the stepped loss and gradients (GRU and LSTM, 2 layers, each attention)', () => {
  for (const [cell, attention] of [['lstm', 'additive'], ['gru', 'general'], ['lstm', 'dot']] as const) {
    const config = { ...base, cell, layers: 2, inputFeeding: false, attention, ...(attention === 'dot' ? { embed: 4 } : {}) };
    const model = new Seq2Seq(config).to('float64');
    const batch = makePairBatch(randomPairs(4, 9, config, 5));
    const grads = (loss: () => ReturnType<Seq2Seq['loss']>) => {
      model.zeroGrad();
      const l = loss();
      l.backward();
      return { loss: l.item(), grads: model.parameters().map((p) => Array.from(p.grad!.data)) };
    };
    const fused = grads(() => model.fusedLoss(batch));
    const stepped = grads(() => model.steppedLoss(batch));
    assert.ok(Math.abs(fused.loss - stepped.loss) < 1e-10, `${cell}: ${fused.loss} vs ${stepped.loss}`);
    fused.grads.forEach((g, i) => g.forEach((x, j) => assert.ok(Math.abs(x - stepped.grads[i]![j]!) < 1e-10, `${cell}: parameter ${i}[${j}]`)));
  }
});

test('data-parallel shards: their summed losses and target counts are the whole batch\'s', () => {
  const config = { ...base, inputFeeding: false };
  const model = new Seq2Seq(config).to('float64');
  const batch = makePairBatch(randomPairs(7, 12, config, 6));
  const whole = model.loss(batch).item();
  for (const count of [2, 3]) {
    const parts = Array.from({ length: count }, (_, i) => shard(batch, i, count));
    assert.equal(parts.reduce((n, p) => n + p.terms, 0), batch.terms);
    assert.equal(parts.reduce((n, p) => n + p.batch, 0), batch.batch);
    const summed = parts.reduce((a, p) => a + model.loss(p).item(), 0);
    assert.ok(Math.abs(summed - whole) < 1e-9, `${count} shards: ${summed} vs ${whole}`);
  }
});

test('training with a worker thread learns as on one thread (same data, same seed: close losses after 30 updates); '
  + 'one update a batch, counting its target tokens', async () => {
  const config = { ...base, hidden: 16, embed: 8 };
  const corpus = PairCorpus.from(randomPairs(300, 5, config, 5));
  const run = async (workers: number) => {
    const events: UpdateEvent[] = [];
    const o = { batch: 32, lr: 1e-2, steps: 30, seed: 3, workers, events };
    const result = await trainer(new Seq2Seq(config), corpus, o).fit();
    assert.deepEqual(events.map((e) => e.update), Array.from({ length: 30 }, (_, i) => i + 1), 'an update a batch');
    const batches = new PairBatches(corpus, 32, 3);
    const tokens = Array.from({ length: 30 }, () => batches.next(0).batch.terms).reduce((a, b) => a + b, 0);
    assert.equal(result.items, tokens, 'items are the target tokens trained on');
    return events.map((e) => e.loss);
  };
  const one = await run(0), two = await run(1);
  assert.ok(Math.abs(one[0]! - two[0]!) < 1e-4, `first update: ${one[0]} vs ${two[0]}`); // the same weights and batch: only float32 summation order differs
  assert.ok(two[29]! < two[0]! - 0.3, `the two-thread run learns: ${two[0]} → ${two[29]}`);
});

test('a restored run numbers its updates on, and ten skipped in a row end it (with a worker thread)', async () => {
  const config = { ...base, hidden: 8, embed: 4 };
  const corpus = PairCorpus.from(randomPairs(100, 5, config, 5));
  const o = { batch: 8, lr: 1e-2, steps: 3, seed: 3, workers: 1 };
  const first = trainer(new Seq2Seq(config), corpus, o);
  await first.fit();
  const state = await first.snapshot();
  const events: UpdateEvent[] = [];
  const model = new Seq2Seq(config);
  model.loadStateDict(first.options.model.stateDict());
  const resumed = trainer(model, corpus, { ...o, steps: 30, events });
  await resumed.restore(state as RunState<unknown>, null);
  for (const p of model.generator.parameters()) p.data.fill(NaN);
  await assert.rejects(resumed.fit(), (e: unknown) => e instanceof DataError
    && /got 10, updates 4 to 13; the first, update 4: /.test(e.message));
  assert.deepEqual(events.map((e) => /^update (\d+): /.exec(e.skipped ?? '')?.[1]),
    ['4', '5', '6', '7', '8', '9', '10', '11', '12']);
});

test('batches drawn after setState(getState()) are those of the run that saved it (order, noise, sampling)', () => {
  const corpus = PairCorpus.from(randomPairs(50, 5, base, 5));
  const a = new PairBatches(corpus, 8, 4, 0.5);
  for (let k = 0; k < 9; k++) a.next(k / 20); // past an epoch (7 batches)
  const b = new PairBatches(corpus, 8, 4, 0.5);
  b.setState(JSON.parse(JSON.stringify(a.getState())));
  assert.equal(b.epoch, a.epoch);
  for (let k = 0; k < 10; k++) assert.deepEqual(b.next(0.6), a.next(0.6));
  assert.equal(a.next(0.6).batch.samplingP, 0.3, 'scheduled sampling ramps with progress');
  const bad = { sampler: { drawnFrom: null, epochs: 1, taken: 0 }, noise: [1, 2, 3, 4] };
  assert.throws(() => b.setState(bad), DataError);
  assert.throws(() => b.setState({ noise: [1, 2, 3, 4] }), DataError);
});

test('a checkpoint of the format before the run format loads for use (same translation), and is refused for --resume',
  () => {
    const dir = fileURLToPath(new URL('../../../test/fixtures/old-checkpoints/translate/', import.meta.url));
    const run = loadRun(`${dir}best.json`, translateCodec);
    assert.equal(run.meta.extra.kind, 'text');
    const vocab = vocabulariesOf(run.meta.model, run.meta.extra, 'test');
    const [out] = translateTexts(run.model, vocab, ['hello only'], { beam: 1 });
    assert.equal(out!.text, readFileSync(`${dir}expected-output.txt`, 'utf8').trim());
    const last = loadRun(`${dir}last.json`, translateCodec);
    assert.throws(() => runStateOf(last), (e: unknown) => e instanceof DataError
      && /expected a training state to resume from \(written by this version of bptt\), got a checkpoint of the format before it/
        .test(e.message));
  });

describe('decoding', () => {
  const config = { ...base, sourceVocab: 9, targetVocab: 8, hidden: 8, embed: 5 };
  const sources = randomPairs(20, 11, config, 6).map((p) => p.source);

  for (const trained of [false, true]) {
    test(`beam width 1 equals greedy: same tokens, log-probability and attention for every sentence of a batch (${trained ? 'after 60 updates' : 'untrained'})`, async () => {
      const model = new Seq2Seq(config);
      if (trained) {
        await trainer(model, PairCorpus.from(randomPairs(200, 4, config, 5)), { batch: 16, lr: 1e-2, steps: 60, seed: 2,
          workers: 0 }).fit();
      }
      const greedy = greedyIds(model, sources, 12);
      const beam = beamIds(model, sources, 1, 12);
      if (trained) assert.ok(greedy.some((h) => h.finished) && greedy.some((h) => h.tokens.length > 1), 'finished outputs of several lengths');
      greedy.forEach((g, i) => {
        const b = beam[i]!;
        assert.deepEqual(b.tokens, g.tokens, `sentence ${i}`);
        assert.equal(b.finished, g.finished);
        assert.ok(Math.abs(b.logProb - g.logProb) < 1e-9, `sentence ${i}: ${b.logProb} vs ${g.logProb}`);
        assert.deepEqual(b.attention, g.attention);
      });
    });
  }

  test('a beam hypothesis carries its own log-probability and attention (its path is rebuilt correctly)', () => {
    const model = new Seq2Seq(config);
    const out = translateIds(model, sources, { beam: 4, maxLength: 10 });
    out.forEach((h, i) => {
      // Score the returned tokens with teacher forcing: the summed cross-entropy is −log p.
      model.eval();
      const pair = { source: sources[i]!, target: Int32Array.from(h.tokens) };
      if (h.tokens.length === 0 || !h.finished) return;
      const nll = model.loss(makePairBatch([pair])).item();
      assert.ok(Math.abs(-nll - h.logProb) < 1e-3, `sentence ${i}: beam logProb ${h.logProb}, rescored ${-nll}`);
      assert.equal(h.attention.length, h.tokens.length + 1);
      for (const row of h.attention) {
        assert.equal(row.length, sources[i]!.length);
        assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      }
    });
  });

  test('a wider beam never finds a worse best hypothesis than width 1 on these inputs, by logProb of finished outputs', () => {
    const model = new Seq2Seq(config);
    const g = translateIds(model, sources, { beam: 1, maxLength: 10 });
    const b = translateIds(model, sources, { beam: 6, maxLength: 10 });
    sources.forEach((_, i) => {
      if (g[i]!.finished && b[i]!.finished) {
        assert.ok(b[i]!.logProb >= g[i]!.logProb - 1e-6, `sentence ${i}: beam ${b[i]!.logProb} < greedy ${g[i]!.logProb}`);
      }
    });
  });

  test('bad decoding options and empty sources are errors', () => {
    const model = new Seq2Seq(config);
    assert.throws(() => translateIds(model, [new Int32Array(0)]), DataError);
    assert.throws(() => translateIds(model, sources, { beam: 0 }), ConfigError);
    assert.throws(() => translateIds(model, sources, { lengthPenalty: -1 }), ConfigError);
    assert.throws(() => translateIds(model, sources, { width: 3 } as never), ConfigError);
  });
});

describe('learning', () => {
  test('a tiny seeded model learns to reverse short strings (greedy exact match on unseen strings >= 90 %)', async () => {
    const letters = 'abcdef';
    const rng = new Rng(7);
    const word = () => Array.from({ length: 3 + rng.int(4) }, () => letters[rng.int(letters.length)]).join('');
    const seen = new Set<string>();
    const make = (n: number) => {
      const out: { source: string; target: string }[] = [];
      while (out.length < n) {
        const w = word();
        if (seen.has(w)) continue;
        seen.add(w);
        out.push({ source: w, target: [...w].reverse().join('') });
      }
      return out;
    };
    const train = make(2000), held = make(100);
    const vocab = { source: buildVocabulary(train.map((p) => p.source), 'char'), target: buildVocabulary(train.map((p) => p.target), 'char') };
    const { corpus } = encodePairs(train, vocab.source, vocab.target);
    const model = new Seq2Seq({ ...base, sourceVocab: vocab.source.size, targetVocab: vocab.target.size, embed: 16, hidden: 64, seed: 1 });
    await trainer(model, corpus, { batch: 32, lr: 1e-2, warmup: 20, steps: 400, seed: 1, workers: 0 }).fit();
    const outputs = translateTexts(model, vocab, held.map((p) => p.source), { beam: 1 });
    const correct = outputs.filter((o, i) => o.text === held[i]!.target).length;
    assert.ok(correct >= 90, `${correct} of 100 reversed exactly`);
  });
});

describe('data', () => {
  test('batches: <s> starts the decoder inputs, </s> ends the outputs, padding is ignored', () => {
    const b = makePairBatch([{ source: Int32Array.of(5, 6), target: Int32Array.of(7) }, { source: Int32Array.of(5), target: Int32Array.of(8, 9) }]);
    assert.deepEqual([...b.sourceLengths], [2, 1]);
    assert.equal(b.targetSteps, 3);
    assert.deepEqual([...b.decoderInputs], [BOS_ID, BOS_ID, 7, 8, EOS_ID, 9]);
    assert.deepEqual([...b.decoderTargets], [7, 8, EOS_ID, 9, -100, EOS_ID]);
    assert.equal(b.terms, 5);
  });

  test('the packed corpus gives back every pair', () => {
    const pairs = randomPairs(50, 2, base, 9);
    const c = PairCorpus.from(pairs);
    assert.equal(c.size, 50);
    pairs.forEach((p, i) => {
      assert.deepEqual(c.source(i), p.source);
      assert.deepEqual(c.target(i), p.target);
    });
  });

  test('vocabularies keep <unk>, <s>, </s> first; unknown tokens at translation time read as <unk> and are counted; empty lines give empty outputs', () => {
    const v = buildVocabulary(['b a a', 'c a'], 'word');
    assert.deepEqual(v.tokens, ['<unk>', '<s>', '</s>', 'a', 'b', 'c']);
    const model = new Seq2Seq({ ...base, sourceVocab: v.size, targetVocab: v.size });
    const out = translateTexts(model, { source: v, target: v }, ['a zz b', '', '   '], { beam: 2, maxLength: 4 });
    assert.equal(out[0]!.unknown, 1);
    assert.deepEqual(out[0]!.sourceTokens, ['a', 'zz', 'b']);
    assert.equal(out[0]!.attention[0]!.length, 3);
    assert.deepEqual([out[1]!.text, out[2]!.text], ['', '']);
  });

  test('an output <unk> is replaced by the source token it attends to most (word to word), or kept when asked', () => {
    const v = buildVocabulary(['b a a', 'c a'], 'word');
    const model = new Seq2Seq({ ...base, sourceVocab: v.size, targetVocab: v.size });
    model.generator.bias!.data[0] = 50; // the model says <unk> at every step
    const kept = translateTexts(model, { source: v, target: v }, ['a Zurich b'], { beam: 1, maxLength: 3, replaceUnknown: false })[0]!;
    assert.equal(kept.text, '<unk> <unk> <unk>');
    const [out] = translateTexts(model, { source: v, target: v }, ['a Zurich b'], { beam: 1, maxLength: 3 });
    assert.equal(out!.replaced, 3);
    const words = out!.text.split(' ');
    assert.equal(words.length, 3);
    words.forEach((w, k) => {
      const row = out!.attention[k]!;
      assert.equal(w, out!.sourceTokens[row.indexOf(Math.max(...row))], `output ${k}: the most attended source token`);
    });
    assert.deepEqual(out!.tokens, ['<unk>', '<unk>', '<unk>'], 'the model\'s own tokens stay in the attention labels');
  });

  test('pairs with an empty side are refused with the pair number', () => {
    const v = buildVocabulary(['a b'], 'word');
    assert.throws(() => encodePairs([{ source: 'a', target: 'b' }, { source: '', target: 'a' }], v, v), /pair 2/);
  });

  test('the parameter count of a config (checked before a checkpoint builds its model) is the model\'s', () => {
    for (const change of [{}, { cell: 'gru', layers: 2, attention: 'additive' }, { bidirectional: false, attention: 'dot', inputFeeding: false, shareEmbeddings: true, targetVocab: 7 }, { layers: 3, inputFeeding: false }] as Partial<Seq2SeqConfig>[]) {
      const config = { ...base, ...change };
      assert.equal(parameterCount(config), new Seq2Seq(config).parameters().reduce((n, p) => n + p.value.size, 0), JSON.stringify(change));
    }
  });

  test('configuration errors: odd hidden size with a bidirectional encoder, shared embeddings of different vocabularies, unknown options', () => {
    assert.throws(() => new Seq2Seq({ ...base, hidden: 5 }), ConfigError);
    assert.throws(() => new Seq2Seq({ ...base, shareEmbeddings: true }), /same source and target vocabulary/);
    assert.throws(() => new Seq2Seq({ ...base, attention: 'luong' as never }), ConfigError);
    assert.throws(() => new Seq2Seq({ ...base, heads: 2 } as never), ConfigError);
  });
});
