import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Vocabulary } from '../../src/data/index.js';
import { CHECKPOINT_VERSION, ensureWritableDir, loadCheckpoint, saveCheckpoint, type CheckpointContent, type Manifest } from '../../src/io/node/checkpoint-files.js';
import { loadLanguageModel } from '../../src/tasks/language-model/node/checkpoint.js';
import { lmCodec } from '../../src/tasks/language-model/codec.js';
import { LanguageModel } from '../../src/tasks/language-model/model.js';
import { DataError, Tensor } from '../../src/tensor/index.js';
import { runStateOf, saveRun } from '../../src/training/node/run-files.js';
import { lmTrainer, runUntil } from '../tasks/lm-runs.js';

const root = mkdtempSync(join(tmpdir(), 'bptt-ckpt-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = (): string => join(root, `d${n++}`);

function content(seed = 1, withState = true): CheckpointContent {
  const w = new Map<string, Tensor>([
    ['embedding.weight', Tensor.from([1, 2, 3, 4, 5, seed], [3, 2])],
    ['head.bias', Tensor.from([-0.5, 0.25, 1e-30], [3])],
  ]);
  const s = new Map<string, Tensor>([['optimizer.head.bias.m', Tensor.from([0.125, seed, -7], [3])]]);
  return { meta: { task: 'test', seed, nested: { list: [1, 'two', null], text: 'Call me 🐋' } }, weights: w, state: withState ? s : null };
}

function assertTensorsEqual(got: Map<string, Tensor> | null, want: Map<string, Tensor> | null): void {
  assert.ok(got && want);
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [k, t] of want) {
    const g: Tensor = got.get(k)!;
    assert.deepEqual([...g.shape], [...t.shape], k);
    assert.equal(g.dtype, t.dtype, k);
    assert.deepEqual(Array.from(g.data), Array.from(t.data), k);
  }
}

const manifestOf = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

const rejects = (fn: () => unknown, ...patterns: RegExp[]): void => {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DataError, `DataError, got ${String(e)}`);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
};

