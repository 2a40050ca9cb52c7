/**
 * A message echoes what the user gave or a file held, cut: a 1 MB name, kind
 * or cell must not become a 1 MB line on stderr. Each case feeds one entry
 * point a long string and expects a BpttError of bounded length that gives
 * the string's length.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Variable } from '../../src/autograd/index.js';
import { cleanCmudict, seriesFromTable, Vocabulary } from '../../src/data/index.js';
import { parseCsv } from '../../src/data/node/csv.js';
import { saveCheckpoint } from '../../src/io/node/checkpoint-files.js';
import { decodeSafetensors, groupKerasWeights, loadTorchStateDict } from '../../src/io/index.js';
import { crossEntropy } from '../../src/losses/index.js';
import { Attention, LSTM, Linear, RNN } from '../../src/nn/index.js';
import { SGD } from '../../src/optim/index.js';
import { forecastCodec } from '../../src/tasks/forecast/codec.js';
import { loadLanguageModel } from '../../src/tasks/language-model/node/checkpoint.js';
import { LanguageModel } from '../../src/tasks/language-model/index.js';
import { speechCodec } from '../../src/tasks/speech/codec.js';
import { translateCodec } from '../../src/tasks/translate/index.js';
import { loadRun } from '../../src/training/node/run-files.js';
import { validateSeq2SeqConfig } from '../../src/tasks/translate/index.js';
import { BpttError, Tensor } from '../../src/tensor/index.js';
import { untyped } from '../helpers.js';

const N = 1_000_000;
const LONG = 'x'.repeat(N);

/** Throws a BpttError whose message stays short and says how long the echoed string was. */
function cutIn(fn: () => unknown, length = N): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof BpttError, `expected a BpttError, got ${String(e).slice(0, 200)}`);
    assert.ok(e.message.length < 1500, `a message of ${e.message.length} characters: ${e.message.slice(0, 300)}…`);
    assert.ok(e.message.includes(`(${length} characters)`), e.message);
    assert.ok(!e.message.includes('\n'), e.message);
    return true;
  });
}

/** A safetensors file with this header (compact JSON) and no data. */
function safetensors(header: unknown): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  return out;
}

/** Column `column` of a CSV text as a series. */
const series = (csv: string, column: string) =>
  seriesFromTable(parseCsv(csv, 'data.csv'), { columns: [column], time: null, fill: null }, 'data.csv');
const EMPTY = { dtype: 'F32', shape: [0], data_offsets: [0, 0] };

const lm = { cell: 'lstm', vocab: 5, embed: 2, hidden: 2, layers: 1, dropout: 0, seed: 1 };
const seq2seq = {
  cell: 'gru', sourceVocab: 5, targetVocab: 5, embed: 2, hidden: 2, layers: 1, bidirectional: false,
  attention: 'dot', inputFeeding: false, dropout: 0, shareEmbeddings: false, seed: 1,
};

const CASES: Array<[string, () => unknown]> = [
  ['a model config cell', () => new LanguageModel(untyped({ ...lm, cell: LONG }))],
  ['a model config attention kind', () => validateSeq2SeqConfig(untyped({ ...seq2seq, attention: LONG }))],
  ['a model config value that should be a number', () => new LanguageModel(untyped({ ...lm, dropout: LONG }))],
  ['Attention kind', () => new Attention(untyped({ kind: LONG, queryDim: 2, keyDim: 2 }))],
  ['RNN nonlinearity', () => new RNN(untyped({ inputSize: 2, hiddenSize: 2, nonlinearity: LONG }))],
  ['an unknown option key', () => new LSTM(untyped({ inputSize: 2, hiddenSize: 2, [LONG]: 1 }))],
  ['a positive integer given as a string', () => new LSTM(untyped({ inputSize: LONG, hiddenSize: 2 }))],
  ['crossEntropy reduction', () => crossEntropy(new Variable(Tensor.zeros([1, 2])), [0], { reduction: untyped(LONG) })],
  ['a vocabulary token', () => Vocabulary.fromJSON({ level: 'char', tokens: [LONG, 'a'] })],
  ['a CSV column name twice', () => parseCsv(`${LONG},${LONG}\n1,2\n`, 'data.csv')],
  ['a CSV column list', () => series(`${LONG},y\n1,2\n`, 'z')],
  ['a CSV cell', () => series(`y\n${LONG}\n`, 'y')],
  ['a safetensors tensor name', () => decodeSafetensors(safetensors({ [LONG]: { ...EMPTY, dtype: 'U8' } }))],
  ['a safetensors dtype', () => decodeSafetensors(safetensors({ a: { ...EMPTY, dtype: LONG } }))],
  ['a cmudict phoneme', () => cleanCmudict([['word', `W ${LONG}`]])],
  ['an optimizer state dict option', () => {
    const sgd = new SGD([new Variable(Tensor.zeros([2]), true)], { lr: 0.1 });
    sgd.loadStateDict({ ...sgd.stateDict(), options: { momentum: untyped<number>(LONG) } });
  }],
  ['a state dict name', () => new Linear(2, 2).loadStateDict(new Map([[LONG, Tensor.zeros([2])]]))],
  ['a torch state dict name', () => loadTorchStateDict(new Linear(2, 2), new Map([[LONG, Tensor.zeros([2])]]))],
  ['a Keras weight name', () => groupKerasWeights(new Map([[LONG, Tensor.zeros([2])]]))],
];

describe('messages cut the long strings they echo', () => {
  for (const [what, fn] of CASES) test(what, () => cutIn(fn));
});

describe("a checkpoint's task field is echoed cut", () => {
  const LOADERS: Array<[string, (path: string) => unknown]> = [
    ['language model', loadLanguageModel],
    ['translator', (p) => loadRun(p, translateCodec)],
    ['speech', (p) => loadRun(p, speechCodec)],
    ['forecaster', (p) => loadRun(p, forecastCodec)],
  ];
  const dir = mkdtempSync(join(tmpdir(), 'bptt-long-'));
  // a hand-edited manifest: 10 MB of task name (and a newline that must not split the one-line error)
  const task = `lm\n${'m'.repeat(10_000_000)}`;
  const path = saveCheckpoint(dir, 'edited', { meta: { task }, weights: new Map(), state: null });
  test.after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [what, load] of LOADERS) {
    test(what, () => cutIn(() => load(path), task.length));
  }

  test('the fixture is what it says', () => {
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).meta.task.length, task.length);
  });
});
