/**
 * Data parallelism over the batch, Node only (worker_threads): `DataParallel`.
 * Export it from `src/node.ts`, never from the browser-safe `src/index.ts`.
 *
 * The batch rows are split into shards. The main thread trains shard 0 with its
 * own `Bptt`; each worker thread holds a replica of the model, built by the
 * user's replica module, whose parameter values are views on the main thread's
 * weights (moved into SharedArrayBuffers at start), and trains one other shard
 * with the same strategy and stateful setting. At each update (every window of
 * every strategy) the workers publish their gradients, loss and number of
 * terms into shared buffers; the main thread waits for them, forms the
 * gradient of the global mean loss, (Σ tᵢ·gᵢ) / Σ tᵢ, then guards, clips and
 * steps as a single-threaded engine would, and lets the workers go on. One
 * round trip per update, no copy of the weights; the result equals
 * single-threaded training on the whole batch up to float rounding.
 */
import { availableParallelism } from 'node:os';
import { pathToFileURL } from 'node:url';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { Variable } from '../../autograd/index.js';
import { kernels, residentZeros, wasmBackend } from '../../kernels/index.js';
import {
  ConfigError, Tensor, expected, listOf, quoted, rejectUnknownOptions, sameShape, show, type Arr,
} from '../../tensor/index.js';
import { Bptt, bpttFlags, type BpttOptions, type UpdateReport } from '../engine.js';
import {
  CTRL, ERROR_BYTES, WorkerError, decodeState, encodeBatch, encodeState, layoutParams, shardFlags, viewOf,
  type ParamSpec, type StateMessage, type ToWorker, type WorkerInit,
} from './parallel-protocol.js';
import { ReducingSync, WorkerSlot, ready } from './parallel-slots.js';
import { validateStrategy } from '../strategy.js';

export { WorkerError, rowRange, shardTensor, shardFlags, sliceRows } from './parallel-protocol.js';
export type { Replica } from './parallel-worker.js';

/**
 * The replica module, imported by every worker (and by the main thread, for
 * `shard`): `createReplica(config)` builds the same model as the main thread's
 * (parameters in the same order and shapes; their values are replaced by the
 * shared ones, so initialisation does not matter), and `shard(batch, index,
 * count)` returns rows [⌊index·B/count⌋, ⌊(index+1)·B/count⌋) of a batch
 * (`shardTensor` does it for a Tensor; reset flags are split the same way).
 * Shards are posted to the workers: they may hold Tensors, typed arrays, plain
 * objects, arrays and primitives, not functions or other class instances.
 */
export interface ReplicaModule<B> {
  createReplica(config: unknown): unknown;
  shard(batch: B, index: number, count: number): B;
}

export interface DataParallelOptions<B, S> extends Omit<BpttOptions<B, S>, 'sync'> {
  /** the replica module: a file URL, or an absolute path */
  module: string | URL;
  /** JSON-able, passed to createReplica in every worker */
  config?: unknown;
  /** worker threads besides the main thread (default: os.availableParallelism() - 1; 0 trains on the main thread only) */
  workers?: number;
  /** how long the main thread waits for a worker's gradients, in ms (default 300,000) */
  timeoutMs?: number;
}

const KNOWN = [
  'model', 'parameters', 'optimizer', 'strategy', 'stateful', 'clipNorm', 'nanGuard', 'maxConsecutiveSkips',
  'recorder', 'module', 'config', 'workers', 'timeoutMs',
];

/**
 * Trains a model data-parallel over the batch rows on worker threads (Node).
 * `await DataParallel.start(options)`, then `trainBatch` as with `Bptt`, and
 * `await close()` at the end. The model's parameters are moved into
 * SharedArrayBuffers at start: anything that kept a reference to their old
 * arrays (rather than reading `param.value` when it needs it) must be created
 * after start.
 */
export class DataParallel<B, S> {
  readonly engine: Bptt<B, S>;
  private readonly model: BpttOptions<B, S>['model'];
  private readonly stateful: boolean;
  private readonly params: readonly Variable[];
  /** the shared arrays each parameter's value must be a view of */
  private readonly shared: Arr[];
  private broken: Error | null = null;
  private closed = false;

  private constructor(
    options: DataParallelOptions<B, S>,
    private readonly module: ReplicaModule<B>,
    private readonly slots: WorkerSlot[],
    timeoutMs: number,
    private readonly specs: ParamSpec[] = [],
  ) {
    const { module: _m, config: _c, workers: _w, timeoutMs: _t, ...bptt } = options;
    const sync = slots.length ? new ReducingSync(options.parameters, slots, timeoutMs) : null;
    this.engine = new Bptt({ ...bptt, sync });
    this.model = options.model;
    this.stateful = !!options.stateful;
    this.params = options.parameters;
    this.shared = slots.length ? this.params.map((p) => p.value.data) : [];
  }