describe('saveCheckpoint / loadCheckpoint', () => {
  test('round trip: meta, weights and state', () => {
    const dir = freshDir();
    const c = content(3);
    const path = saveCheckpoint(dir, 'last', c);
    assert.equal(path, join(dir, 'last.json'));
    const m = manifestOf(path);
    assert.equal(m.format, 'bptt-checkpoint');
    assert.equal(m.version, CHECKPOINT_VERSION);
    assert.match(m.weights, /^last-[0-9a-f]+\.safetensors$/);
    assert.match(m.state!, /^last-[0-9a-f]+\.state\.safetensors$/);
    assert.deepEqual(Object.keys(m.sha256).sort(), [m.weights, m.state].sort());
    const back = loadCheckpoint(path);
    assert.equal(back.path, path);
    assert.deepEqual(back.meta, c.meta);
    assertTensorsEqual(back.weights, c.weights);
    assertTensorsEqual(back.state, c.state);
  });

  test('without state: state is null', () => {
    const dir = freshDir();
    const path = saveCheckpoint(dir, 'w', content(1, false));
    assert.equal(manifestOf(path).state, null);
    const back = loadCheckpoint(path);
    assert.equal(back.state, null);
    assertTensorsEqual(back.weights, content(1).weights);
  });

  test('a directory resolves to best.json, else last.json', () => {
    const dir = freshDir();
    mkdirSync(dir);
    rejects(() => loadCheckpoint(dir), /best\.json or last\.json/);
    saveCheckpoint(dir, 'last', content(1));
    let back = loadCheckpoint(dir);
    assert.equal(back.path, join(dir, 'last.json'));
    assert.equal(back.meta.seed, 1);
    saveCheckpoint(dir, 'best', content(2));
    back = loadCheckpoint(dir);
    assert.equal(back.path, join(dir, 'best.json'));
    assert.equal(back.meta.seed, 2);
  });

  test('saving twice under one name leaves only the newest set of files, and no temporary files', () => {
    const dir = freshDir();
    saveCheckpoint(dir, 'best', content(9));
    const bestFiles = readdirSync(dir).sort();
    saveCheckpoint(dir, 'last', content(1));
    const first = manifestOf(join(dir, 'last.json'));
    saveCheckpoint(dir, 'last', content(2));
    const second = manifestOf(join(dir, 'last.json'));
    assert.notEqual(second.weights, first.weights, 'a new set of file names');
    const lastFiles = readdirSync(dir).filter((f) => f.startsWith('last')).sort();
    assert.deepEqual(lastFiles, ['last.json', second.weights, second.state!].sort());
    // nothing else at all: the other checkpoint's files, and no temp or probe files
    assert.deepEqual(readdirSync(dir).filter((f) => !f.startsWith('last')).sort(), bestFiles);
    assert.equal(loadCheckpoint(join(dir, 'last.json')).meta.seed, 2);
    assert.equal(loadCheckpoint(join(dir, 'best.json')).meta.seed, 9);
    // saving without state removes the older state file too
    saveCheckpoint(dir, 'last', content(3, false));
    const third = manifestOf(join(dir, 'last.json'));
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('last')).sort(), ['last.json', third.weights].sort());
  });

  test('saving one checkpoint never removes the files of another whose name starts the same way', () => {
      const dir = freshDir();
      saveCheckpoint(dir, 'best-ever', content(1));
      saveCheckpoint(dir, 'best', content(2));
      assert.equal(loadCheckpoint(join(dir, 'best-ever.json')).meta.seed, 1);
    });

  test('a flipped byte in the weights file is a DataError mentioning SHA-256', () => {
    const dir = freshDir();
    const path = saveCheckpoint(dir, 'last', content(1));
    const file = join(dir, manifestOf(path).weights);
    const bytes = readFileSync(file);
    bytes[bytes.length - 2] ^= 0x10;
    writeFileSync(file, bytes);
    rejects(() => loadCheckpoint(path), /SHA-256/, /corrupt/, new RegExp(manifestOf(path).weights.replace(/\./g, '\\.')));
  });

  test('a corrupt state file is caught too', () => {
    const dir = freshDir();
    const path = saveCheckpoint(dir, 'last', content(1));
    const file = join(dir, manifestOf(path).state!);
    const bytes = readFileSync(file);
    bytes[0] ^= 1;
    writeFileSync(file, bytes);
    rejects(() => loadCheckpoint(path), /SHA-256/);
  });

  test('a missing weights file is a DataError naming it', () => {
    const dir = freshDir();
    const path = saveCheckpoint(dir, 'last', content(1));
    const weights = manifestOf(path).weights;
    unlinkSync(join(dir, weights));
    rejects(() => loadCheckpoint(path), new RegExp(weights.replace(/\./g, '\\.')), /no such file/);
  });

  test('a missing manifest path is a DataError', () => {
    rejects(() => loadCheckpoint(join(root, 'nowhere', 'last.json')), /no such file/);
  });

  test('a truncated or invalid JSON manifest is a DataError', () => {
    const dir = freshDir();
    const path = saveCheckpoint(dir, 'last', content(1));
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, text.slice(0, Math.floor(text.length / 2)));
    rejects(() => loadCheckpoint(path), /invalid JSON/, /checkpoint '/);
    writeFileSync(path, '');
    rejects(() => loadCheckpoint(path), /invalid JSON/);
    writeFileSync(path, Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0, 0, 1));
    rejects(() => loadCheckpoint(path), /invalid JSON/);
  });

  test('a JSON file that is not a manifest is a DataError', () => {
    const dir = freshDir();
    mkdirSync(dir);
    for (const json of ['{"a":1}', '[]', 'null', '42', '"text"', '{"format":"bptt-checkpoint","version":1}', '{"format":"other","version":1,"weights":"x","sha256":{},"meta":{}}']) {
      const p = join(dir, 'x.json');
      writeFileSync(p, json);
      rejects(() => loadCheckpoint(p), /a bptt-checkpoint manifest/);
    }
  });

  test('another format version is a DataError', () => {
    const dir = freshDir();
    const path = saveCheckpoint(dir, 'last', content(1));
    const m = manifestOf(path);
    writeFileSync(path, JSON.stringify({ ...m, version: 2 }));
    rejects(() => loadCheckpoint(path), /format version 1/, /got 2/);
  });

  test('file names with directories in a manifest are refused', () => {
    const dir = freshDir();
    const path = saveCheckpoint(dir, 'last', content(1));
    const m = manifestOf(path);
    writeFileSync(path, JSON.stringify({ ...m, weights: `../${m.weights}` }));
    rejects(() => loadCheckpoint(path), /without directories/);
  });
});

