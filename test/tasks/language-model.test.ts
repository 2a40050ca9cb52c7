import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { noGrad } from '../../src/autograd/index.js';
import { Vocabulary } from '../../src/data/index.js';
import {
  LanguageModel, beamText, sampleText, scoreTokens, validateConfig, type LanguageModelConfig, type LmBatch,
} from '../../src/tasks/language-model/index.js';
import { Adam, learningRate, validateSchedule, type Schedule } from '../../src/optim/index.js';
import type { FitOptions } from '../../src/training/index.js';
import { ConfigError, DataError, Rng } from '../../src/tensor/index.js';
import { lmTrainer, runUntil } from './lm-runs.js';

const TEXT = 'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, '
  + 'and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of the world.\n';

function config(over: Partial<LanguageModelConfig> = {}): LanguageModelConfig {
  return { cell: 'lstm', vocab: 12, embed: 6, hidden: 8, layers: 1, dropout: 0, seed: 7, ...over };
}

/** A random batch of `steps` × `batch` token ids below `vocab`. */
function randomBatch(vocab: number, steps: number, batch: number, seed: number, noiseSeed = 1): LmBatch {
  const rng = new Rng(seed);
  const ids = () => Int32Array.from({ length: steps * batch }, () => rng.int(vocab));
  return { inputs: ids(), targets: ids(), steps, batch, noiseSeed };
}

function lossOf(model: LanguageModel, b: LmBatch): number {
  return noGrad(() => model.unroll(b, 0, b.steps, null, true).loss!.item());
}