  static async start<B, S>(options: DataParallelOptions<B, S>): Promise<DataParallel<B, S>> {
    rejectUnknownOptions('DataParallel', options, KNOWN);
    const { stateful } = bpttFlags('DataParallel', options);
    const workers = options.workers ?? Math.max(0, availableParallelism() - 1);
    if (!Number.isInteger(workers) || workers < 0) {
      throw new ConfigError(expected('DataParallel', 'workers an integer >= 0', show(workers)));
    }
    const timeoutMs = options.timeoutMs ?? 300_000;
    if (!(timeoutMs > 0)) throw new ConfigError(expected('DataParallel', 'timeoutMs > 0', show(timeoutMs)));
    const strategy = validateStrategy(options.strategy ?? { kind: 'full' });
    const params = options.parameters;
    if (!params?.length) throw new ConfigError(expected('DataParallel', 'a non-empty parameters list', params?.length ?? 'none'));
    if (new Set(params).size !== params.length) throw new ConfigError(expected('DataParallel', 'each parameter once', 'a repeated parameter'));

    const url = options.module instanceof URL ? options.module.href : /^[a-z]+:/i.test(options.module) ? options.module : pathToFileURL(options.module).href;
    const module = (await import(url)) as Partial<ReplicaModule<B>>;
    if (typeof module.shard !== 'function' || typeof module.createReplica !== 'function') {
      throw new ConfigError(expected(`DataParallel: ${url}`,
        'a module exporting createReplica(config) and shard(batch, index, count)',
        `exports ${listOf(Object.keys(module))}`));
    }
    if (workers === 0) return new DataParallel(options, module as ReplicaModule<B>, [], timeoutMs);

    const { specs, bytes } = layoutParams(params);
    const { shared, offsets } = shareParameters(params);
    const slots: WorkerSlot[] = [];
    try {
      for (let w = 0; w < workers; w++) {
        const init: WorkerInit = {
          moduleUrl: url, config: options.config ?? null, specs, params: shared, paramOffsets: offsets,
          grads: new SharedArrayBuffer(bytes), hasGrad: new SharedArrayBuffer(4 * params.length), stats: new SharedArrayBuffer(16),
          control: new SharedArrayBuffer(4 * CTRL.WORDS), errorText: new SharedArrayBuffer(ERROR_BYTES),
          strategy, stateful, shard: w + 1, shards: workers + 1, backend: kernels().name,
        };
        const worker = new Worker(new URL('./parallel-worker.js', import.meta.url), { workerData: init });
        slots.push(new WorkerSlot(worker, w + 1, init));
      }
      await Promise.all(slots.map(ready));
    } catch (e) {
      await Promise.all(slots.map((s) => s.close()));
      throw e;
    }
    // Workers must not keep the process alive: the main thread only needs them inside trainBatch.
    for (const s of slots) s.worker.unref();
    return new DataParallel(options, module as ReplicaModule<B>, slots, timeoutMs, specs);
  }

  /** Worker threads besides the main thread. */
  get workers(): number {
    return this.slots.length;
  }

  /** The main thread's carried state (its shard's rows). */
  get state(): S | null {
    return this.engine.state;
  }

  /** Continues a saved run's update count, as `Bptt.continueFrom` (the main thread numbers the guard's messages). */
  continueFrom(updates: number): void {
    this.engine.continueFrom(updates);
  }

  /** Forgets the carried state on every thread. */
  resetState(): void {
    this.usable();
    this.engine.resetState();
    for (const s of this.slots) s.worker.postMessage({ type: 'resetState' } satisfies ToWorker);
  }

  /** Every shard's carried state, the main thread's first (null where none): what a checkpoint saves. */
  async carriedStates(): Promise<Array<S | null>> {
    this.usable();
    const theirs = await Promise.all(this.slots.map(async (s) => {
      const reply = once(s.worker, 'message') as Promise<[StateMessage]>;
      s.worker.ref(); // an unref'd worker's answer would not keep the process waiting
      try {
        s.worker.postMessage({ type: 'getState' } satisfies ToWorker);
        const [m] = await reply;
        return decodeState(m.state) as S | null;
      } finally {
        s.worker.unref();
      }
    }));
    return [this.engine.state, ...theirs];
  }

