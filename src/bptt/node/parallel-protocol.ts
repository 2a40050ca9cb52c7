/**
 * What the main thread and the workers of `DataParallel` share: the layout of
 * parameters and gradients in SharedArrayBuffers, the control words of the
 * update handshake, the batch codec and the row-split helpers. No node:
 * imports here: only parallel.ts and parallel-worker.ts are Node-only.
 */
import { Variable } from '../../autograd/index.js';
import { BpttError, DataError, Tensor, expected, type Arr, type DType } from '../../tensor/index.js';
import type { Strategy } from '../strategy.js';

/** A worker failed (threw, exited or timed out): the data-parallel trainer cannot continue. */
export class WorkerError extends BpttError {}

/** One parameter's place in the shared buffers (the same offsets in the parameter and gradient buffers). */
export interface ParamSpec {
  name: string;
  shape: number[];
  dtype: DType;
  /** byte offset */
  offset: number;
}

const ALIGN = 64;

/** Lays the parameters out one after another, each on a 64-byte boundary. */
export function layoutParams(params: readonly Variable[]): { specs: ParamSpec[]; bytes: number } {
  let bytes = 0;
  const specs = params.map((p) => {
    const offset = bytes;
    bytes += Math.ceil((p.value.size * (p.dtype === 'float64' ? 8 : 4)) / ALIGN) * ALIGN;
    return { name: p.name, shape: [...p.shape], dtype: p.dtype, offset };
  });
  return { specs, bytes: Math.max(bytes, ALIGN) };
}

export function viewOf(buffer: SharedArrayBuffer, spec: ParamSpec): Arr {
  const n = spec.shape.reduce((a, b) => a * b, 1);
  return spec.dtype === 'float64' ? new Float64Array(buffer, spec.offset, n) : new Float32Array(buffer, spec.offset, n);
}

/** Int32 control words, one block per worker. */
export const CTRL = {
  /** worker → main: number of updates whose gradients the worker has published */
  GRADS: 0,
  /** main → worker: number of updates the main thread has finished (applied, skipped or empty) */
  APPLIED: 1,
  /** worker → main: 0 healthy, 1 failed (message in the error text buffer) */
  STATUS: 2,
  /** main → worker: 1 when closing (a waiting worker returns) */
  STOP: 3,
  /** bytes of the error message */
  ERROR_LENGTH: 4,
  WORDS: 8,
} as const;

export const ERROR_BYTES = 16384;

/** What a worker gets in workerData. */
export interface WorkerInit {
  moduleUrl: string;
  config: unknown;
  /** each parameter's name, shape, type and place in `grads` */
  specs: ParamSpec[];
  /** each parameter's byte offset in `params` (the weights may sit inside a larger shared memory) */
  paramOffsets: number[];
  params: SharedArrayBuffer;
  grads: SharedArrayBuffer;
  /** Int32 per parameter: 1 when the worker's gradient of it is not null */
  hasGrad: SharedArrayBuffer;
  /** Float64 [loss, terms] of the worker's last update */
  stats: SharedArrayBuffer;
  control: SharedArrayBuffer;
  errorText: SharedArrayBuffer;
  strategy: Strategy;
  stateful: boolean;
  shard: number;
  shards: number;
  /** the main thread's kernel backend, used by the worker too */
  backend: string;
}

/** Messages main → worker (posted, in order). */
export type ToWorker =
  | { type: 'batch'; batch: unknown; reset: number[] | null; steps: number }
  | { type: 'resetState' }
  | { type: 'getState' }
  | { type: 'setState'; state: unknown };

/** A worker's answer to getState (posted). */
export interface StateMessage {
  type: 'state';
  state: unknown;
}

/** Writes a failure into the worker's error slot and wakes the main thread. */
export function publishFailure(control: Int32Array, errorText: Uint8Array, message: string): void {
  if (Atomics.load(control, CTRL.STATUS) !== 0) return;
  const bytes = new TextEncoder().encode(message);
  const n = Math.min(bytes.length, errorText.length);
  errorText.set(bytes.subarray(0, n));
  Atomics.store(control, CTRL.ERROR_LENGTH, n);
  Atomics.store(control, CTRL.STATUS, 1);
  Atomics.notify(control, CTRL.GRADS);
}

