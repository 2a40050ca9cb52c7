/**
 * Keras .h5 weight files (fixtures of tools/make_keras_h5_fixtures.py, in the
 * layouts Keras 2 and Keras 3 write): each reads to the same torch tensors as
 * its safetensors twin under Keras names, which the importer read before.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { decodeSafetensors, groupKerasWeights, kerasToTorch, type KerasCell } from '../../src/io/index.js';
import { isHdf5, readKerasH5 } from '../../src/io/interop/keras-h5.js';
import { DataError } from '../../src/tensor/index.js';
import { H5Data, kerasSimpleRnn, type ChunkEntry } from './hdf5-bytes.js';

const DIR = new URL('../../../test/fixtures/keras-h5/', import.meta.url);
const bytesOf = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(name, DIR)));

interface Fixture { h5: string; twin: string; cell: KerasCell; layout: string; names: string[] }
const FIXTURES: Fixture[] = [
  {
    h5: 'lstm.h5', twin: 'lstm.safetensors', cell: 'lstm', layout: 'Keras 2 save_weights',
    names: ['lstm/lstm_cell/kernel:0', 'lstm/lstm_cell/recurrent_kernel:0', 'lstm/lstm_cell/bias:0'],
  },
  {
    h5: 'gru2.h5', twin: 'gru2.safetensors', cell: 'gru', layout: 'Keras 2 model.save (model_weights), float64, a Dense skipped',
    names: ['gru/gru_cell/kernel:0', 'gru/gru_cell/recurrent_kernel:0', 'gru/gru_cell/bias:0', 'gru_1/gru_cell_1/kernel:0', 'gru_1/gru_cell_1/recurrent_kernel:0', 'gru_1/gru_cell_1/bias:0'],
  },
  {
    h5: 'bilstm.weights.h5', twin: 'bilstm.safetensors', cell: 'lstm', layout: 'Keras 3 .weights.h5, Bidirectional, a Dense and the optimizer skipped',
    names: ['backward', 'forward'].flatMap((side) => ['kernel', 'recurrent_kernel', 'bias'].map((v) => `bidirectional/${side}_layer/cell/${v}`)),
  },
  {
    h5: 'simple_rnn.weights.h5', twin: 'simple_rnn.safetensors', cell: 'rnn', layout: 'Keras 3 .weights.h5, two SimpleRNNs',
    names: ['simple_rnn', 'simple_rnn_1'].flatMap((l) => ['kernel', 'recurrent_kernel', 'bias'].map((v) => `${l}/cell/${v}`)),
  },
];

describe('Keras .h5 → torch names, the same as from safetensors under Keras names', () => {
  for (const f of FIXTURES) {
    test(`${f.h5} (${f.layout})`, () => {
      const bytes = bytesOf(f.h5);
      assert.ok(isHdf5(bytes));
      const named = readKerasH5(bytes, f.h5);
      assert.deepEqual([...named.keys()].sort(), [...f.names].sort());
      const fromH5 = kerasToTorch(groupKerasWeights(named), { cell: f.cell });
      const fromTwin = kerasToTorch(groupKerasWeights(decodeSafetensors(bytesOf(f.twin)).tensors), { cell: f.cell });
      assert.deepEqual(fromH5.module, fromTwin.module);
      assert.deepEqual([...fromH5.tensors.keys()], [...fromTwin.tensors.keys()]);
      for (const [n, want] of fromTwin.tensors) {
        const got = fromH5.tensors.get(n)!;
        assert.equal(got.dtype, want.dtype, n);
        assert.deepEqual(got.shape, want.shape, n);
        assert.deepEqual(got.data, want.data, n);
      }
    });
  }

  test('the modules are those the fixtures describe', () => {
    const gru = kerasToTorch(groupKerasWeights(readKerasH5(bytesOf('gru2.h5'), 'gru2.h5')), { cell: 'gru' }).module;
    assert.deepEqual(gru, { kind: 'GRU', inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: false, bias: true, resetAfter: true });
    const bi = kerasToTorch(groupKerasWeights(readKerasH5(bytesOf('bilstm.weights.h5'), 'b.h5')), { cell: 'lstm' }).module;
    assert.deepEqual(bi, { kind: 'LSTM', inputSize: 3, hiddenSize: 4, numLayers: 1, bidirectional: true, bias: true });
  });
});

describe('Keras .h5: what is refused, with a DataError that says where', () => {
  test('not HDF5, truncated, no recurrent layer, float16', () => {
    const lstm = bytesOf('lstm.h5');
    assert.throws(() => readKerasH5(bytesOf('lstm.safetensors'), 'a.h5'), (e: unknown) => e instanceof DataError && /^a\.h5: expected an HDF5 file/.test(e.message));
    assert.throws(() => readKerasH5(new Uint8Array(0), 'a.h5'), DataError);
    for (const cut of [8, 100, 1000, lstm.length / 2, lstm.length - 1]) {
      assert.throws(() => readKerasH5(lstm.subarray(0, cut), 't.h5'), (e: unknown) => e instanceof DataError && /^t\.h5: /.test(e.message) && !e.message.includes('\n'), `cut at ${cut}`);
    }
    assert.throws(() => readKerasH5(bytesOf('dense.weights.h5'), 'd.h5'), /^DataError: d\.h5: expected the weights of a recurrent layer \(LSTM, GRU or SimpleRNN\), got none in the file/);
    assert.throws(() => readKerasH5(bytesOf('float16.weights.h5'), 'f.h5'), /f\.h5: \/layers\/simple_rnn\/cell\/vars\/0: expected a float32 or float64 dataset, got dtype "<f2"/);
  });

  test('a count that would keep jsfive reading for hours stops at the read budget, and the patched globals are put back', () => {
    const bytes = bytesOf('gru2.h5').slice();
    new DataView(bytes.buffer).setUint32(7576, 0xffffffff, true); // the element count of gru's weight_names: 2³² − 1 strings, read past the end as empty ones
    const [getUint8, slice, warn] = [DataView.prototype.getUint8, ArrayBuffer.prototype.slice, console.warn];
    const start = performance.now();
    assert.throws(() => readKerasH5(bytes, 'g.h5'), /^DataError: g\.h5: expected an HDF5 file jsfive reads in a bounded number of steps/);
    assert.ok(performance.now() - start < 5000, 'within seconds');
    assert.deepEqual([DataView.prototype.getUint8, ArrayBuffer.prototype.slice, console.warn], [getUint8, slice, warn]);
  });

  test('a file inside a larger buffer (a subarray) reads the same', () => {
    const bytes = bytesOf('simple_rnn.weights.h5');
    const big = new Uint8Array(bytes.length + 13);
    big.set(bytes, 7);
    const a = readKerasH5(bytes, 'a'), b = readKerasH5(big.subarray(7, 7 + bytes.length), 'b');
    for (const [n, t] of a) assert.deepEqual(b.get(n)!.data, t.data);
  });
});

describe('Keras .h5 stored in gzip chunks (files built by test/io/hdf5-bytes.ts)', () => {
  const KERNEL = Float32Array.from({ length: 12 }, (_, i) => i - 5.5);
  const deflated = (x: Float32Array | number): Uint8Array => deflateSync(typeof x === 'number' ? new Uint8Array(x) : x);
  const chunked = (shape: number[], chunk: number[], entries: ChunkEntry[]): Uint8Array =>
    kerasSimpleRnn(new H5Data(shape, { chunk, deflate: true, entries }));
  const refused = (bytes: Uint8Array, message: RegExp): void => {
    assert.throws(() => readKerasH5(bytes, 'z.h5'), (e: unknown) => e instanceof DataError && message.test(e.message));
  };

  test('a kernel in two gzip chunks (the second past the last row) reads as stored', () => {
    const twoRows = (row: number): Uint8Array =>
      deflated(Float32Array.from({ length: 8 }, (_, i) => KERNEL[row * 4 + i] ?? 99));
    const entries = [0, 2].map((row) => ({ offset: [row, 0], stored: twoRows(row) }));
    const named = readKerasH5(chunked([3, 4], [2, 4], entries), 'z.h5');
    assert.deepEqual(named.get('simple_rnn/cell/kernel')!.data, KERNEL);
    assert.deepEqual(named.get('simple_rnn/cell/bias')!.data, Float32Array.of(3, 3.125, 3.25, 3.375));
  });

  test('a chunk that inflates 1000× past its size is refused as it inflates (jsfive inflated all of it)', () => {
    refused(chunked([3, 4], [3, 4], [{ offset: [0, 0], stored: deflated(48_000) }]),
      new RegExp('^z\\.h5: /layers/simple_rnn/cell/vars/0: '
        + 'expected chunks that inflate to at most 48 bytes \\(the chunk size\\), got one that inflates further$'));
  });

  test('one chunk listed 1000 times past the data, each within its size, '
    + 'stops at the read budget (of inflated bytes)', () => {
    const zeros = deflated(64 * 64 * 4); // 16 KiB from a few dozen bytes
    const past = Array.from({ length: 1000 }, () => ({ offset: [64, 0], stored: zeros }));
    refused(chunked([64, 64], [64, 64], [{ offset: [0, 0], stored: zeros }, ...past]),
      /^z\.h5: expected an HDF5 file jsfive reads in a bounded number of steps/);
  });

  test('chunks larger than the dataset, of another rank or of size 0 are refused; '
    + 'so is a chunk missing from the file', () => {
    const whole = (chunk: number[]): ChunkEntry[] =>
      [{ offset: [0, 0], stored: deflated(4 * chunk.reduce((a, b) => a * b, 1)) }];
    const badChunks = /vars\/0: expected chunks of 2 sizes of at least 1, at most 12 elements in all, got chunks \[/;
    for (const chunk of [[4, 4], [12], [0, 4]]) refused(chunked([3, 4], chunk, whole(chunk)), badChunks);
    // Was NaN weights.
    refused(chunked([3, 4], [3, 4], []), /vars\/0: expected 12 stored numbers, got a dataset without them/);
  });
});
