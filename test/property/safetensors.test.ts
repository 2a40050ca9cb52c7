/** Property tests of the safetensors reader: round trips, and damaged or invented files give a value or a DataError. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SAFETENSORS_DTYPES, decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { Tensor, sizeOf } from '../../src/tensor/index.js';
import { RUNS, applyDamage, damage, valueOrBpttError } from './arbitraries.js';

const name = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((s) => s !== '__metadata__');
const shape = fc.array(fc.nat({ max: 4 }), { maxLength: 3 });
const tensor = fc.tuple(shape, fc.boolean()).chain(([s, f64]) =>
  (f64 ? fc.float64Array({ minLength: sizeOf(s), maxLength: sizeOf(s) }) : fc.float32Array({ minLength: sizeOf(s), maxLength: sizeOf(s) }))
    .map((data) => new Tensor(s, data)));
const tensors = fc.uniqueArray(fc.tuple(name, tensor), { selector: ([n]) => n, maxLength: 5 }).map((e) => new Map(e));
const metadata = fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 8 }), { maxKeys: 3 });

/** What a decoded file must be: tensors that tile the data, of the dtypes and shapes the header gives. */
function wellFormed(content: ReturnType<typeof decodeSafetensors>): void {
  for (const [n, t] of content.tensors) {
    assert.equal(typeof n, 'string');
    assert.ok(t instanceof Tensor);
    assert.equal(t.data.length, sizeOf(t.shape));
  }
  for (const v of Object.values(content.metadata)) assert.equal(typeof v, 'string');
}

/** A header entry with each field sometimes wrong. */
const entry = fc.record({
  dtype: fc.oneof(fc.constantFrom(...Object.keys(SAFETENSORS_DTYPES), 'U8', 'F8', ''), fc.jsonValue({ maxDepth: 1 })),
  shape: fc.oneof(fc.array(fc.oneof(fc.nat({ max: 5 }), fc.integer({ min: -2, max: 2 ** 53 + 2 }), fc.double()), { maxLength: 4 }), fc.jsonValue({ maxDepth: 1 })),
  data_offsets: fc.oneof(fc.tuple(fc.nat({ max: 64 }), fc.nat({ max: 64 })), fc.array(fc.oneof(fc.nat({ max: 64 }), fc.double(), fc.constant(2 ** 60)), { maxLength: 3 }), fc.jsonValue({ maxDepth: 1 })),
}, { requiredKeys: [] });

function invented(header: unknown, data: Uint8Array, lengthDelta: number): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, json.length + lengthDelta)), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors properties', () => {
  test('encode then decode is the identity (names, order, dtypes, shapes, bits, metadata)', () => {
    fc.assert(fc.property(tensors, metadata, (ts, meta) => {
      const back = decodeSafetensors(encodeSafetensors(ts, meta));
      assert.deepEqual([...back.tensors.keys()], [...ts.keys()]);
      for (const [n, t] of ts) {
        const b = back.tensors.get(n)!;
        assert.equal(b.dtype, t.dtype);
        assert.deepEqual(b.shape, t.shape);
        for (let i = 0; i < t.data.length; i++) assert.ok(Object.is(b.data[i], t.data[i]), `${n}[${i}]`);
      }
      assert.deepEqual(Object.entries(back.metadata), Object.entries(meta));
    }), RUNS);
  });

  test('a damaged file decodes to a well-formed value or throws a BpttError', () => {
    fc.assert(fc.property(tensors, metadata, damage, (ts, meta, d) => {
      valueOrBpttError(() => decodeSafetensors(applyDamage(encodeSafetensors(ts, meta), d)), wellFormed);
    }), { numRuns: 400 });
  });

  test('an invented header (wrong dtypes, shapes, offsets, lengths) gives a value or a BpttError', () => {
    const header = fc.oneof(
      fc.dictionary(fc.oneof(fc.string({ maxLength: 4 }), fc.constant('__metadata__')), fc.oneof(entry, fc.jsonValue({ maxDepth: 2 })), { maxKeys: 4 }),
      fc.jsonValue({ maxDepth: 3 }),
    );
    fc.assert(fc.property(header, fc.uint8Array({ maxLength: 64 }), fc.integer({ min: -3, max: 3 }), (h, data, delta) => {
      valueOrBpttError(() => decodeSafetensors(invented(h, data, delta)), wellFormed);
    }), { numRuns: 400 });
  });

  test('arbitrary bytes, also at an offset inside a larger buffer, give a value or a BpttError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 128 }), fc.nat({ max: 7 }), (bytes, pad) => {
      const big = new Uint8Array(pad + bytes.length);
      big.set(bytes, pad);
      valueOrBpttError(() => decodeSafetensors(big.subarray(pad)), wellFormed);
    }), RUNS);
  });

  test('a deeply nested JSON header is a DataError, not a stack overflow', () => {
    for (const depth of [10_000, 200_000]) {
      const json = new TextEncoder().encode('{"a":' + '['.repeat(depth) + ']'.repeat(depth) + '}');
      const out = new Uint8Array(8 + json.length);
      new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
      out.set(json, 8);
      valueOrBpttError(() => decodeSafetensors(out));
    }
  });
});