describe('ensureWritableDir', () => {
  test('creates nested directories and leaves nothing behind', () => {
    const dir = join(freshDir(), 'a', 'b');
    ensureWritableDir(dir);
    assert.ok(existsSync(dir));
    assert.deepEqual(readdirSync(dir), []);
  });

  test('a path through a regular file is a DataError', () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    rejects(() => ensureWritableDir(join(file, 'sub')), /output directory/, /a path through a file/);
  });
});

describe('language-model checkpoints', () => {
  const text = 'Call me Ishmael. Some years ago, never mind how long precisely, I thought I would sail about.\n'.repeat(4);

  async function trained(dir: string): Promise<{ model: LanguageModel; vocab: Vocabulary; path: string }> {
    const vocab = Vocabulary.build(text, 'char');
    const ids = vocab.encode(text).ids;
    const config = { cell: 'gru' as const, vocab: vocab.size, embed: 4, hidden: 8, layers: 1, dropout: 0, seed: 2 };
    const model = new LanguageModel(config);
    const state = await runUntil(2, (fit) => lmTrainer(model, ids.subarray(0, 300), ids.subarray(300),
      { batch: 4, seqLen: 8, resetProbability: 0, seed: 1, steps: 3 }, fit));
    const path = saveRun(dir, 'last', lmCodec, { model, config, extra: { vocabulary: vocab.toJSON() }, state,
      data: [{ role: 'bundled', name: 'test text', sha256: '0' }], settings: {}, writtenBy: 'test' } as never);
    return { model, vocab, path };
  }

  test('round trip of model, vocabulary and trainer state', async () => {
    const dir = freshDir();
    const { model, vocab, path } = await trained(dir);
    const ck = loadLanguageModel(dir);
    assert.equal(ck.path, path);
    assert.deepEqual(ck.vocabulary.tokens, vocab.tokens);
    assert.deepEqual(ck.model.config, model.config);
    ck.model.namedParameters().forEach(([name, p], i) => assert.deepEqual(Array.from(p.data), Array.from(model.parameters()[i]!.data), name));
    const { state } = runStateOf(ck);
    assert.equal(state.progress.updates, 2);
    assert.equal(state.carried.length, 1);
    assert.ok(state.carried[0], 'the carried state is saved');
    assert.equal(state.optimizer.state.length, model.parameters().length);
  });

  test('a checkpoint whose meta.model.hidden was edited is a DataError naming the checkpoint', async () => {
    const dir = freshDir();
    const { path } = await trained(dir);
    const m = manifestOf(path);
    (m.meta.model as { hidden: number }).hidden = 16;
    writeFileSync(path, JSON.stringify(m));
    rejects(() => loadLanguageModel(path), new RegExp(`checkpoint '${path.replace(/[.]/g, '\\.')}'`));
    // a vocabulary that does not match the model's size
    (m.meta.model as { hidden: number }).hidden = 8;
    ((m.meta.extra as { vocabulary: { tokens: string[] } }).vocabulary).tokens.push('§');
    writeFileSync(path, JSON.stringify(m));
    rejects(() => loadLanguageModel(path), /checkpoint '/, /vocabulary/);
    // another task
    writeFileSync(path, JSON.stringify({ ...m, meta: { ...m.meta, task: 'translation' } }));
    rejects(() => loadLanguageModel(path), /an lm checkpoint/);
  });
});