  /** Restores what carriedStates returned (one entry per shard, same order). */
  setCarriedStates(states: ReadonlyArray<S | null>): void {
    this.usable();
    if (states.length !== this.slots.length + 1) {
      throw new ConfigError(expected('DataParallel.setCarriedStates', `${this.slots.length + 1} states, one per shard`, states.length));
    }
    this.engine.setState(states[0]!);
    this.slots.forEach((s, i) => s.worker.postMessage({ type: 'setState', state: encodeState(states[i + 1]) } satisfies ToWorker));
  }

  /**
   * Trains on one batch, as `Bptt.trainBatch`: the reports carry the global
   * loss, terms and gradient norm (the flow record, if any, and the NaN guard's
   * replay see the main thread's rows only). After an error during the update
   * (a worker failed, the model threw) the threads are out of step and the
   * trainer refuses further batches; errors found before (a batch that cannot
   * be split or posted) leave it usable.
   */
  trainBatch(batch: B, options: { reset?: ArrayLike<number | boolean> } = {}): UpdateReport[] {
    this.usable();
    if (this.slots.length === 0) return this.engine.trainBatch(batch, options);
    if (options.reset && !this.stateful) {
      throw new ConfigError(expected('DataParallel.trainBatch', 'reset only in stateful mode', 'reset flags', 'set stateful: true'));
    }
    // Until the shards are posted nothing has happened on any thread: an error there (a bad batch) leaves the trainer usable.
    for (const s of this.slots) s.check();
    this.reshare();
    const count = this.slots.length + 1;
    const shards = Array.from({ length: count }, (_, i) => this.module.shard(batch, i, count));
    const resets = options.reset ? shards.map((_, i) => shardFlags(options.reset!, i, count)) : null;
    const steps = this.model.steps(shards[0]!);
    const messages = this.slots.map((s) => ({ type: 'batch', batch: encodeBatch(shards[s.index]), reset: resets?.[s.index] ?? null, steps }) satisfies ToWorker);
    try {
      this.slots.forEach((s, i) => s.worker.postMessage(messages[i]));
      return this.engine.trainBatch(shards[0]!, resets ? { reset: resets[0]! } : {});
    } catch (e) {
      // The threads are now out of step (a worker may wait for an update that will not come).
      this.broken = e instanceof Error ? e : new Error(String(e));
      throw e;
    }
  }

  /** Ends the worker threads (the main thread's model keeps its shared weights). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.close()));
  }

  /**
   * A parameter whose value was replaced since start (loadStateDict, a
   * checkpoint) would leave the workers on the old weights: copy the new values
   * into the shared buffer and point the parameter back at it.
   */
  private reshare(): void {
    this.params.forEach((p, i) => {
      const view = this.shared[i]!;
      if (p.value.data === view) return;
      const spec = this.specs[i]!;
      if (p.dtype !== spec.dtype || !sameShape(p.shape, spec.shape)) {
        throw new ConfigError(expected(`DataParallel: parameter ${i} (${quoted(p.name)})`,
          `${spec.dtype} [${spec.shape.join(', ')}] as at start`, `${p.dtype} [${p.shape.join(', ')}]`));
      }
      view.set(p.value.data);
      p.value = new Tensor(spec.shape, view);
    });
  }

  private usable(): void {
    if (this.closed) throw new ConfigError(expected('DataParallel', 'an open trainer', 'a closed one'));
    if (this.broken) {
      throw new WorkerError(`DataParallel: unusable after an earlier error (${this.broken.message.split('\n')[0]}); close() it and start a new one`);
    }
  }

}

/**
 * Moves each parameter's values into shared memory (the old arrays are no
 * longer the parameters'): into the main thread's wasm memory when it is
 * shared, so the optimizer and the kernels use the weights in place, or else
 * into a SharedArrayBuffer of their own. Returns the buffer the workers view
 * and each parameter's byte offset in it.
 */
function shareParameters(params: readonly Variable[]): { shared: SharedArrayBuffer; offsets: number[] } {
  const w = wasmBackend();
  const resident = params.map((p) => residentZeros(p.value.size, p.dtype));
  const inWasm = !!w && resident.every((a) => w.isResident(a));
  const { specs, bytes } = layoutParams(params);
  // The newest generation of a shared wasm memory covers every block allocated so far.
  const shared = inWasm ? (w.memory.buffer as SharedArrayBuffer) : new SharedArrayBuffer(bytes);
  const views = inWasm ? resident : specs.map((s) => viewOf(shared, s));
  params.forEach((p, i) => {
    views[i]!.set(p.value.data);
    p.value = new Tensor(p.shape, views[i]!);
  });
  return { shared, offsets: views.map((v) => v.byteOffset) };
}
