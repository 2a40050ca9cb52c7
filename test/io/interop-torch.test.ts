/**
 * PyTorch state dicts in both directions, from fixtures written by
 * tools/make_interop_fixtures.py: torch's weights load into bptt and give
 * torch's outputs; bptt's export (byte for byte what the test produces) was
 * loaded by torch with strict=True and gave the outputs bptt computes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Variable, noGrad } from '../../src/autograd/index.js';
import {
  StateDictError, decodeSafetensors, encodeSafetensors, encodeTorchSafetensors, loadTorchSafetensors, loadTorchStateDict, torchStateDict,
} from '../../src/io/index.js';
import { Embedding, GRU, LSTM, Linear, Module, RNN, type Recurrent } from '../../src/nn/index.js';
import { LanguageModel } from '../../src/tasks/language-model/model.js';
import { DataError, Rng, Tensor, type DType } from '../../src/tensor/index.js';
import { worstDiff } from '../helpers.js';

interface Config {
  name: string;
  cell: 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu';
  vocab?: number;
  input: number;
  hidden: number;
  layers: number;
  bidirectional: boolean;
  head: number;
  seed: number;
}

const DIR = new URL('../../../test/fixtures/interop/', import.meta.url);
const bytesOf = (file: string): Uint8Array => new Uint8Array(readFileSync(new URL(file, DIR)));
const tensorsOf = (file: string): Map<string, Tensor> => decodeSafetensors(bytesOf(file), file).tensors;
const { configs, T, B } = JSON.parse(readFileSync(new URL('configs.json', DIR), 'utf8')) as { configs: Config[]; T: number; B: number };

/** The python script's Net: [Embedding →] recurrent → Linear, seeded as its node half builds it. */
class Net extends Module {
  readonly embedding: Embedding | null = null;
  readonly rnn: Recurrent;
  readonly head: Linear;

  constructor(c: Config, dtype: DType = 'float32') {
    super();
    const rng = new Rng(c.seed);
    if (c.vocab) this.embedding = this.addModule('embedding', new Embedding(c.vocab, c.input, { rng: rng.split(), dtype }));
    const o = { inputSize: c.input, hiddenSize: c.hidden, numLayers: c.layers, bidirectional: c.bidirectional, rng: rng.split(), dtype };
    this.rnn = this.addModule('rnn', c.cell === 'lstm' ? new LSTM(o) : c.cell === 'gru' ? new GRU(o) : new RNN({ ...o, nonlinearity: c.cell === 'rnn_relu' ? 'relu' : 'tanh' }));
    this.head = this.addModule('head', new Linear(c.hidden * (c.bidirectional ? 2 : 1), c.head, { rng: rng.split(), dtype }));
  }

  run(io: Map<string, Tensor>): Record<string, Tensor> {
    return noGrad(() => {
      const dtype = this.dtype;
      const x = io.get('x')!;
      const input = this.embedding ? this.embedding.forward(Array.from(x.data), [T, B]) : new Variable(x.to(dtype));
      const state = { h: new Variable(io.get('h0')!.to(dtype)), ...(io.has('c0') ? { c: new Variable(io.get('c0')!.to(dtype)) } : {}) };
      const { output, state: s } = this.rnn.forward(input, state);
      const out: Record<string, Tensor> = { output: output.value, logits: this.head.forward(output).value, h_n: s.h.value };
      if ('c' in s) out.c_n = (s as { c: Variable }).c.value;
      return out;
    });
  }
}

function assertClose(got: Record<string, Tensor>, want: Map<string, Tensor>, tol: number, what: string): void {
  for (const key of ['output', 'h_n', 'c_n', 'logits']) {
    const w = want.get(key);
    if (!w) continue;
    assert.ok(got[key], `${what}: ${key}`);
    assert.deepEqual(got[key]!.shape, w.shape, `${what}: ${key} shape`);
    const d = worstDiff(got[key]!.data, w.data);
    assert.ok(d.err <= tol, `${what}: ${key} differs by ${d.err} at ${d.at}`);
  }
}

describe('PyTorch state dicts: torch → bptt', () => {
  for (const c of configs) {
    test(`${c.name}: torch's safetensors load strictly and give torch's outputs (float64 and float32)`, () => {
      const io = tensorsOf(`io_${c.name}.safetensors`);
      for (const [dtype, tol] of [['float64', 1e-12], ['float32', 2e-6]] as const) {
        const net = new Net({ ...c, seed: c.seed + 1 }, dtype); // other weights, all replaced
        const report = loadTorchSafetensors(net, bytesOf(`torch_${c.name}.safetensors`));
        assert.deepEqual(report.missing, []);
        assert.deepEqual(report.unexpected, []);
        assert.equal(net.dtype, dtype);
        assertClose(net.run(io), io, tol, `${c.name} ${dtype}`);
      }
    });
  }

  test("a sub-module by prefix: 'rnn.' of a whole model's state dict into a standalone layer", () => {
    const c = configs.find((k) => k.name === 'lstm_bi2')!;
    const net = new Net(c, 'float64');
    const lstm = new LSTM({ inputSize: c.input, hiddenSize: c.hidden, numLayers: c.layers, bidirectional: true, dtype: 'float64' });
    const torch = tensorsOf(`torch_${c.name}.safetensors`);
    loadTorchStateDict(net, torch);
    const report = loadTorchStateDict(lstm, torch, { prefix: 'rnn.' });
    assert.equal(report.loaded.length, 16);
    for (const [n, p] of lstm.namedParameters()) assert.deepEqual([...p.value.data], [...net.rnn.namedParameters().find(([m]) => m === n)![1].value.data]);
  });

  test("the language model of `bptt train` loads a torch LanguageModel's state dict", () => {
    const c = configs.find((k) => k.name === 'lm_lstm')!;
    const lm = new LanguageModel({ cell: 'lstm', vocab: c.vocab!, embed: c.input, hidden: c.hidden, layers: c.layers, dropout: 0, seed: 5 }).to('float64').eval();
    loadTorchSafetensors(lm, bytesOf(`torch_${c.name}.safetensors`));
    const io = tensorsOf(`io_${c.name}.safetensors`);
    const got = noGrad(() => {
      const x = lm.embedding.forward(Array.from(io.get('x')!.data), [T, B]);
      const { output } = lm.rnn.forward(x, { h: new Variable(io.get('h0')!.to('float64')), c: new Variable(io.get('c0')!.to('float64')) } as never);
      return lm.head.forward(output).value;
    });
    assert.ok(worstDiff(got.data, io.get('logits')!.data).err < 1e-12);
  });
});

