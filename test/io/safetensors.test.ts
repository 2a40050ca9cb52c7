import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/index.js';
import { ConfigError, DataError, Rng, Tensor } from '../../src/tensor/index.js';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function u64(n: number | bigint): number[] {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return [...b];
}

/** A file from a raw header (unpadded unless the caller pads) and raw data bytes. */
function file(header: string | Uint8Array, data: ArrayLike<number> = [], length?: number | bigint): Uint8Array {
  const h = typeof header === 'string' ? utf8(header) : header;
  return Uint8Array.from([...u64(length ?? h.length), ...h, ...Array.from(data)]);
}

/** A compact JSON header; the reader accepts it unpadded. */
function header(entries: Record<string, unknown>): string {
  return JSON.stringify(entries);
}

const f32 = (...xs: number[]): number[] => [...new Uint8Array(Float32Array.from(xs).buffer)];

function assertSameTensor(actual: Tensor | undefined, want: Tensor): void {
  assert.ok(actual);
  assert.equal(actual.dtype, want.dtype);
  assert.deepEqual(actual.shape, want.shape);
  assert.deepEqual([...actual.data], [...want.data]);
}

describe('safetensors round trip', () => {
  test('float32 and float64 tensors of several shapes, with metadata', () => {
    const tensors = new Map<string, Tensor>([
      ['scalar', Tensor.from([3.5], [])],
      ['empty', Tensor.zeros([2, 0, 3])],
      ['vec64', Tensor.from([0.1, -1e300, 5e-324], [3], 'float64')],
      ['encoder.weight_ih_l0', Tensor.from(Array.from({ length: 24 }, (_, i) => i / 7 - 1), [2, 3, 4])],
      ['empty64', Tensor.zeros([0], 'float64')],
      ['m', Tensor.from([-0, Infinity, -Infinity, NaN], [2, 2])],
    ]);
    const metadata = { format: 'pt', note: 'ünïcode ✓', empty: '' };
    const bytes = encodeSafetensors(tensors, metadata);
    const back = decodeSafetensors(bytes);
    assert.deepEqual(back.metadata, metadata);
    assert.deepEqual([...back.tensors.keys()].sort(), [...tensors.keys()].sort());
    for (const [name, t] of tensors) assertSameTensor(back.tensors.get(name), t);
    assert.ok(Object.is(back.tensors.get('m')!.data[0], -0));
  });

  test('tensors are written in the given order, from a Map or a plain record', () => {
    const headerOf = (bytes: Uint8Array): string => {
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      return new TextDecoder().decode(bytes.subarray(8, 8 + n));
    };
    const fromRecord = encodeSafetensors({ z: Tensor.from([1], [1]), a: Tensor.from([2], [1]) });
    assert.match(headerOf(fromRecord), /^\{"z":.*"data_offsets":\[0,4\]\},"a":.*"data_offsets":\[4,8\]\}\} *$/);
    assert.deepEqual([...fromRecord.subarray(-8)], f32(1, 2));
    assert.deepEqual(decodeSafetensors(fromRecord).metadata, {});
    // "0" is integer-like: a JS object would move it first, the header must not.
    const fromMap = encodeSafetensors(new Map([['z', Tensor.from([1], [1])], ['0', Tensor.from([3], [1])]]));
    assert.match(headerOf(fromMap), /^\{"z":.*"data_offsets":\[0,4\]\},"0":.*"data_offsets":\[4,8\]\}\} *$/);
    assert.deepEqual([...fromMap.subarray(-8)], f32(1, 3));
  });

  test('names that are special in JavaScript survive', () => {
    const bytes = encodeSafetensors(new Map([['__proto__', Tensor.from([1], [1])], ['constructor', Tensor.from([2], [1])]]));
    const back = decodeSafetensors(bytes);
    assert.deepEqual([...back.tensors.get('__proto__')!.data], [1]);
    assert.deepEqual([...back.tensors.get('constructor')!.data], [2]);
  });

  test('seeded random shapes and values round-trip exactly', () => {
    const rng = new Rng(1234);
    for (let trial = 0; trial < 50; trial++) {
      const tensors = new Map<string, Tensor>();
      const count = rng.int(5);
      for (let k = 0; k < count; k++) {
        const shape = Array.from({ length: rng.int(4) }, () => rng.int(4));
        const size = shape.reduce((a, b) => a * b, 1);
        const values = Array.from({ length: size }, () => rng.normal() * 10 ** rng.range(-30, 30));
        tensors.set(`t${k}.${rng.int(1000)}`, Tensor.from(values, shape, rng.int(2) ? 'float64' : 'float32'));
      }
      const metadata = rng.int(2) ? { seed: String(trial) } : undefined;
      const bytes = encodeSafetensors(tensors, metadata);
      const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
      assert.equal(n % 8, 0);
      const back = decodeSafetensors(bytes);
      assert.deepEqual(back.metadata, metadata ?? {});
      assert.equal(back.tensors.size, tensors.size);
      for (const [name, t] of tensors) assertSameTensor(back.tensors.get(name), t);
    }
  });
});

