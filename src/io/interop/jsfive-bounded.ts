/**
 * jsfive (a pure JavaScript HDF5 reader: browser-safe) run within a budget.
 * jsfive trusts the counts, addresses and sizes in the file, so a damaged or
 * hostile one can keep it reading, or inflating, for hours; here each read
 * spends from a budget proportional to the file's size, and gzip chunks are
 * inflated to at most the size the caller declares for them.
 */
// @ts-expect-error jsfive ships no type declarations; the part used is typed below
import * as jsfive from 'jsfive';
// @ts-expect-error pako (jsfive's own inflater, bounded here) ships no type declarations; the part used is typed below
import { Inflate as PakoInflate } from 'pako';
import { BpttError, DataError, expected, show } from '../../tensor/index.js';

export interface H5Object {
  readonly attrs: Record<string, unknown>;
}
export interface H5Group extends H5Object {
  readonly keys: string[];
  get(path: string): H5Group | H5Dataset | null;
}
export interface H5Dataset extends H5Object {
  readonly dtype: unknown;
  readonly shape: unknown;
  readonly value: unknown;
  /** jsfive's reader of the object; `chunks` is the chunk shape (read from the file), null unless stored in chunks */
  readonly _dataobjects: { readonly chunks: unknown };
}
/** jsfive's decoder of a filter (by HDF5 filter id): a chunk's bytes in, the filtered bytes out. */
type H5Filter = (chunk: ArrayBuffer, itemSize: number) => ArrayBuffer;
export const hdf5 = jsfive as {
  File: new (buffer: ArrayBuffer, name: string) => H5Group;
  Group: abstract new (...args: never[]) => H5Group;
  Dataset: abstract new (...args: never[]) => H5Dataset;
  Filters: Map<number, H5Filter>;
};
interface Inflater {
  onData: (part: Uint8Array) => void;
  push(data: Uint8Array, last: boolean): boolean;
  readonly err: number;
  readonly msg: string;
}
const Inflate = PakoInflate as new () => Inflater;

/** HDF5's filter id of gzip (zlib deflate). */
const DEFLATE = 1;
/** A Fletcher-32 checksum, in case a pipeline strips it after inflating. */
const FLETCHER32_BYTES = 4;

/** The read of one file: its size, and the dataset being read, whose chunks hold `chunkBytes` each. */
export interface ReadBudget {
  readonly fileSize: number;
  reading: { where: string; chunkBytes: number } | null;
}

const GETTERS = [
  'getInt8', 'getUint8', 'getInt16', 'getUint16', 'getInt32', 'getUint32',
  'getFloat32', 'getFloat64', 'getBigInt64', 'getBigUint64',
] as const;

/**
 * Runs `read` (jsfive on a file of `fileSize` bytes) with a budget of reads:
 * every DataView read, every ArrayBuffer slice (more, and by its length) and
 * every 4 bytes a gzip chunk inflates to spend some, and an exhausted budget
 * is a DataError. jsfive follows the counts and addresses in the file as they
 * are, so a damaged B-tree, count or string size can make it revisit the same
 * bytes for hours, or inflate one small chunk again and again; reading a
 * real Keras file spends well under one unit per byte (0.1 to 0.7 measured).
 * jsfive's own inflater has no bound: chunks are inflated here instead, each
 * to at most the size `read` declares for the dataset it reads
 * (`budget.reading`). For the same span jsfive's console warnings about
 * damaged fields are silenced (the CLI prints one error line), and anything it
 * throws (strings, RangeErrors of reads past the end, stack overflows) becomes
 * a DataError. The patches are undone before this returns; nothing else runs
 * meanwhile (it is synchronous).
 */
export function withinReadBudget<T>(where: string, fileSize: number, read: (budget: ReadBudget) => T): T {
  let left = 4 * fileSize + 100_000; // a real file takes about one unit per byte or less
  const exhausted = (): DataError => new DataError(expected(where,
    'an HDF5 file jsfive reads in a bounded number of steps',
    'a damaged one (its links or sizes make the reader go round in circles)'));
  const spend = (n: number): void => {
    left -= n;
    if (left < 0) throw exhausted();
  };
  const view = DataView.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const saved = GETTERS.map((g) => view[g]!);
  const slice = ArrayBuffer.prototype.slice;
  const { warn, log } = console;
  const gzip = hdf5.Filters.get(DEFLATE)!;
  const budget: ReadBudget = { fileSize, reading: null };
  try {
    GETTERS.forEach((g, i) => {
      const get = saved[i]!;
      view[g] = function (this: DataView, ...args: unknown[]) {
        spend(1);
        return get.apply(this, args);
      };
    });
    ArrayBuffer.prototype.slice = function (this: ArrayBuffer, begin?: number, end?: number) {
      const copy = slice.call(this, begin, end);
      spend(32 + copy.byteLength / 64); // a slice allocates: jsfive makes a few per object
      return copy;
    };
    hdf5.Filters.set(DEFLATE, (chunk) => inflateAtMost(chunk, budget.reading, spend));
    console.warn = console.log = () => {};
    const value = read(budget);
    if (left < 0) throw exhausted(); // jsfive caught the error and went on
    return value;
  } catch (e) {
    if (e instanceof BpttError) throw e;
    throw new DataError(expected(where, 'a readable HDF5 file', `a damaged or unsupported one (${reason(e)})`));
  } finally {
    GETTERS.forEach((g, i) => (view[g] = saved[i]!));
    ArrayBuffer.prototype.slice = slice;
    hdf5.Filters.set(DEFLATE, gzip);
    Object.assign(console, { warn, log });
  }
}

/** A zlib chunk of the dataset being read, inflated to at most its chunk size; each 4 bytes out spend a unit. */
function inflateAtMost(chunk: ArrayBuffer, reading: ReadBudget['reading'], spend: (n: number) => void): ArrayBuffer {
  if (!reading) throw 'a compressed chunk outside the datasets read';
  const parts: Uint8Array[] = [];
  let size = 0;
  const inflater = new Inflate();
  inflater.onData = (part) => {
    size += part.length;
    if (size > reading.chunkBytes + FLETCHER32_BYTES) {
      const what = `chunks that inflate to at most ${reading.chunkBytes} bytes (the chunk size)`;
      throw new DataError(expected(reading.where, what, 'one that inflates further'));
    }
    spend(part.length / 4); // as much as reading the numbers it holds
    parts.push(part);
  };
  inflater.push(new Uint8Array(chunk), true);
  if (inflater.err) throw `zlib: ${inflater.msg}`; // as jsfive's inflater throws
  const out = new Uint8Array(size);
  parts.reduce((at, part) => (out.set(part, at), at + part.length), 0);
  return out.buffer;
}

/** What went wrong, in a few words (jsfive's assertions fail as TypeErrors that say nothing useful). */
function reason(e: unknown): string {
  if (e instanceof TypeError) return 'a structure jsfive does not know';
  const text = (e instanceof Error ? e.message : typeof e === 'string' ? e : show(e)).replace(/\s+/g, ' ');
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}
