/**
 * JavaScript callers get no compiler: `dtype: 'float16'` once gave float32 and
 * `bidirectional: 'false'` (truthy) a bidirectional layer. Every public dtype
 * and boolean option is checked eagerly (src/tensor/options.ts) and a wrong one
 * is a ConfigError naming the option and the value.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Variable } from '../../src/autograd/index.js';
import { Bptt } from '../../src/bptt/index.js';
import { encodeTorchSafetensors, exportOnnx, kerasToTorch, loadTorchStateDict } from '../../src/io/index.js';
import { ctcLoss } from '../../src/losses/index.js';
import {
  Attention, Embedding, GRU, GRUCell, LSTM, LSTMCell, Linear, RNN, RNNCell, cellStepsFor, recurrentLayer,
} from '../../src/nn/index.js';
import { DataParallel } from '../../src/node.js';
import { Adam, AdamW, RMSprop, SGD } from '../../src/optim/index.js';
import { prepareForecast } from '../../src/tasks/forecast/index.js';
import { defaultSpeechFeatures, validateSpeechFeatures } from '../../src/tasks/speech/index.js';
import {
  Seq2Seq, translateTexts, validateSeq2SeqConfig, type Seq2SeqConfig, type Vocabularies,
} from '../../src/tasks/translate/index.js';
import { ConfigError, Tensor, allocate, type DType } from '../../src/tensor/index.js';
import { houseError, rejects, untyped } from '../helpers.js';

const dims = { inputSize: 3, hiddenSize: 4 };
const param = () => new Variable(Tensor.zeros([2]), true);

/** Entry points taking a dtype: each builds with the given one. */
const DTYPE_ENTRIES: Array<[string, (dtype: DType) => unknown]> = [
  ['Tensor.zeros', (d) => Tensor.zeros([2], d)],
  ['Tensor.from', (d) => Tensor.from([1, 2], [2], d)],
  ['Tensor.full', (d) => Tensor.full([2], 1, d)],
  ['Tensor.to', (d) => Tensor.zeros([2]).to(d)],
  ['allocate', (d) => allocate(d, 2)],
  ['Module.to', (d) => new Linear(2, 2).to(d)],
  ['RNN', (d) => new RNN({ ...dims, dtype: d })],
  ['LSTM', (d) => new LSTM({ ...dims, dtype: d })],
  ['GRU', (d) => new GRU({ ...dims, dtype: d })],
  ['RNNCell', (d) => new RNNCell({ ...dims, dtype: d })],
  ['LSTMCell', (d) => new LSTMCell({ ...dims, dtype: d })],
  ['GRUCell', (d) => new GRUCell({ ...dims, dtype: d })],
  ['Linear', (d) => new Linear(2, 2, { dtype: d })],
  ['Embedding', (d) => new Embedding(5, 2, { dtype: d })],
  ['Attention', (d) => new Attention({ kind: 'general', queryDim: 2, keyDim: 3, dtype: d })],
  ['Seq2Seq', (d) => new Seq2Seq(seq2seqConfig(), d)],
  ['encodeTorchSafetensors', (d) => encodeTorchSafetensors(new Linear(2, 2), { dtype: untyped<'float32'>(d) })],
];

/** The message of a bad dtype at `where`; `got` as the message renders it. */
const badDType = (where: string, got: string): RegExp =>
  new RegExp(`^${where}: expected dtype 'float32' or 'float64', got ${got}$`);