describe('safetensors bytes', () => {
  test('a tiny file has exactly the expected bytes', () => {
    const bytes = encodeSafetensors({ x: Tensor.from([1, 2], [2]) });
    const json = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'; // 54 bytes, padded to 56
    const want = [56, 0, 0, 0, 0, 0, 0, 0, ...utf8(json), 0x20, 0x20, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40];
    assert.deepEqual([...bytes], want);
  });

  test('float64 is written as F64 little-endian', () => {
    const bytes = encodeSafetensors({ y: Tensor.from([0.5], [], 'float64') });
    const json = '{"y":{"dtype":"F64","shape":[],"data_offsets":[0,8]}}'; // 53 bytes, padded to 56
    assert.deepEqual([...bytes], [56, 0, 0, 0, 0, 0, 0, 0, ...utf8(json), 0x20, 0x20, 0x20, 0, 0, 0, 0, 0, 0, 0xe0, 0x3f]);
  });

  test('reads a file laid out like Python safetensors writes it', () => {
    // Python puts __metadata__ first and orders the data by alignment (F64 before F32), padding the JSON with spaces.
    const json =
      '{"__metadata__":{"format":"pt"},' +
      '"b":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},' +
      '"a":{"dtype":"F32","shape":[2,1],"data_offsets":[8,16]}}';
    const padded = json + ' '.repeat((8 - (json.length % 8)) % 8);
    const data = [0, 0, 0, 0, 0, 0, 0xe0, 0x3f, 0, 0, 0x80, 0x3f, 0, 0, 0, 0xc0];
    const { tensors, metadata } = decodeSafetensors(file(padded, data));
    assert.deepEqual(metadata, { format: 'pt' });
    assertSameTensor(tensors.get('b'), Tensor.from([0.5], [1], 'float64'));
    assertSameTensor(tensors.get('a'), Tensor.from([1, -2], [2, 1]));
  });

  test('header order need not match data order', () => {
    const h = header({
      late: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
      zero: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
      early: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    });
    const { tensors } = decodeSafetensors(file(h, f32(7, 9)));
    assert.deepEqual([...tensors.get('early')!.data], [7]);
    assert.deepEqual([...tensors.get('late')!.data], [9]);
    assert.deepEqual(tensors.get('zero')!.shape, [0]);
  });

  test('F16 decodes normals, the largest, subnormals, zeros, infinities and NaN', () => {
    const halves = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x0000, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x3555];
    const data = halves.flatMap((h) => [h & 0xff, h >> 8]);
    const h = header({ h: { dtype: 'F16', shape: [halves.length], data_offsets: [0, data.length] } });
    const t = decodeSafetensors(file(h, data)).tensors.get('h')!;
    assert.equal(t.dtype, 'float32');
    const want = [1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, 0, -0, Infinity, -Infinity, NaN, Math.fround(0.333251953125)];
    assert.equal(t.data.length, want.length);
    want.forEach((w, i) => assert.ok(Object.is(t.data[i], w), `half 0x${halves[i].toString(16)}: ${t.data[i]} !== ${w}`));
  });

  test('BF16 decodes as the top half of a float32', () => {
    const bf = [0x3f80, 0x4049, 0xc000, 0x7f80, 0xff80, 0x7fc0, 0x0001];
    const data = bf.flatMap((h) => [h & 0xff, h >> 8]);
    const h = header({ b: { dtype: 'BF16', shape: [bf.length], data_offsets: [0, data.length] } });
    const t = decodeSafetensors(file(h, data)).tensors.get('b')!;
    assert.equal(t.dtype, 'float32');
    const want = [1, 3.140625, -2, Infinity, -Infinity, NaN, 2 ** -133];
    want.forEach((w, i) => assert.ok(Object.is(t.data[i], w), `bf16 0x${bf[i].toString(16)}: ${t.data[i]} !== ${w}`));
  });

  test('I32 and I64 become float64', () => {
    const data = new Uint8Array(4 * 2 + 8 * 2);
    const v = new DataView(data.buffer);
    v.setInt32(0, -7, true);
    v.setInt32(4, 2 ** 31 - 1, true);
    v.setBigInt64(8, -(2n ** 53n), true);
    v.setBigInt64(16, 42n, true);
    const h = header({
      i: { dtype: 'I32', shape: [2], data_offsets: [0, 8] },
      l: { dtype: 'I64', shape: [2], data_offsets: [8, 24] },
    });
    const { tensors } = decodeSafetensors(file(h, data));
    assertSameTensor(tensors.get('i'), Tensor.from([-7, 2 ** 31 - 1], [2], 'float64'));
    assertSameTensor(tensors.get('l'), Tensor.from([-(2 ** 53), 42], [2], 'float64'));
  });

  test('reads from a view at an odd byteOffset and does not alias it', () => {
    const bytes = encodeSafetensors({ a: Tensor.from([1.5, -2.25], [2]), b: Tensor.from([Math.PI], [1], 'float64') });
    const big = new Uint8Array(bytes.length + 7);
    big.set(bytes, 3);
    const view = big.subarray(3, 3 + bytes.length);
    const { tensors } = decodeSafetensors(view);
    assertSameTensor(tensors.get('a'), Tensor.from([1.5, -2.25], [2]));
    assertSameTensor(tensors.get('b'), Tensor.from([Math.PI], [1], 'float64'));
    big.fill(0);
    assert.equal(tensors.get('a')!.data[0], 1.5);
  });
});