describe('LanguageModel', () => {
  test('parameter names are those of the PyTorch module (2 layers)', () => {
    const m = new LanguageModel(config({ layers: 2, vocab: 11, embed: 5, hidden: 7 }));
    const names = m.namedParameters().map(([n]) => n);
    assert.deepEqual(names, [
      'embedding.weight',
      'rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0',
      'rnn.weight_ih_l1', 'rnn.weight_hh_l1', 'rnn.bias_ih_l1', 'rnn.bias_hh_l1',
      'head.weight', 'head.bias',
    ]);
    const shapes = Object.fromEntries(m.namedParameters().map(([n, p]) => [n, [...p.shape]]));
    assert.deepEqual(shapes['embedding.weight'], [11, 5]);
    assert.deepEqual(shapes['rnn.weight_ih_l0'], [28, 5]);
    assert.deepEqual(shapes['rnn.weight_ih_l1'], [28, 7]);
    assert.deepEqual(shapes['rnn.weight_hh_l1'], [28, 7]);
    assert.deepEqual(shapes['head.weight'], [11, 7]);
    assert.deepEqual(shapes['head.bias'], [11]);
    assert.deepEqual([...m.stateDict().keys()], names);
    // GRU: 3 gates, same names
    const g = new LanguageModel(config({ cell: 'gru', layers: 2, hidden: 7 }));
    assert.deepEqual(g.namedParameters().map(([n]) => n), names);
    assert.deepEqual([...g.rnn.namedParameters()[0]![1].shape], [21, 6]);
  });

  test('the same config and seed give the same weights; another seed others', () => {
    const a = new LanguageModel(config()), b = new LanguageModel(config()), c = new LanguageModel(config({ seed: 8 }));
    const flat = (m: LanguageModel) => m.parameters().flatMap((p) => Array.from(p.data));
    assert.deepEqual(flat(a), flat(b));
    assert.notDeepEqual(flat(a), flat(c));
  });

  test('validateConfig rejects a bad cell, dropout, sizes, seed and unknown keys with ConfigError', () => {
    assert.doesNotThrow(() => validateConfig(config()));
    const bad: Array<Record<string, unknown>> = [
      { cell: 'transformer' }, { cell: undefined }, { dropout: 1 }, { dropout: -0.1 }, { dropout: NaN }, { dropout: '0.1' },
      { hidden: 0 }, { vocab: 2.5 }, { layers: -1 }, { embed: undefined }, { seed: 1.5 }, { extra: 1 }, { numLayers: 2 },
    ];
    for (const over of bad) {
      assert.throws(() => validateConfig({ ...config(), ...over } as LanguageModelConfig), ConfigError, JSON.stringify(over));
      assert.throws(() => new LanguageModel({ ...config(), ...over } as LanguageModelConfig), ConfigError, JSON.stringify(over));
    }
    assert.throws(() => validateConfig(null as unknown as LanguageModelConfig), ConfigError);
    assert.throws(() => validateConfig({ ...config(), dropout: 2 }, 'my model'), /my model: expected dropout in \[0, 1\)/);
  });

  test('forgetBias sets the forget slice of every bias_hh of an LSTM and nothing else; other cells refuse it', () => {
    const plain = new LanguageModel(config({ layers: 2 }));
    const open = new LanguageModel(config({ layers: 2, forgetBias: 1 }));
    const H = 8;
    const weights = new Map(plain.namedParameters().map(([n, p]) => [n, p.value.data]));
    for (const [name, p] of open.namedParameters()) {
      const d = p.value.data;
      if (name.startsWith('rnn.bias_hh_')) {
        assert.ok(d.subarray(H, 2 * H).every((v) => v === 1), name);
        assert.deepEqual([...d.subarray(0, H)], [...weights.get(name)!.subarray(0, H)], `${name}: input gate as initialised`);
        assert.deepEqual([...d.subarray(2 * H)], [...weights.get(name)!.subarray(2 * H)], `${name}: g and o gates as initialised`);
      } else {
        assert.deepEqual([...d], [...weights.get(name)!], `${name} untouched`);
      }
    }
    assert.throws(() => new LanguageModel(config({ cell: 'gru', forgetBias: 1 })), ConfigError);
    assert.throws(() => new LanguageModel(config({ forgetBias: NaN })), ConfigError);
  });

  test('dropout masks come from the batch noiseSeed: same seed same loss, another seed another loss', () => {
    const m = new LanguageModel(config({ dropout: 0.3, layers: 2 }));
    m.train();
    const b = randomBatch(12, 6, 3, 11, 1234);
    const first = lossOf(m, b);
    assert.equal(lossOf(m, b), first, 'the same batch twice');
    assert.equal(lossOf(new LanguageModel(config({ dropout: 0.3, layers: 2 })), b), first, 'a fresh model');
    const other = lossOf(m, { ...b, noiseSeed: 1235 });
    assert.notEqual(other, first, 'another noiseSeed draws other masks');
    m.eval();
    const e1 = lossOf(m, b);
    assert.equal(lossOf(m, { ...b, noiseSeed: 99 }), e1, 'no dropout in eval mode');
    assert.notEqual(e1, first);
  });

  test('scoreTokens equals one unroll over the whole sequence (batch 1, eval mode)', () => {
    const vocab = Vocabulary.build(TEXT, 'char');
    const m = new LanguageModel(config({ vocab: vocab.size, dropout: 0.2, layers: 2 }));
    m.train();
    const ids = vocab.encode(TEXT).ids;
    const score = scoreTokens(m, ids, { batch: 1, steps: 16 }); // many stretches, the state carried between them
    assert.equal(m.training, true, 'training mode restored');
    const N = ids.length;
    m.eval();
    const whole: LmBatch = { inputs: ids.slice(0, N - 1), targets: ids.slice(1), steps: N - 1, batch: 1, noiseSeed: 0 };
    const sum = lossOf(m, whole);
    assert.equal(score.tokens, N - 1);
    assert.ok(Math.abs(score.loss - sum / (N - 1)) < 1e-5, `${score.loss} vs ${sum / (N - 1)}`);
    assert.ok(Math.abs(score.bits - score.loss / Math.LN2) < 1e-12);
    assert.ok(Math.abs(score.perplexity - Math.exp(score.loss)) < 1e-9);
  });
});

