/**
 * `bptt export` and `bptt import` spawned as a user runs them, on a tiny
 * language model trained for a few updates in a temporary directory.
 */
import assert from 'node:assert/strict';
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { fileURLToPath } from 'node:url';
import { Variable, noGrad } from '../../src/autograd/index.js';
import { decodeSafetensors, encodeSafetensors, kerasToTorch } from '../../src/io/index.js';
import { loadLanguageModel } from '../../src/tasks/language-model/node/checkpoint.js';
import { LanguageModel } from '../../src/tasks/language-model/model.js';
import { speechCodec } from '../../src/tasks/speech/codec.js';
import { loadRun } from '../../src/training/node/run-files.js';
import { loadExamples, readManifest } from '../../src/tasks/speech/node/corpus.js';
import { makeSpeechBatch } from '../../src/tasks/speech/index.js';
import { Rng, Tensor } from '../../src/tensor/index.js';
import { worstDiff } from '../helpers.js';
import { cliSandbox } from './sandbox.js';

const { tmp, run } = cliSandbox('bptt-interop-cli-');
const TIMEOUT = { timeout: 120_000 };
const TEXT = join(tmp, 'text.txt');
const LM = join(tmp, 'lm');
writeFileSync(TEXT, 'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse. '.repeat(30));

function assertOk(r: SpawnSyncReturns<string>): void {
  assert.equal(r.status, 0, `exit status; stderr: ${r.stderr}`);
}