export function readFailure(control: Int32Array, errorText: Uint8Array): string {
  const n = Atomics.load(control, CTRL.ERROR_LENGTH);
  // TextDecoder refuses views on shared memory: copy out first.
  return new TextDecoder().decode(errorText.slice(0, n));
}

export function describeError(e: unknown): string {
  if (e instanceof Error) return e.stack && e.stack.includes(e.message) ? e.stack : `${e.name}: ${e.message}`;
  return String(e);
}

// ---- batches across threads ----

const TAG = '__bpttTensor';

/**
 * Prepares a batch for postMessage: Tensors (which structured cloning would
 * turn into plain objects) are tagged and rebuilt on the other side; typed
 * arrays, plain objects, arrays and primitives pass. Anything else (functions,
 * class instances) is refused with a clear error instead of arriving changed.
 */
export function encodeBatch(value: unknown, path = 'batch'): unknown {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function' || typeof value === 'symbol') throw notCloneable(path, typeof value);
    return value;
  }
  if (value instanceof Tensor) return { [TAG]: true, shape: [...value.shape], data: value.data };
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  if (Array.isArray(value)) return value.map((v, i) => encodeBatch(v, `${path}[${i}]`));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) throw notCloneable(path, `an instance of ${(value as object).constructor?.name ?? 'a class'}`);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeBatch(v, `${path}.${k}`)]));
}

export function decodeBatch(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return value;
  if (Array.isArray(value)) return value.map(decodeBatch);
  const o = value as Record<string, unknown>;
  if (o[TAG] === true) return new Tensor(o['shape'] as number[], o['data'] as Arr);
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, decodeBatch(v)]));
}

/** A carried state (a tree of Variables, or null) as something postMessage can clone. */
export function encodeState(state: unknown): unknown {
  const plain = (s: unknown): unknown =>
    s instanceof Variable ? s.value
      : Array.isArray(s) ? s.map(plain)
        : s && typeof s === 'object' ? Object.fromEntries(Object.entries(s).map(([k, v]) => [k, plain(v)])) : s;
  return encodeBatch(plain(state), 'state');
}

export function decodeState(value: unknown): unknown {
  const tree = (s: unknown): unknown =>
    s instanceof Tensor ? new Variable(s, false)
      : Array.isArray(s) ? s.map(tree)
        : s && typeof s === 'object' ? Object.fromEntries(Object.entries(s).map(([k, v]) => [k, tree(v)])) : s;
  return tree(decodeBatch(value));
}

function notCloneable(path: string, got: string): DataError {
  return new DataError(expected(`DataParallel: ${path}`, 'Tensors, typed arrays, plain objects, arrays or primitives (a batch is posted to the workers)', got,
    'describe per-step options with data, e.g. a first target step, not a function'));
}

// ---- splitting the batch by rows ----

/** Rows [lo, hi) of shard `index` out of `count` over `rows` rows: ⌊index·rows/count⌋ up to the next one. */
export function rowRange(rows: number, index: number, count: number): [number, number] {
  return [Math.floor((index * rows) / count), Math.floor(((index + 1) * rows) / count)];
}

/** Rows [lo, hi) along `axis` of a tensor (a copy), e.g. axis 1 of [T, B, F]. */
export function sliceRows(t: Tensor, axis: number, lo: number, hi: number): Tensor {
  const shape = [...t.shape];
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = shape[axis]!;
  shape[axis] = hi - lo;
  const out = Tensor.zeros(shape, t.dtype);
  const rowBlock = (hi - lo) * inner;
  for (let o = 0; o < outer; o++) out.data.set(t.data.subarray((o * n + lo) * inner, (o * n + hi) * inner), o * rowBlock);
  return out;
}

/** Shard `index` of `count` of a tensor split along its batch axis. */
export function shardTensor(t: Tensor, axis: number, index: number, count: number): Tensor {
  const [lo, hi] = rowRange(t.shape[axis]!, index, count);
  return sliceRows(t, axis, lo, hi);
}

/** Shard `index` of `count` of a per-row array (reset flags, token ids laid out [T, B] with `inner` = 1 per row). */
export function shardFlags(flags: ArrayLike<number | boolean>, index: number, count: number): number[] {
  const [lo, hi] = rowRange(flags.length, index, count);
  return Array.from({ length: hi - lo }, (_, i) => (flags[lo + i] ? 1 : 0));
}