describe('learningRate', () => {
  const s = (over: Partial<Schedule>): Schedule => ({ kind: 'cosine', lr: 0.01, warmup: 0, floor: 0.1, ...over });
  const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-12, `${a} vs ${b} ${msg ?? ''}`);

  test('warm-up ramps linearly to lr', () => {
    const c = s({ kind: 'constant', warmup: 10 });
    for (let u = 1; u <= 10; u++) close(learningRate(c, u, 0), (0.01 * u) / 10, `update ${u}`);
    close(learningRate(c, 11, 0.5), 0.01);
    // the cosine is scaled by the warm-up too
    close(learningRate(s({ warmup: 4 }), 2, 0), 0.005);
  });

  test('cosine starts at lr and ends at lr·floor (half way: the middle)', () => {
    const c = s({});
    close(learningRate(c, 1, 0), 0.01);
    close(learningRate(c, 50, 0.5), 0.01 * (0.1 + 0.9 * 0.5));
    close(learningRate(c, 100, 1), 0.001);
    close(learningRate(c, 200, 1.7), 0.001, 'past the budget it stays at the floor');
    let prev = Infinity;
    for (let d = 0; d <= 1; d += 0.05) {
      const lr = learningRate(c, 10, d);
      assert.ok(lr <= prev, 'decreasing');
      prev = lr;
    }
  });

  test('constant stays at lr', () => {
    for (const d of [0, 0.3, 1, 2]) close(learningRate(s({ kind: 'constant' }), 7, d), 0.01);
  });

  test('validateSchedule rejects bad settings', () => {
    for (const over of [{ kind: 'linear' }, { lr: 0 }, { lr: Infinity }, { warmup: 1.5 }, { warmup: -1 }, { floor: 1.5 }, { floor: -0.1 }]) {
      assert.throws(() => validateSchedule(s(over as Partial<Schedule>)), ConfigError, JSON.stringify(over));
    }
  });
});

describe('generation', () => {
  const vocab = Vocabulary.build(TEXT, 'char');
  const model = () => new LanguageModel(config({ vocab: vocab.size, hidden: 12 }));
  const take = (g: Iterable<string>) => [...g].join('');

  test('sampleText: the same seed gives the same text, the length is respected', () => {
    const m = model();
    const a = take(sampleText(m, vocab, { length: 40, seed: 5, prime: 'Call ' }));
    assert.equal(take(sampleText(m, vocab, { length: 40, seed: 5, prime: 'Call ' })), a);
    assert.notEqual(take(sampleText(m, vocab, { length: 40, seed: 6, prime: 'Call ' })), a);
    assert.equal(Array.from(a).length, 40);
    assert.equal(Array.from(take(sampleText(m, vocab, { length: 1 }))).length, 1);
    assert.throws(() => take(sampleText(m, vocab, { length: 0 })), ConfigError);
    assert.throws(() => take(sampleText(m, vocab, { length: 3, temperature: -1 })), ConfigError);
  });

  test('sampleText: temperature 0 equals top-k 1', () => {
    const m = model();
    const greedy = take(sampleText(m, vocab, { length: 30, temperature: 0, prime: 'me ', seed: 1 }));
    assert.equal(take(sampleText(m, vocab, { length: 30, topK: 1, prime: 'me ', seed: 2 })), greedy);
  });

  test('sampleText never emits <unk> for a character vocabulary, even when the model favours it', () => {
    const m = model();
    const bias = m.head.bias!.data;
    bias[0] = 50; // <unk> would win every draw
    for (const o of [{ temperature: 0 }, { temperature: 1 }, { temperature: 3 }, { topK: 2 }, { topP: 0.5 }]) {
      const text = take(sampleText(m, vocab, { length: 60, seed: 3, ...o }));
      assert.ok(!text.includes('<unk>'), `${JSON.stringify(o)}: ${text}`);
      assert.equal(Array.from(text).length, 60);
    }
    const beam = beamText(m, vocab, { length: 10, width: 3 });
    assert.ok(!beam.text.includes('<unk>'), beam.text);
  });

  test('beamText with width 1 equals sampleText at temperature 0', () => {
    const m = model();
    for (const prime of ['Call me', 'I', '']) {
      const greedy = take(sampleText(m, vocab, { length: 25, temperature: 0, prime }));
      const beam = beamText(m, vocab, { length: 25, width: 1, prime });
      assert.equal(beam.text, greedy, `prime ${JSON.stringify(prime)}`);
      assert.ok(beam.logProb < 0);
      assert.ok(beamText(m, vocab, { length: 25, width: 4, prime }).logProb >= beam.logProb - 1e-9, 'a wider beam finds at least as likely a text');
    }
  });
});