describe('a dtype other than float32 or float64 is a ConfigError', () => {
  for (const [where, build] of DTYPE_ENTRIES) {
    test(where, () => {
      for (const bad of ['float16', 'bogus', 'Float32']) {
        rejects(() => build(untyped<DType>(bad)), ConfigError, badDType(where, `'${bad}'`));
      }
      rejects(() => build(untyped<DType>(64)), ConfigError, badDType(where, '64'));
      build('float64'); // the real ones still work
    });
  }

  test('a dtype given as undefined is the default where it is optional', () => {
    assert.equal(new LSTM({ ...dims, dtype: undefined }).dtype, 'float32');
    assert.equal(Tensor.zeros([2], undefined).dtype, 'float32');
  });

  test('Tensor.to and Module.to require one', () => {
    rejects(() => Tensor.zeros([2]).to(untyped<DType>(undefined)), ConfigError, badDType('Tensor\\.to', 'undefined'));
    rejects(() => new Linear(2, 2).to(untyped<DType>(undefined)), ConfigError, badDType('Module\\.to', 'undefined'));
  });
});

function seq2seqConfig(over: Partial<Record<keyof Seq2SeqConfig, unknown>> = {}): Seq2SeqConfig {
  const c: Seq2SeqConfig = {
    cell: 'gru', sourceVocab: 5, targetVocab: 5, embed: 2, hidden: 2, layers: 1, bidirectional: false,
    attention: 'dot', inputFeeding: false, dropout: 0, shareEmbeddings: false, seed: 1,
  };
  return { ...c, ...over } as Seq2SeqConfig;
}

/** A GRU Keras layer (kernel [I, 3H], recurrent_kernel [H, 3H], bias [2, 3H]) for kerasToTorch. */
function kerasGru(): Parameters<typeof kerasToTorch>[0] {
  const [kernel, recurrentKernel, bias] = [Tensor.zeros([3, 6]), Tensor.zeros([2, 6]), Tensor.zeros([2, 6])];
  return [{ forward: { kernel, recurrentKernel, bias } }];
}

/** Engine options around a stand-in model: the flags are checked before it is used. */
const engine = {
  model: { steps: () => 1, unroll: () => ({ state: null, loss: null, terms: 0 }) },
  parameters: [param()],
  optimizer: { step() {} },
};

const logProbs = () => new Variable(Tensor.zeros([2, 1, 3]));
const linearState = () => new Linear(2, 2).stateDict();

/** The message of a bad boolean option `name` at `where`; `got` as the message renders it. */
const badBoolean = (where: string, name: string, got: string): RegExp =>
  new RegExp(`^${where}: expected ${name} true or false, got ${got}$`);

/** [where, the option, a build with the given value] */
type BooleanEntry = [string, string, (v: boolean) => unknown];

