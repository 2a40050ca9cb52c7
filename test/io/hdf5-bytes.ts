/**
 * A tiny HDF5 writer for tests, enough for jsfive to read the Keras 3 layout:
 * superblock version 2, version-1 object headers, groups of hard links, and
 * float32 datasets stored whole or in chunks (zlib when `deflate`) under a
 * version-1 B-tree whose entries the test writes as it likes, so that hostile
 * files are built here rather than committed.
 */
import { HDF5_SIGNATURE } from '../../src/io/interop/keras-h5.js';

/** One B-tree entry: where the chunk starts in the dataset, and its bytes as stored (entries may share them). */
export interface ChunkEntry { offset: number[]; stored: Uint8Array }

export class H5Data {
  constructor(
    readonly shape: number[],
    /** float32 values stored whole, or chunks of a shape with their B-tree entries */
    readonly storage: Float32Array | { chunk: number[]; deflate: boolean; entries: ChunkEntry[] },
  ) {}
}

export interface H5Tree { [name: string]: H5Tree | H5Data }

const UNDEFINED = 0xffff_ffff_ffff_ffffn;

/** Little-endian fields: [bytes, value] pairs, strings as their ASCII bytes. */
function le(...fields: Array<[1 | 2 | 4 | 8, number | bigint] | string | Uint8Array>): Uint8Array {
  const parts = fields.map((f) => {
    if (typeof f === 'string') return new TextEncoder().encode(f);
    if (f instanceof Uint8Array) return f;
    const b = new Uint8Array(f[0]);
    const v = new DataView(b.buffer);
    if (f[0] === 8) v.setBigUint64(0, BigInt(f[1]), true);
    else if (f[0] === 4) v.setUint32(0, Number(f[1]), true);
    else if (f[0] === 2) v.setUint16(0, Number(f[1]), true);
    else b[0] = Number(f[1]);
    return b;
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** A version-1 object header of [type, body] messages, each body padded to 8 bytes. */
function objectHeader(messages: Array<[number, Uint8Array]>): Uint8Array {
  const padded = messages.map(([type, body]) => [type, le(body, new Uint8Array((8 - (body.length % 8)) % 8))] as const);
  const size = padded.reduce((n, [, body]) => n + 8 + body.length, 0);
  return le([1, 1], [1, 0], [2, messages.length], [4, 1], [4, size], [4, 0],
    ...padded.map(([type, body]) => le([2, type], [2, body.length], [1, 0], [1, 0], [2, 0], body)));
}

const u32s = (ns: number[]): Array<[4, number]> => ns.map((n) => [4, n]);
const u64s = (ns: number[]): Array<[8, number]> => ns.map((n) => [8, n]);
/** IEEE float32, little-endian: class 1 version 1; sign bit 31, exponent 8 bits at 23 (bias 127), mantissa 23 at 0. */
const FLOAT32 = le([1, 0x11], [1, 0x20], [1, 31], [1, 0], [4, 4],
  [2, 0], [2, 32], [1, 23], [1, 8], [1, 0], [1, 23], [4, 127]);

/** The bytes of an HDF5 file holding `root`. */
export function hdf5Bytes(root: H5Tree): Uint8Array {
  const parts: Uint8Array[] = [new Uint8Array(48)]; // the superblock, written last
  let end = 48;
  const put = (b: Uint8Array): number => {
    parts.push(b);
    end += b.length;
    return end - b.length;
  };
  const stored = new Map<Uint8Array, number>(); // a chunk's bytes are written once, however many entries list them
  const group = (tree: H5Tree): number => {
    const links = Object.entries(tree).map(([name, node]) => {
      const at = node instanceof H5Data ? dataset(node) : group(node);
      return [6, le([1, 1], [1, 0], [1, name.length], name, [8, at])] as [number, Uint8Array]; // a hard link
    });
    return put(objectHeader(links));
  };
  const dataset = (d: H5Data): number => {
    const dataspace = le([1, 1], [1, d.shape.length], [1, 0], [1, 0], [4, 0], ...u64s(d.shape));
    const messages: Array<[number, Uint8Array]> = [[1, dataspace], [3, FLOAT32]];
    if (d.storage instanceof Float32Array) {
      const at = put(new Uint8Array(d.storage.buffer.slice(0)));
      messages.push([8, le([1, 3], [1, 1], [8, at], [8, d.storage.byteLength])]); // layout: contiguous
      return put(objectHeader(messages));
    }
    const { chunk, deflate, entries } = d.storage;
    const key = (size: number, offset: number[]): Uint8Array => le([4, size], [4, 0], ...u64s([...offset, 0]));
    const children = entries.map((e) => {
      if (!stored.has(e.stored)) stored.set(e.stored, put(e.stored));
      return le(key(e.stored.length, e.offset), [8, stored.get(e.stored)!]);
    });
    const tree = put(le('TREE', [1, 1], [1, 0], [2, entries.length], [8, UNDEFINED], [8, UNDEFINED],
      ...children, key(0, d.shape.map(() => 0))));
    if (deflate) messages.push([11, le([1, 2], [1, 1], [2, 1], [2, 0], [2, 1], [4, 4])]); // pipeline: gzip, level 4
    messages.push([8, le([1, 3], [1, 2], [1, chunk.length + 1], [8, tree], ...u32s([...chunk, 4]))]); // layout: chunked
    return put(objectHeader(messages));
  };
  const rootAt = group(root);
  parts[0] = le(HDF5_SIGNATURE, [1, 2], [1, 8], [1, 8], [1, 0], [8, 0], [8, UNDEFINED], [8, end], [8, rootAt], [4, 0]);
  return le(...parts);
}

/**
 * A Keras 3 weights file of a SimpleRNN 3 → 4: its kernel [3, 4] as given,
 * recurrent_kernel and bias stored whole.
 */
export function kerasSimpleRnn(kernel: H5Data): Uint8Array {
  const values = (n: number, from: number): Float32Array => Float32Array.from({ length: n }, (_, i) => from + i / 8);
  const vars = { 0: kernel, 1: new H5Data([4, 4], values(16, 1)), 2: new H5Data([4], values(4, 3)) };
  return hdf5Bytes({ layers: { simple_rnn: { cell: { vars } } } });
}
