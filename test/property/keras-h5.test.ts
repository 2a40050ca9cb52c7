/**
 * Property tests of the Keras .h5 reader: the fixtures (Keras 2 and Keras 3
 * layouts, and a file with gzip chunks built by test/io/hdf5-bytes.ts),
 * truncated, bit-flipped, spliced or with a 32-bit field overwritten, give a
 * value or a BpttError, never another exception, never a hang (jsfive, which
 * parses the HDF5, runs within a read budget).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
// @ts-expect-error jsfive ships no type declarations
import * as jsfive from 'jsfive';
import { HDF5_SIGNATURE, readKerasH5 } from '../../src/io/interop/keras-h5.js';
import { Tensor, sizeOf } from '../../src/tensor/index.js';
import { H5Data, kerasSimpleRnn } from '../io/hdf5-bytes.js';
import { applyDamage, bytesWithPrefix, damage, valueOrBpttError } from './arbitraries.js';

const { Filters } = jsfive as { Filters: Map<number, unknown> };

/** A SimpleRNN whose kernel is in two gzip chunks, so that damage reaches the bounded inflater too. */
const gzipped = kerasSimpleRnn(new H5Data([3, 4], { chunk: [2, 4], deflate: true, entries: [0, 2].map((row) => ({
  offset: [row, 0], stored: deflateSync(new Uint8Array(Float32Array.from({ length: 8 }, (_, i) => row + i / 8).buffer)),
})) }));
const FIXTURES: Uint8Array[] = [...['lstm.h5', 'gru2.h5', 'bilstm.weights.h5', 'simple_rnn.weights.h5']
  .map((n) => new Uint8Array(readFileSync(new URL(`../../../test/fixtures/keras-h5/${n}`, import.meta.url)))), gzipped];

/** What a read file must be: named tensors whose data fill their shapes, and the reader's console hooks put back. */
function wellFormed(named: Map<string, Tensor>): void {
  for (const [n, t] of named) {
    assert.match(n, /\/(kernel|recurrent_kernel|bias)(:\d+)?$/);
    assert.ok(t instanceof Tensor);
    assert.equal(t.data.length, sizeOf(t.shape));
  }
}

/**
 * The reader patches DataView, ArrayBuffer and jsfive's gzip filter while
 * jsfive runs; they must be themselves afterwards.
 */
const pristine = {
  getUint32: DataView.prototype.getUint32, slice: ArrayBuffer.prototype.slice, warn: console.warn, gzip: Filters.get(1),
};
function restored(): void {
  assert.equal(DataView.prototype.getUint32, pristine.getUint32);
  assert.equal(ArrayBuffer.prototype.slice, pristine.slice);
  assert.equal(console.warn, pristine.warn);
  assert.equal(Filters.get(1), pristine.gzip);
}

describe('Keras .h5 properties', () => {
  test('a damaged fixture reads to well-formed tensors or throws a BpttError', () => {
    fc.assert(fc.property(fc.nat({ max: FIXTURES.length - 1 }), damage, (k, d) => {
      valueOrBpttError(() => readKerasH5(applyDamage(FIXTURES[k]!, d), 'x.h5'), wellFormed);
      restored();
    }), { numRuns: 300 });
  });

  test('several damages at once (two to four), the same', () => {
    fc.assert(fc.property(fc.nat({ max: FIXTURES.length - 1 }), fc.array(damage, { minLength: 2, maxLength: 4 }), (k, ds) => {
      valueOrBpttError(() => readKerasH5(ds.reduce(applyDamage, FIXTURES[k]!), 'x.h5'), wellFormed);
      restored();
    }), { numRuns: 150 });
  });

  test('arbitrary bytes, with or without the HDF5 signature, give a value or a BpttError', () => {
    fc.assert(fc.property(bytesWithPrefix(HDF5_SIGNATURE, FIXTURES[0]!.subarray(0, 96)), (bytes) => {
      valueOrBpttError(() => readKerasH5(bytes, 'x.h5'), wellFormed);
      restored();
    }), { numRuns: 150 });
  });
});