/** Entry points taking a boolean option. */
const BOOLEAN_ENTRIES: BooleanEntry[] = [
  ...(['RNN', 'LSTM', 'GRU'] as const).flatMap((kind) => {
    const Layer = { RNN, LSTM, GRU }[kind];
    return (['bias', 'batchFirst', 'bidirectional'] as const).map((name): BooleanEntry =>
      [kind, name, (v) => new Layer({ ...dims, [name]: v })]);
  }),
  ['GRU', 'resetAfter', (v) => new GRU({ ...dims, resetAfter: v })],
  ['RNNCell', 'bias', (v) => new RNNCell({ ...dims, bias: v })],
  ['LSTMCell', 'bias', (v) => new LSTMCell({ ...dims, bias: v })],
  ['GRUCell', 'bias', (v) => new GRUCell({ ...dims, bias: v })],
  ['GRUCell', 'resetAfter', (v) => new GRUCell({ ...dims, resetAfter: v })],
  ['Linear', 'bias', (v) => new Linear(2, 2, { bias: v })],
  ['recurrentLayer', 'reverse', (v) => {
    const g = new GRU(dims);
    const [weightIh, weightHh, biasIh, biasHh] = g.parameters() as [Variable, Variable, Variable, Variable];
    const x = new Variable(Tensor.zeros([2, 1, 3]));
    const cell = cellStepsFor('GRU', 'gru');
    return recurrentLayer(x, null, null, { weightIh, weightHh, biasIh, biasHh }, { cell, reverse: v });
  }],
  ['Module.train', 'on', (v) => new Linear(2, 2).train(v)],
  ['loadStateDict', 'strict', (v) => new Linear(2, 2).loadStateDict(new Linear(2, 2).stateDict(), v)],
  ['SGD', 'nesterov', (v) => new SGD([param()], { lr: 0.1, momentum: 0.9, nesterov: v })],
  ['Adam', 'amsgrad', (v) => new Adam([param()], { amsgrad: v })],
  ['AdamW', 'amsgrad', (v) => new AdamW([param()], { amsgrad: v })],
  ['RMSprop', 'centered', (v) => new RMSprop([param()], { centered: v })],
  ['ctcLoss', 'zeroInfinity', (v) => ctcLoss(logProbs(), [[1]], [2], [1], { zeroInfinity: v })],
  ['Bptt', 'stateful', (v) => new Bptt({ ...engine, stateful: v })],
  ['Bptt', 'nanGuard', (v) => new Bptt({ ...engine, nanGuard: v })],
  ...(['bidirectional', 'inputFeeding', 'shareEmbeddings'] as const).map((name): BooleanEntry =>
    ['Seq2Seq', name, (v) => validateSeq2SeqConfig(seq2seqConfig({ [name]: v }))]),
  ['speech features', 'deltas', (v) => validateSpeechFeatures({ ...defaultSpeechFeatures, deltas: v })],
  ['forecast', 'calendar', (v) => prepareForecast(untyped({ values: [new Float64Array(40)], times: null }),
    { lookback: 2, horizon: 1, season: 1, difference: 'none', calendar: v, split: [0.6, 0.2] }, 'series')],
  ['translateTexts', 'replaceUnknown', (v) => {
    const vocab = untyped<Vocabularies>({ source: { level: 'char' }, target: { level: 'word' } });
    return translateTexts(untyped({}), vocab, [], { replaceUnknown: v });
  }],
  ['exportOnnx', 'state', (v) => exportOnnx({ rnn: new LSTM(dims) }, { state: v })],
  ['loadTorchStateDict', 'strict', (v) => loadTorchStateDict(new Linear(2, 2), linearState(), { strict: v })],
  ['kerasToTorch', 'resetAfter', (v) => kerasToTorch(kerasGru(), { cell: 'gru', resetAfter: v })],
];

describe('a boolean option given as anything but true or false is a ConfigError', () => {
  for (const [where, name, build] of BOOLEAN_ENTRIES) {
    test(`${where} ${name}`, () => {
      for (const [bad, got] of [['false', '"false"'], [1, '1']] as const) {
        rejects(() => build(untyped<boolean>(bad)), ConfigError, badBoolean(where, name, got));
      }
    });
  }

  test("bidirectional: 'false' builds no bidirectional layer, nor batchFirst: 'false' a batch-first one", () => {
    assert.throws(() => new LSTM({ ...dims, bidirectional: untyped<boolean>('false') }), ConfigError);
    assert.throws(() => new GRU({ ...dims, batchFirst: untyped<boolean>('false') }), ConfigError);
    assert.equal(new LSTM({ ...dims, bidirectional: false }).directions, 1);
    assert.equal(new LSTM({ ...dims, bidirectional: true }).directions, 2);
    assert.equal(new GRU({ ...dims, batchFirst: true }).batchFirst, true);
    assert.equal(new Linear(2, 2, { bias: false }).bias, null);
  });

  test('null is not a boolean for a layer (an optimizer reads null as its default, as for its numbers)', () => {
    rejects(() => new RNN({ ...dims, bias: untyped<boolean>(null) }), ConfigError, badBoolean('RNN', 'bias', 'null'));
    assert.equal(new SGD([param()], { lr: 0.1, nesterov: untyped<boolean>(null) }).stateDict().options.nesterov, false);
  });

  test('DataParallel stateful, before any worker starts', async () => {
    const options = { ...engine, module: 'file:///nonexistent.js', workers: 0 };
    await assert.rejects(DataParallel.start({ ...options, stateful: untyped<boolean>('false') }),
      houseError(ConfigError, /^DataParallel: expected stateful true or false, got "false"$/));
  });
});