/** Exit 1, one line `bptt: ...` (or commander's one line), no stack trace. */
function assertOneLineError(r: SpawnSyncReturns<string>, pattern: RegExp): void {
  assert.equal(r.status, 1, `exit status (stdout: ${r.stdout}, stderr: ${r.stderr})`);
  const err = r.stderr.replace(/\n$/, '');
  assert.ok(!err.includes('\n'), `a single line on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(err, /internal error/);
  assert.match(err, pattern);
}

const evalBits = (ckpt: string): number => {
  const r = run('eval', '--checkpoint', ckpt, '--text', TEXT, '--json');
  assertOk(r);
  return (JSON.parse(r.stdout) as { bits: number }).bits;
};

describe('bptt export / import', () => {
  before(() => {
    assertOk(run('train', '--text', TEXT, '--hidden', '12', '--layers', '2', '--embed', '6', '--batch', '4', '--seq-len', '16', '--workers', '0', '--steps', '3', '--out', LM, '--quiet', '--sample', '0'));
  });

  test('export --format torch, then import --from torch: the same model, the same score', TIMEOUT, () => {
    const out = join(tmp, 'lm.safetensors');
    const r = run('export', '--checkpoint', LM, '--format', 'torch', '--out', out);
    assertOk(r);
    assert.match(r.stdout, /^wrote .*lm\.safetensors: 11 tensors under torch\.nn names/);
    const { tensors, metadata } = decodeSafetensors(new Uint8Array(readFileSync(out)));
    const { model } = loadLanguageModel(LM);
    assert.deepEqual([...tensors.keys()], model.namedParameters().map(([n]) => n));
    assert.equal(metadata.format, 'pt');
    assert.deepEqual(JSON.parse(metadata['bptt.model']!), model.config);
    assertOk(run('import', '--from', 'torch', '--weights', out, '--like', LM, '--out', join(tmp, 'back')));
    assert.equal(evalBits(join(tmp, 'back')), evalBits(LM));
  });

  test('export --format onnx runs in onnxruntime and gives the logits of the checkpoint (1e-4)', TIMEOUT, async () => {
    const out = join(tmp, 'lm.onnx');
    const r = run('export', '--checkpoint', LM, '--format', 'onnx', '--out', out);
    assertOk(r);
    assert.match(r.stdout, /tokens \[T, B\] int64, h0, c0 \[2, B, 12\] → logits \[T, B, \d+\], hn, cn/);
    const { model } = loadLanguageModel(LM);
    const T = 9, B = 2, ids = Array.from({ length: T * B }, (_, i) => (i * 7) % model.config.vocab);
    const want = noGrad(() => model.eval().head.forward(model.rnn.forward(model.embedding.forward(ids, [T, B])).output).value);
    const session = await ort.InferenceSession.create(readFileSync(out));
    const zeros = new ort.Tensor('float32', new Float32Array(2 * B * 12), [2, B, 12]);
    const got = await session.run({ tokens: new ort.Tensor('int64', BigInt64Array.from(ids.map(BigInt)), [T, B]), h0: zeros, c0: zeros });
    await session.release();
    assert.ok(worstDiff(got.logits!.data as Float32Array, want.data).err < 1e-4);
  });

  test('export --format onnx of a speech checkpoint: stacked features in, the logits of the biGRU and its head out (1e-4)', TIMEOUT, async () => {
    const sample = fileURLToPath(new URL('../../../test/fixtures/speech-sample/', import.meta.url));
    const dir = join(tmp, 'speech');
    assertOk(run('train', 'speech', '--data', sample, '--hidden', '8', '--layers', '2', '--dropout', '0', '--steps', '2', '--batch', '9', '--out', dir, '--quiet'));
    const out = join(tmp, 'speech.onnx');
    const r = run('export', '--checkpoint', dir, '--format', 'onnx', '--out', out);
    assertOk(r);
    assert.match(r.stdout, /input \[T, B, \d+\] \(stacked features\), h0 \[4, B, 8\] → logits \[T, B, 11\] \(blank, digits 0-9\), hn/);
    const { model, meta } = loadRun(dir, speechCodec);
    const [utterance] = loadExamples(readManifest(sample, 'train')!.slice(0, 1), meta.model.features).map((e) => e.input);
    const b = makeSpeechBatch([utterance!], null);
    const x = new Variable(Tensor.from(b.inputs, [b.steps, 1, b.dim]), false);
    const want = noGrad(() => model.eval().head.forward(model.rnn.forward(x).output).value);
    const session = await ort.InferenceSession.create(readFileSync(out));
    const got = await session.run({ input: new ort.Tensor('float32', b.inputs, [b.steps, 1, b.dim]), h0: new ort.Tensor('float32', new Float32Array(4 * 8), [4, 1, 8]) });
    await session.release();
    assert.deepEqual(got.logits!.dims, [b.steps, 1, 11]);
    assert.ok(worstDiff(got.logits!.data as Float32Array, want.data).err < 1e-4);
    assertOk(run('train', 'forecast', '--dataset', 'co2', '--steps', '2', '--hidden', '4', '--out', join(tmp, 'fc'), '--quiet'));
    assertOneLineError(run('export', '--checkpoint', join(tmp, 'fc'), '--format', 'onnx', '--out', join(tmp, 'fc.onnx')), /a language-model or speech checkpoint for --format onnx, got task 'forecast'/);
    assert.ok(!existsSync(join(tmp, 'fc.onnx')));
  });

  test('import --from keras writes torch.nn-named weights and says which module takes them', TIMEOUT, () => {
    const rng = new Rng(3);
    const r = (shape: number[]) => Tensor.from(Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.range(-1, 1)), shape);
    const keras = new Map([['gru/gru_cell/kernel:0', r([5, 12])], ['gru/gru_cell/recurrent_kernel:0', r([4, 12])], ['gru/gru_cell/bias:0', r([2, 12])]]);
    const file = join(tmp, 'keras.safetensors');
    writeFileSync(file, encodeSafetensors(keras));
    const out = join(tmp, 'from-keras.safetensors');
    const res = run('import', '--from', 'keras', '--weights', file, '--cell', 'gru', '--out', out);
    assertOk(res);
    assert.match(res.stdout, /4 tensors for new GRU\(\{ inputSize: 5, hiddenSize: 4, numLayers: 1, bidirectional: false, bias: true, resetAfter: true \}\)/);
    const written = decodeSafetensors(new Uint8Array(readFileSync(out))).tensors;
    const want = kerasToTorch([{ forward: { kernel: keras.get('gru/gru_cell/kernel:0')!, recurrentKernel: keras.get('gru/gru_cell/recurrent_kernel:0')!, bias: keras.get('gru/gru_cell/bias:0')! } }], { cell: 'gru' }).tensors;
    for (const [n, t] of want) assert.deepEqual([...written.get(n)!.data], [...t.data], n);
  });

  test('import --from keras reads Keras .h5 files (Keras 2 and 3) as their safetensors twins; a bad .h5 is one error line', TIMEOUT, () => {
    const fixture = (name: string): string => fileURLToPath(new URL(`../../../test/fixtures/keras-h5/${name}`, import.meta.url));
    for (const [h5, twin, cell] of [['gru2.h5', 'gru2.safetensors', 'gru'], ['bilstm.weights.h5', 'bilstm.safetensors', 'lstm']] as const) {
      const [fromH5, fromTwin] = [join(tmp, `h5-${cell}.safetensors`), join(tmp, `twin-${cell}.safetensors`)];
      const r = run('import', '--from', 'keras', '--weights', fixture(h5), '--cell', cell, '--out', fromH5);
      assertOk(r);
      assertOk(run('import', '--from', 'keras', '--weights', fixture(twin), '--cell', cell, '--out', fromTwin));
      assert.ok(readFileSync(fromH5).equals(readFileSync(fromTwin)), `${h5}: the same file as from ${twin}`);
    }
    const truncated = join(tmp, 'truncated.h5');
    writeFileSync(truncated, readFileSync(fixture('lstm.h5')).subarray(0, 3000));
    const notHdf5 = join(tmp, 'text.h5');
    writeFileSync(notHdf5, readFileSync(TEXT));
    const out = join(tmp, 'bad-h5.safetensors');
    assertOneLineError(run('import', '--from', 'keras', '--weights', truncated, '--cell', 'lstm', '--out', out), /^bptt: --weights .*truncated\.h5: expected 12464 bytes \(where its superblock says the file ends\), got 3000 bytes \(a truncated file\)/);
    assertOneLineError(run('import', '--from', 'keras', '--weights', notHdf5, '--cell', 'lstm', '--out', out), /^bptt: --weights .*text\.h5: expected a header length.*read as safetensors: it is not HDF5/);
    assertOneLineError(run('import', '--from', 'keras', '--weights', fixture('dense.weights.h5'), '--cell', 'lstm', '--out', out), /^bptt: --weights .*dense\.weights\.h5: expected the weights of a recurrent layer/);
    assert.ok(!existsSync(out), 'nothing written');
  });

  describe('bad input: one line, exit 1, nothing written', () => {
    const nothingNew = (fn: () => void): void => {
      const before = readdirSync(tmp).sort();
      fn();
      assert.deepEqual(readdirSync(tmp).sort(), before, 'no file or directory was created');
    };

    test('export: no such checkpoint, an unknown format, --out a directory, a corrupt weights file', TIMEOUT, () => nothingNew(() => {
      assertOneLineError(run('export', '--checkpoint', join(tmp, 'nope'), '--format', 'onnx', '--out', join(tmp, 'x.onnx')), /^bptt: checkpoint '.*nope': expected an existing file or directory/);
      assertOneLineError(run('export', '--checkpoint', LM, '--format', 'tflite', '--out', join(tmp, 'x.onnx')), /argument 'tflite' is invalid/);
      assertOneLineError(run('export', '--checkpoint', LM, '--format', 'onnx', '--out', tmp), /^bptt: --out .*: expected a file name, got a directory/);
    }));

    test('import --from torch: weights of another model (all shape mismatches listed), a DDP prefix, not safetensors', TIMEOUT, () => {
      const other = new LanguageModel({ ...loadLanguageModel(LM).model.config, hidden: 8 });
      const wrong = join(tmp, 'wrong.safetensors');
      writeFileSync(wrong, encodeSafetensors(other.stateDict()));
      const ddp = join(tmp, 'ddp.safetensors');
      writeFileSync(ddp, encodeSafetensors(new Map([...loadLanguageModel(LM).model.stateDict()].map(([n, t]) => [`module.${n}`, t]))));
      nothingNew(() => {
        const r = run('import', '--from', 'torch', '--weights', wrong, '--like', LM, '--out', join(tmp, 'imported'));
        assertOneLineError(r, /^bptt: --weights .*wrong\.safetensors: expected exactly the module's parameter names and shapes, got shape mismatch \[rnn\.weight_ih_l0: expected \[48, 6\], got \[32, 6\]/);
        assertOneLineError(run('import', '--from', 'torch', '--weights', ddp, '--like', LM, '--out', join(tmp, 'imported')), /add --strip-prefix module\./);
        const notSafetensors = /^bptt: --weights .*text\.txt: expected a header length.*\(not a safetensors file\)/;
        assertOneLineError(run('import', '--from', 'torch', '--weights', TEXT, '--like', LM,
          '--out', join(tmp, 'imported')), notSafetensors);
        assertOneLineError(run('import', '--from', 'torch', '--weights', wrong, '--out', join(tmp, 'imported')), /--like <checkpoint>/);
        assertOneLineError(run('import', '--from', 'torch', '--weights', wrong, '--like', LM, '--cell', 'gru', '--out', join(tmp, 'imported')), /no --cell/);
        assertOneLineError(run('import', '--from', 'torch', '--weights', wrong, '--like', LM, '--out', LM), /expected a directory without a checkpoint/);
      });
      assertOk(run('import', '--from', 'torch', '--weights', ddp, '--like', LM, '--strip-prefix', 'module.', '--out', join(tmp, 'imported')));
      assert.ok(existsSync(join(tmp, 'imported', 'last.json')));
    });

    test('import --from keras: no --cell, weights of another cell, names that are not Keras variables', TIMEOUT, () => {
      const keras = join(tmp, 'keras-gru.safetensors');
      const t = (shape: number[]) => Tensor.zeros(shape);
      writeFileSync(keras, encodeSafetensors(new Map([['gru/kernel', t([5, 12])], ['gru/recurrent_kernel', t([4, 12])], ['gru/bias', t([2, 12])]])));
      const torchNames = join(tmp, 'torch-names.safetensors');
      writeFileSync(torchNames, encodeSafetensors(loadLanguageModel(LM).model.stateDict()));
      nothingNew(() => {
        assertOneLineError(run('import', '--from', 'keras', '--weights', keras, '--out', join(tmp, 'k.safetensors')), /--cell lstm, gru or rnn/);
        assertOneLineError(run('import', '--from', 'keras', '--weights', keras, '--cell', 'lstm', '--out', join(tmp, 'k.safetensors')), /^bptt: --weights .*: kerasToTorch: layer 0 recurrent_kernel: expected shape \[3, 12\], got \[4, 12\]/);
        assertOneLineError(run('import', '--from', 'keras', '--weights', torchNames, '--cell', 'lstm', '--out', join(tmp, 'k.safetensors')), /expected a name ending in \/kernel/);
      });
    });
  });
});
