/**
 * Protobuf encoding of the part of the ONNX schema (onnx/onnx.proto, proto2)
 * that an exported model uses. Field numbers are the schema's. Tensor data
 * goes in `raw_data` (little-endian), never in the typed fields.
 *
 * Written by hand rather than with protobufjs: the wire format needed here is
 * three encodings (varint, length-delimited, fixed32), while protobufjs (even
 * its minimal build) adds 110–235 KB to the browser bundle of the library,
 * whose playground never exports ONNX. onnxruntime parses every exported
 * model in the tests.
 */

/** TensorProto.DataType values used here. */
export const ONNX_FLOAT = 1;
export const ONNX_INT64 = 7;
/** AttributeProto.AttributeType values used here. */
export const ATTR_FLOAT = 1;
export const ATTR_INT = 2;
export const ATTR_STRING = 3;
export const ATTR_FLOATS = 6;
export const ATTR_INTS = 7;
export const ATTR_STRINGS = 8;

export interface TensorObj { name: string; dims: number[]; dataType: number; rawData: Uint8Array }
export interface AttributeObj { name: string; type: number; f?: number; i?: number; s?: Uint8Array; floats?: number[]; ints?: number[]; strings?: Uint8Array[] }
export interface NodeObj { opType: string; name: string; input: string[]; output: string[]; attribute: AttributeObj[] }
export interface ValueInfoObj { name: string; elemType: number; dims: Array<{ dimValue?: number; dimParam?: string }> }
export interface GraphObj { name: string; node: NodeObj[]; initializer: TensorObj[]; input: ValueInfoObj[]; output: ValueInfoObj[] }
export interface ModelObj {
  irVersion: number; producerName: string; producerVersion: string; docString: string;
  opset: Array<{ domain: string; version: number }>; graph: GraphObj; metadata: Array<{ key: string; value: string }>;
}

const utf8 = new TextEncoder();

/** Appends protobuf fields to a growing list of byte chunks. */
class Writer {
  private readonly chunks: Uint8Array[] = [];
  private length = 0;

  private push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }

  private varint(v: bigint): void {
    let x = BigInt.asUintN(64, v); // negative int64 values: two's complement, 10 bytes
    const out: number[] = [];
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wire: 0 | 2 | 5): void {
    this.varint(BigInt((field << 3) | wire));
  }

  int(field: number, v: number): this {
    this.tag(field, 0);
    this.varint(BigInt(v));
    return this;
  }

  float(field: number, v: number): this {
    this.tag(field, 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2);
    this.varint(BigInt(b.length));
    this.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytes(field, utf8.encode(s));
  }

  message(field: number, w: Writer): this {
    return this.bytes(field, w.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

function tensor(t: TensorObj): Writer {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  return w.int(2, t.dataType).string(8, t.name).bytes(9, t.rawData);
}

function attribute(a: AttributeObj): Writer {
  const w = new Writer().string(1, a.name);
  if (a.f !== undefined) w.float(2, a.f);
  if (a.i !== undefined) w.int(3, a.i);
  if (a.s !== undefined) w.bytes(4, a.s);
  for (const f of a.floats ?? []) w.float(7, f);
  for (const i of a.ints ?? []) w.int(8, i);
  for (const s of a.strings ?? []) w.bytes(9, s);
  return w.int(20, a.type);
}

function node(n: NodeObj): Writer {
  const w = new Writer();
  for (const i of n.input) w.string(1, i);
  for (const o of n.output) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const a of n.attribute) w.message(5, attribute(a));
  return w;
}

function valueInfo(v: ValueInfoObj): Writer {
  const shape = new Writer();
  for (const d of v.dims) shape.message(1, d.dimParam !== undefined ? new Writer().string(2, d.dimParam) : new Writer().int(1, d.dimValue!));
  const tensorType = new Writer().int(1, v.elemType).message(2, shape);
  return new Writer().string(1, v.name).message(2, new Writer().message(1, tensorType));
}

function graph(g: GraphObj): Writer {
  const w = new Writer();
  for (const n of g.node) w.message(1, node(n));
  w.string(2, g.name);
  for (const t of g.initializer) w.message(5, tensor(t));
  for (const i of g.input) w.message(11, valueInfo(i));
  for (const o of g.output) w.message(12, valueInfo(o));
  return w;
}

/** The serialised onnx.ModelProto. */
export function encodeModel(m: ModelObj): Uint8Array {
  const w = new Writer().int(1, m.irVersion).string(2, m.producerName).string(3, m.producerVersion).string(6, m.docString).message(7, graph(m.graph));
  for (const o of m.opset) w.message(8, new Writer().string(1, o.domain).int(2, o.version));
  for (const p of m.metadata) w.message(14, new Writer().string(1, p.key).string(2, p.value));
  return w.finish();
}