describe('generation, word level', () => {
  test('sampleText spaces words like detokenize (as beamText does)', {
  }, () => {
    const words = Vocabulary.build(TEXT, 'word');
    const m = new LanguageModel(config({ vocab: words.size, hidden: 12 }));
    m.head.bias!.data[words.id(',')] = 50; // the greedy continuation is all commas
    const sampled = [...sampleText(m, words, { length: 6, temperature: 0, prime: 'I thought' })].join('');
    const beam = beamText(m, words, { length: 6, width: 1, prime: 'I thought' });
    assert.equal(beam.text, ',,,,,,');
    assert.equal(sampled.trimEnd(), beam.text);
  });
});

const threads = (): number => Number(/Threads:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
const onLinux = { skip: process.platform !== 'linux' && 'counts threads in /proc', timeout: 30_000 };

describe('language-model training on the runner (LmBatches, data-parallel engine)', () => {
  test('learns "abcabc…": validation far below the 1.58 bits of a memoryless model', { timeout: 60_000 }, async () => {
    const text = 'abc'.repeat(1200);
    const vocab = Vocabulary.build(text, 'char');
    const ids = vocab.encode(text).ids;
    const cut = Math.floor(ids.length * 0.9);
    const model = new LanguageModel({ cell: 'lstm', vocab: vocab.size, embed: 8, hidden: 32, layers: 1, dropout: 0, seed: 1 });
    const valIds = ids.subarray(cut);
    const before = scoreTokens(model, valIds, { batch: 4, steps: 16 }).bits;
    const result = await lmTrainer(model, ids.subarray(0, cut), valIds, { batch: 8, seqLen: 16, steps: 150 }).fit();
    assert.equal(result.updates, 150);
    assert.equal(result.stoppedBy, 'budget');
    assert.ok(before > 1.5, `untrained: ${before} bits`);
    // measured: ~0.01 bits after 150 updates
    assert.ok(result.best && result.best.score < 0.1, `after 150 updates: ${result.best?.score} bits`);
    assert.equal(result.best.update, 150);
    assert.equal(result.best.final, true);
  });

  for (const workers of [1, 0]) {
    test(`resuming from a snapshot continues bit-identically (workers ${workers}, stateful, dropout)`, { timeout: 60_000 }, async () => {
      const vocab = Vocabulary.build(TEXT, 'char');
      const ids = vocab.encode(TEXT.repeat(3)).ids; // 9 batches per epoch: an epoch boundary within the 12 updates, and a short last batch
      const cut = 4 * 16 * 8 + 2 + 6;
      const trainIds = ids.subarray(0, cut), valIds = ids.subarray(cut);
      const cfg: LanguageModelConfig = { cell: 'lstm', vocab: vocab.size, embed: 6, hidden: 10, layers: 2, dropout: 0.1, seed: 5 };
      const opts = { workers, batch: 4, stateful: true, steps: 12 };
      const params = (m: LanguageModel) => m.parameters().map((p) => Float32Array.from(p.data));

      const a = new LanguageModel(cfg);
      const losses: number[] = [];
      const ta = lmTrainer(a, trainIds, valIds, opts, { callbacks: [{ onUpdate: (e) => losses.push(e.loss) }] });
      assert.equal(ta.data.batchesPerEpoch, 9);
      await ta.fit();
      assert.equal(losses.length, 12);
      const want = params(a);

      const b = new LanguageModel(cfg);
      const seen: number[] = [];
      const snap = await runUntil(5, (fit) => lmTrainer(b, trainIds, valIds, opts, fit), seen);
      assert.deepEqual(seen, losses.slice(0, 5), 'the same losses before the snapshot');
      assert.equal(snap.progress.updates, 5);
      assert.equal(snap.carried.length, workers + 1, 'one carried state per thread');
      assert.ok(snap.carried.every((c) => c !== null), 'every shard carries a state after 5 stateful batches');

      const c = new LanguageModel(cfg);
      c.loadStateDict(b.stateDict());
      const rest: number[] = [];
      const tc = lmTrainer(c, trainIds, valIds, opts, { callbacks: [{ onUpdate: (e) => rest.push(e.loss) }] });
      await tc.restore(snap, null);
      assert.equal(tc.progress.updates, 5);
      const result = await tc.fit();
      assert.equal(result.updates, 12);
      assert.deepEqual(rest, losses.slice(5), 'the same losses after the resume');
      const got = params(c);
      got.forEach((g, i) => assert.deepEqual(g, want[i], `parameter ${c.namedParameters()[i]![0]} bit-identical`));
    });
  }

  test('a restored run numbers updates on; ten skips in a row end it (workers)', { timeout: 30_000 }, async () => {
    const vocab = Vocabulary.build(TEXT, 'char');
    const ids = vocab.encode(TEXT).ids;
    const cfg = config({ vocab: vocab.size });
    const [trainIds, valIds] = [ids.subarray(0, 200), ids.subarray(200)];
    const snap = await runUntil(3, (fit) => lmTrainer(new LanguageModel(cfg), trainIds, valIds, { workers: 1, steps: 30 }, fit));
    const model = new LanguageModel(cfg);
    const skipped: Array<string | null> = [];
    const resumed = lmTrainer(model, trainIds, valIds, { workers: 1, steps: 30 },
      { callbacks: [{ onUpdate: (e) => skipped.push(e.skipped) }] });
    await resumed.restore(snap, null);
    for (const p of model.head.parameters()) p.data.fill(NaN); // shared with the worker's replica
    const message = /got 10, updates 4 to 13; the first, update 4: /;
    await assert.rejects(resumed.fit(), (e: unknown) => e instanceof DataError && message.test(e.message));
    assert.equal(skipped.length, 9, 'nine updates skipped, the tenth ends the run');
    skipped.forEach((s, k) => assert.match(s ?? 'not skipped', new RegExp(`^update ${4 + k}: `)));
  });

  test('resuming with another thread count is a ConfigError, and ends the threads it started', onLinux, async () => {
    const vocab = Vocabulary.build(TEXT, 'char');
    const ids = vocab.encode(TEXT).ids;
    const cfg = config({ vocab: vocab.size });
    const [trainIds, valIds] = [ids.subarray(0, 200), ids.subarray(200)];
    const snap = await runUntil(1, (fit) => lmTrainer(new LanguageModel(cfg), trainIds, valIds, { workers: 0 }, fit));
    const before = threads();
    const t = lmTrainer(new LanguageModel(cfg), trainIds, valIds, { workers: 1 });
    await assert.rejects(t.restore(snap, null), (e: unknown) => e instanceof ConfigError && /one per shard/.test(e.message));
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(threads(), before, 'no thread left running');
  });

  test('a run that fails after its worker threads are up ends them', onLinux, async () => {
    const ids = Int32Array.from({ length: 300 }, (_, i) => i % 3);
    const before = threads();
    for (let i = 0; i < 2; i++) {
      const m = new LanguageModel(config({ vocab: 3 }));
      const failing = lmTrainer(m, ids, ids, { workers: 1, batch: 8 }, { evalEvery: 1, validate: () => {
        throw new DataError('validate: expected a validation set, got none');
      } });
      await assert.rejects(failing.fit(), DataError);
    }
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(threads(), before, 'no thread left running');
  });

  test('bad training options are ConfigErrors (LmBatches, the runner, the optimiser, the engine)', async () => {
    const ids = Int32Array.from({ length: 200 }, (_, i) => i % 5);
    const m = new LanguageModel(config({ vocab: 5 }));
    for (const over of [{ batch: 0 }, { seqLen: 1.5 }, { resetProbability: 2 }, { steps: 0 }]) {
      assert.throws(() => lmTrainer(m, ids, ids, over), ConfigError, JSON.stringify(over));
    }
    for (const fit of [{ evalEvery: 0 }, { budget: {} }, { budget: { time: -1 } }, { patience: 0 }, { minDelta: -1 },
      { budget: { steps: 1 }, epochs: 1 }]) {
      assert.throws(() => lmTrainer(m, ids, ids, {}, fit as Partial<FitOptions<LmBatch>>), ConfigError, JSON.stringify(fit));
    }
    for (const o of [{ weightDecay: -1 }, { betas: [0.9, 1] }, { betas: [0.9] }]) {
      assert.throws(() => new Adam(m.parameters(), { lr: 1e-2, ...o } as never), ConfigError, JSON.stringify(o));
    }
    await assert.rejects(lmTrainer(m, ids, ids, { workers: -1 }).fit(), ConfigError, 'workers -1');
  });
});