describe('safetensors read validation', () => {
  const ok = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };
  const one = f32(1);
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['a file shorter than 8 bytes', new Uint8Array(5), /^safetensors: expected at least 8 bytes.*got 5 bytes/],
    ['a header longer than the file', file('{}', [], 100),
      /header length of at most 2 bytes.*got 100 \(not a safetensors file\)$/],
    ['a header length beyond 2^53', file('{}', [], 2n ** 63n),
      /at most 100000000 bytes, got 9223372036854775808 \(not a safetensors file\)$/],
    ['invalid UTF-8', file(Uint8Array.from([0x7b, 0xff, 0x7d])), /expected a UTF-8 header, got invalid UTF-8/],
    ['invalid JSON', file('{"a":'), /expected a JSON header, got invalid JSON/],
    ['a JSON array', file('[]'),
      /expected a JSON header starting with '\{', got '\[' \(0x5b\) \(not a safetensors file\)$/],
    ['JSON null', file('null'),
      /expected a JSON header starting with '\{', got 'n' \(0x6e\) \(not a safetensors file\)$/],
    [
      'a binary file (a PNG) given as safetensors',
      Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]),
      new RegExp('^safetensors: expected a header length of at most 100000000 bytes, '
        + 'got 727905341920923785 \\(not a safetensors file\\)$'),
    ],
    ['a small header length before a header that is not JSON', file(' {}'),
      /got ' ' \(0x20\) \(not a safetensors file\)$/],
    ['an empty header', file(''),
      /expected a JSON header starting with '\{', got an empty header \(not a safetensors file\)$/],
    ['an entry that is not an object', file(header({ a: 3 })), /tensor "a": expected an object with dtype.*got 3/],
    ['an entry that is an array', file(header({ a: [] })), /tensor "a": expected an object.*got an array/],
    ['a missing dtype', file(header({ a: { shape: [1], data_offsets: [0, 4] } }), one), /tensor "a": expected a string dtype, got undefined/],
    ['an unsupported dtype', file(header({ a: { ...ok, dtype: 'U8' } }), one),
      /tensor "a": expected a dtype in F32, F64, F16, BF16, I32, I64, got "U8"/],
    ['an inherited name as dtype', file(header({ a: { ...ok, dtype: 'toString' } }), one), /got "toString"/],
    ['a shape that is not an array', file(header({ a: { ...ok, shape: 4 } }), one), /tensor "a": expected a shape of non-negative integers, got 4/],
    ['a negative dimension', file(header({ a: { ...ok, shape: [-1] } }), one), /expected a shape of non-negative integers, got \[-1\]/],
    ['a fractional dimension', file(header({ a: { ...ok, shape: [1.5] } }), one), /got \[1\.5\]/],
    ['a string dimension', file(header({ a: { ...ok, shape: ['1'] } }), one), /got \["1"\]/],
    ['missing data_offsets', file(header({ a: { dtype: 'F32', shape: [1] } }), one), /expected data_offsets \[begin, end\].*got undefined/],
    ['three data_offsets', file(header({ a: { ...ok, data_offsets: [0, 4, 4] } }), one), /expected data_offsets.*got \[0,4,4\]/],
    ['negative data_offsets', file(header({ a: { ...ok, data_offsets: [-4, 0] } }), one), /expected data_offsets.*got \[-4,0\]/],
    ['begin after end', file(header({ a: { ...ok, data_offsets: [4, 0] } }), one), /begin <= end <= 4.*got \[4,0\]/],
    ['an end past the data', file(header({ a: { ...ok, data_offsets: [0, 8] } }), one), /begin <= end <= 4.*got \[0,8\]/],
    ['a byte length that does not match the shape', file(header({ a: { ...ok, shape: [2] } }), one), /tensor "a": expected 8 bytes for F32 \[2\], got 4 bytes/],
    [
      'overlapping tensors',
      file(header({ a: ok, b: { ...ok, data_offsets: [2, 6] }, c: { ...ok, data_offsets: [4, 8] } }), f32(1, 2)),
      /tensor "b": expected data to begin at byte 4, got 2 \(overlaps/,
    ],
    ['a hole between tensors', file(header({ a: ok, b: { ...ok, data_offsets: [8, 12] } }), f32(1, 2, 3)), /tensor "b": expected data to begin at byte 4, got 8 \(leaves a hole/],
    ['a hole at the start', file(header({ a: { ...ok, data_offsets: [4, 8] } }), f32(1, 2)), /expected data to begin at byte 0, got 4/],
    ['trailing bytes', file(header({ a: ok }), f32(1, 2)), /expected 4 data bytes.*got 8 \(trailing bytes\)/],
    ['data without tensors', file('{}', [1, 2]), /expected 0 data bytes.*got 2/],
    ['metadata that is not an object', file(header({ __metadata__: 'pt' })), /__metadata__: expected an object of strings, got "pt"/],
    ['metadata that is null', file(header({ __metadata__: null })), /__metadata__: expected an object of strings, got null/],
    ['a non-string metadata value', file(header({ __metadata__: { epoch: 3 } })), /__metadata__ "epoch": expected a string value, got 3/],
    ['an empty tensor name', file(header({ '': ok }), one), /expected non-empty tensor names/],
  ];
  for (const [what, bytes, message] of cases) {
    test(`${what} is a DataError`, () => {
      assert.throws(() => decodeSafetensors(bytes), (e: unknown) => e instanceof DataError && message.test(e.message));
    });
  }

  test('the header length limit is 100 MB, checked before the file size', () => {
    const bytes = file('{}', [], 100_000_001);
    assert.throws(() => decodeSafetensors(bytes), (e: unknown) => e instanceof DataError
      && /at most 100000000 bytes, got 100000001 \(not a safetensors file\)$/.test(e.message));
  });

  test('messages start with the given where', () => {
    assert.throws(() => decodeSafetensors(new Uint8Array(0), 'model.safetensors'), /^DataError: model\.safetensors: expected at least 8 bytes/);
    assert.throws(() => decodeSafetensors(new Uint8Array(0), 'model.safetensors'), DataError);
  });
});