describe('PyTorch state dicts: bptt → torch', () => {
  for (const c of configs) {
    test(`${c.name}: our export is the committed file torch loaded with strict=True, and torch computed our outputs`, () => {
      const net = new Net(c);
      const bytes = encodeTorchSafetensors(net);
      assert.deepEqual(bytes, bytesOf(`ours_${c.name}.safetensors`), 'the export is deterministic and what the fixture script gave torch');
      const { tensors, metadata } = decodeSafetensors(bytes);
      assert.equal(metadata.format, 'pt');
      assert.deepEqual([...tensors.keys()], [...torchStateDict(net).keys()]);
      const io = tensorsOf(`io_${c.name}.safetensors`);
      assertClose(net.to('float64').run(io), tensorsOf(`ours_${c.name}.torch.safetensors`), 1e-12, c.name);
    });
  }
});

describe('PyTorch state dicts: strict checks', () => {
  const c = configs.find((k) => k.name === 'gru_bi2')!;
  const torch = (): Map<string, Tensor> => tensorsOf(`torch_${c.name}.safetensors`);

  test('missing, unexpected and mis-shaped names are all listed in one typed error, and nothing is loaded', () => {
    const net = new Net(c);
    const before = encodeTorchSafetensors(net);
    const state = torch();
    state.delete('rnn.bias_hh_l1_reverse');
    state.delete('head.bias');
    state.set('rnn.weight_ih_l2', Tensor.zeros([12, 8]));
    state.set('head.weight', Tensor.zeros([2, 4]));
    state.set('rnn.weight_hh_l0', Tensor.zeros([4, 12]));
    let err: unknown;
    try {
      loadTorchStateDict(net, state);
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof StateDictError && err instanceof DataError, String(err));
    assert.deepEqual([...err.missing], ['rnn.bias_hh_l1_reverse', 'head.bias']);
    assert.deepEqual([...err.unexpected], ['rnn.weight_ih_l2']);
    assert.deepEqual(err.mismatched, [
      { name: 'rnn.weight_hh_l0', expected: [12, 4], got: [4, 12] },
      { name: 'head.weight', expected: [2, 8], got: [2, 4] },
    ]);
    assert.match(err.message, /missing \[rnn\.bias_hh_l1_reverse, head\.bias\]; unexpected \[rnn\.weight_ih_l2\]; shape mismatch \[rnn\.weight_hh_l0: expected \[12, 4\], got \[4, 12\]/);
    assert.deepEqual(encodeTorchSafetensors(net), before, 'the module is unchanged');
  });

  test('strict: false loads what matches and reports the rest; shapes are still checked', () => {
    const net = new Net(c);
    const state = torch();
    state.delete('head.bias');
    state.set('extra', Tensor.zeros([1]));
    const r = loadTorchStateDict(net, state, { strict: false });
    assert.deepEqual(r.missing, ['head.bias']);
    assert.deepEqual(r.unexpected, ['extra']);
    assert.deepEqual([...net.head.weight.value.data], [...state.get('head.weight')!.data]);
    state.set('head.weight', Tensor.zeros([1, 1]));
    assert.throws(() => loadTorchStateDict(net, state, { strict: false }), StateDictError);
  });

  test('a state dict of another cell (LSTM weights into a GRU) fails on shapes; NaN weights are refused', () => {
    const gru = new Net({ ...configs.find((k) => k.name === 'lstm_bi2')!, cell: 'gru' });
    assert.throws(() => loadTorchSafetensors(gru, bytesOf('torch_lstm_bi2.safetensors')), (e: unknown) => e instanceof StateDictError && e.mismatched.length === 16 && e.missing.length === 0);
    const state = torch();
    state.get('head.bias')!.data[0] = NaN;
    assert.throws(() => loadTorchStateDict(new Net(c), state), /finite values in 'head\.bias'/);
  });

  test('float64 and float16-free torch files load into float32 modules (values rounded once)', () => {
    const net = new Net(c);
    const state = new Map([...torch()].map(([n, t]) => [n, t.to('float64')] as const));
    loadTorchSafetensors(net, encodeSafetensors(state));
    assert.equal(net.dtype, 'float32');
    assert.deepEqual([...net.head.bias!.value.data], [...torch().get('head.bias')!.data]);
  });
});
