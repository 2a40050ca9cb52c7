import {
  ConfigError, DataError, Tensor, allocate, expected, listOf, show, sizeOf, textOf, type DType,
} from '../tensor/index.js';

/**
 * Hugging Face safetensors: an 8-byte little-endian header length N, N bytes of
 * UTF-8 JSON describing each tensor, then the little-endian C-order data.
 * Browser-safe: plain Uint8Array/DataView, no node: imports.
 */
export interface SafetensorsContent {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** The reference implementation refuses larger headers, so we do too: it also caps what a hostile file can allocate. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';
/** The hint when the first bytes cannot start such a file. */
const NOT_SAFETENSORS = 'not a safetensors file';

interface DTypeCodec {
  size: number;
  /** The Tensor dtype we read it into. */
  into: DType;
  read(view: DataView, at: number): number;
}

/**
 * The dtypes we read. F16/BF16 widen exactly to float32; I32/I64 become float64
 * (exact for I32, and for I64 up to 2^53 in magnitude, rounded beyond that).
 */
export const SAFETENSORS_DTYPES: Readonly<Record<string, DTypeCodec>> = Object.freeze({
  F32: { size: 4, into: 'float32', read: (v, at) => v.getFloat32(at, true) },
  F64: { size: 8, into: 'float64', read: (v, at) => v.getFloat64(at, true) },
  F16: { size: 2, into: 'float32', read: (v, at) => halfToNumber(v.getUint16(at, true)) },
  BF16: { size: 2, into: 'float32', read: (v, at) => bfloat16ToNumber(v.getUint16(at, true)) },
  I32: { size: 4, into: 'float64', read: (v, at) => v.getInt32(at, true) },
  I64: { size: 8, into: 'float64', read: (v, at) => Number(v.getBigInt64(at, true)) },
});

/** IEEE 754 binary16: 1 sign, 5 exponent (bias 15), 10 fraction bits. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const frac = bits & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24; // zero and subnormals
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const scratch = new DataView(new ArrayBuffer(4));

/** bfloat16 is the top half of a float32. */
export function bfloat16ToNumber(bits: number): number {
  scratch.setUint32(0, bits << 16);
  return scratch.getFloat32(0);
}

// ---------------------------------------------------------------- writing

/** Serialises tensors in the given order (F32 or F64 by dtype), contiguous, header padded to 8 bytes. */
export function encodeSafetensors(
  tensors: ReadonlyMap<string, Tensor> | Record<string, Tensor>,
  metadata?: Record<string, string>,
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  entries.forEach(([name, t]) => checkWritable(name, t));
  if (metadata !== undefined) checkMetadataToWrite(metadata);

  const fields: string[] = [];
  if (metadata && Object.keys(metadata).length > 0) fields.push(jsonField(METADATA_KEY, metadata));
  let offset = 0;
  for (const [name, t] of entries) {
    const end = offset + t.data.byteLength;
    fields.push(jsonField(name, { dtype: t.dtype === 'float64' ? 'F64' : 'F32', shape: t.shape, data_offsets: [offset, end] }));
    offset = end;
  }
  const json = new TextEncoder().encode(`{${fields.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8; // keeps the data 8-byte aligned in the file

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const [, t] of entries) at = writeData(view, at, t);
  return out;
}

/** Builds the JSON by hand: object keys would reorder integer-like names and treat "__proto__" specially. */
function jsonField(key: string, value: unknown): string {
  return `${JSON.stringify(key)}:${JSON.stringify(value)}`;
}

function writeData(view: DataView, at: number, t: Tensor): number {
  const { data } = t;
  if (t.dtype === 'float64') {
    for (let i = 0; i < data.length; i++, at += 8) view.setFloat64(at, data[i], true);
  } else {
    for (let i = 0; i < data.length; i++, at += 4) view.setFloat32(at, data[i], true);
  }
  return at;
}

function checkWritable(name: unknown, t: unknown): void {
  const where = 'encodeSafetensors';
  if (typeof name !== 'string' || name === '') {
    throw new ConfigError(expected(where, 'a non-empty tensor name', show(name)));
  }
  if (name === METADATA_KEY) {
    throw new ConfigError(expected(where, `a tensor name other than "${METADATA_KEY}"`, name, 'reserved for metadata'));
  }
  if (!(t instanceof Tensor)) throw new ConfigError(expected(`${where}: ${show(name)}`, 'a Tensor', typeName(t)));
}

function checkMetadataToWrite(metadata: unknown): void {
  const where = 'encodeSafetensors: metadata';
  if (!isObject(metadata)) throw new ConfigError(expected(where, 'an object of strings', typeName(metadata)));
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new ConfigError(expected(`${where} ${show(k)}`, 'a string value', typeName(v)));
  }
}

// ---------------------------------------------------------------- reading

/**
 * Parses a safetensors file. `bytes` may be any view (any byteOffset); data is
 * copied out, so the result does not alias it. Every malformation is a DataError.
 */
export function decodeSafetensors(bytes: Uint8Array, where = 'safetensors'): SafetensorsContent {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = readHeaderLength(view, where);
  const header = parseHeader(bytes.slice(8, 8 + headerLength), where);
  const start = 8 + headerLength;
  const bufferLength = bytes.length - start;

  const metadata = readMetadata(header[METADATA_KEY], where);
  const specs = Object.entries(header)
    .filter(([name]) => name !== METADATA_KEY)
    .map(([name, entry]) => readSpec(name, entry, bufferLength, where));
  checkCoverage(specs, bufferLength, where);

  const tensors = new Map<string, Tensor>();
  for (const s of specs) tensors.set(s.name, readTensor(view, start, s));
  return { tensors, metadata };
}

interface TensorSpec {
  name: string;
  codec: DTypeCodec;
  shape: number[];
  begin: number;
  end: number;
}

function readHeaderLength(view: DataView, where: string): number {
  const fail = (what: string, got: string) => new DataError(expected(where, what, got, NOT_SAFETENSORS));
  if (view.byteLength < 8) throw fail('at least 8 bytes (the header length)', `${view.byteLength} bytes`);
  const n = view.getBigUint64(0, true);
  const room = view.byteLength - 8;
  if (n > BigInt(MAX_HEADER_BYTES)) throw fail(`a header length of at most ${MAX_HEADER_BYTES} bytes`, `${n}`);
  if (n > BigInt(room)) throw fail(`a header length of at most ${room} bytes (the rest of the file)`, `${n}`);
  // The format has no magic number, but its spec says the header MUST begin with '{'.
  if (n === 0n || view.getUint8(8) !== 0x7b) {
    throw fail("a JSON header starting with '{'", n === 0n ? 'an empty header' : byteText(view.getUint8(8)));
  }
  return Number(n);
}

/** `raw` is a copy: TextDecoder refuses views on shared memory. */
function parseHeader(raw: Uint8Array, where: string): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    throw new DataError(expected(where, 'a UTF-8 header', 'invalid UTF-8'));
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new DataError(expected(where, 'a JSON header', 'invalid JSON', textOf((e as Error).message)));
  }
  if (!isObject(json)) throw new DataError(expected(where, 'a JSON object header', typeName(json)));
  return json;
}

function readMetadata(raw: unknown, where: string): Record<string, string> {
  if (raw === undefined) return {};
  const at = `${where}: ${METADATA_KEY}`;
  if (!isObject(raw)) throw new DataError(expected(at, 'an object of strings', typeName(raw)));
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw new DataError(expected(`${at} ${show(k)}`, 'a string value', typeName(v)));
  }
  return raw as Record<string, string>;
}

function readSpec(name: string, entry: unknown, bufferLength: number, where: string): TensorSpec {
  if (name === '') throw new DataError(expected(where, 'non-empty tensor names', '""'));
  const at = `${where}: tensor ${show(name)}`;
  if (!isObject(entry)) throw new DataError(expected(at, 'an object with dtype, shape and data_offsets', typeName(entry)));
  const { dtype, shape, data_offsets: offsets } = entry;

  if (typeof dtype !== 'string') throw new DataError(expected(at, 'a string dtype', typeName(dtype)));
  if (!Object.hasOwn(SAFETENSORS_DTYPES, dtype)) {
    throw new DataError(expected(at, `a dtype in ${Object.keys(SAFETENSORS_DTYPES).join(', ')}`, show(dtype)));
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    throw new DataError(expected(at, 'a shape of non-negative integers', show(shape)));
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex)) {
    throw new DataError(expected(at, 'data_offsets [begin, end] of non-negative integers', show(offsets)));
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > bufferLength) {
    throw new DataError(expected(at, `data_offsets with begin <= end <= ${bufferLength} (the data size)`,
      show(offsets)));
  }
  const codec = SAFETENSORS_DTYPES[dtype];
  const want = sizeOf(shape) * codec.size;
  if (end - begin !== want) {
    throw new DataError(expected(at, `${want} bytes for ${dtype} ${listOf(shape)}`, `${end - begin} bytes`));
  }
  return { name, codec, shape, begin, end };
}

/** The spec requires the tensors to tile the data exactly: no overlaps, no holes, nothing trailing. */
function checkCoverage(specs: readonly TensorSpec[], bufferLength: number, where: string): void {
  const sorted = [...specs].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const s of sorted) {
    if (s.begin !== cursor) {
      const why = s.begin < cursor ? 'overlaps the previous tensor' : 'leaves a hole before it';
      throw new DataError(expected(`${where}: tensor ${show(s.name)}`, `data to begin at byte ${cursor}`,
        `${s.begin}`, why));
    }
    cursor = s.end;
  }
  if (cursor !== bufferLength) {
    throw new DataError(expected(where, `${cursor} data bytes (the end of the last tensor)`, `${bufferLength}`, 'trailing bytes'));
  }
}

function readTensor(view: DataView, start: number, s: TensorSpec): Tensor {
  const { codec } = s;
  const data = allocate(codec.into, (s.end - s.begin) / codec.size);
  for (let i = 0, at = start + s.begin; i < data.length; i++, at += codec.size) data[i] = codec.read(view, at);
  return new Tensor(s.shape, data);
}

// ---------------------------------------------------------------- helpers

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isIndex(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

/** A byte as a character where it is printable ASCII, and in hex. */
function byteText(b: number): string {
  const hex = `0x${b.toString(16).padStart(2, '0')}`;
  return b >= 0x20 && b < 0x7f ? `'${String.fromCharCode(b)}' (${hex})` : `byte ${hex}`;
}

/** A short description of a bad value for error messages. */
function typeName(x: unknown): string {
  if (Array.isArray(x)) return 'an array';
  if (typeof x === 'object' && x !== null) return `a ${x.constructor?.name ?? 'plain object'}`;
  return show(x);
}