describe('safetensors write validation', () => {
  const t = Tensor.from([1], [1]);
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['an empty name', () => encodeSafetensors({ '': t }), /expected a non-empty tensor name, got ""/],
    ['the reserved name', () => encodeSafetensors(new Map([['__metadata__', t]])), /other than "__metadata__"/],
    ['a non-Tensor value', () => encodeSafetensors({ w: [1, 2] as unknown as Tensor }), /"w": expected a Tensor, got an array/],
    ['a typed array value', () => encodeSafetensors({ w: new Float32Array(1) as unknown as Tensor }), /"w": expected a Tensor, got a Float32Array/],
    ['a non-string metadata value', () => encodeSafetensors({ w: t }, { epoch: 3 as unknown as string }), /metadata "epoch": expected a string value, got 3/],
    ['metadata that is not an object', () => encodeSafetensors({ w: t }, 'pt' as unknown as Record<string, string>), /metadata: expected an object of strings/],
  ];
  for (const [what, run, message] of cases) {
    test(`${what} is a ConfigError`, () => {
      assert.throws(run, (e: unknown) => e instanceof ConfigError && message.test(e.message));
    });
  }

  test('an empty collection writes a valid empty file', () => {
    const bytes = encodeSafetensors(new Map());
    assert.deepEqual([...bytes], [8, 0, 0, 0, 0, 0, 0, 0, ...utf8('{}      ')]);
    assert.equal(decodeSafetensors(bytes).tensors.size, 0);
  });
});
