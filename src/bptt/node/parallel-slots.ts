/**
 * The main thread's side of each worker of `DataParallel` (Node only): its
 * slot of shared buffers and its health, the gradient reduction run at every
 * update, and the wait for a worker to start.
 */
import type { Worker } from 'node:worker_threads';
import type { Variable } from '../../autograd/index.js';
import type { Arr } from '../../tensor/index.js';
import type { GradientSync, LossTerms } from '../engine.js';
import { CTRL, WorkerError, readFailure, viewOf, type WorkerInit } from './parallel-protocol.js';

/** One worker thread and its shared buffers. */
export class WorkerSlot {
  readonly control: Int32Array;
  readonly errorText: Uint8Array;
  readonly grads: Arr[];
  readonly hasGrad: Int32Array;
  readonly stats: Float64Array;
  /** why the worker stopped, from its 'error' / 'exit' events (seen only while the main thread is not blocked) */
  failure: string | null = null;
  closing = false;

  constructor(readonly worker: Worker, readonly index: number, init: WorkerInit) {
    this.control = new Int32Array(init.control);
    this.errorText = new Uint8Array(init.errorText);
    this.grads = init.specs.map((s) => viewOf(init.grads, s));
    this.hasGrad = new Int32Array(init.hasGrad);
    this.stats = new Float64Array(init.stats);
    worker.on('error', (e) => (this.failure ??= `DataParallel worker ${index}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`));
    worker.on('exit', (code) => {
      if (!this.closing) this.failure ??= `DataParallel worker ${index} exited (code ${code})`;
    });
  }

  /** Throws WorkerError when the worker failed. */
  check(): void {
    if (Atomics.load(this.control, CTRL.STATUS) !== 0) throw new WorkerError(readFailure(this.control, this.errorText));
    if (this.failure) throw new WorkerError(this.failure);
  }

  /** Blocks until the worker has published the gradients of update n. */
  waitForGrads(n: number, timeoutMs: number): void {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const seen = Atomics.load(this.control, CTRL.GRADS);
      if (seen >= n) return;
      this.check();
      const left = deadline - performance.now();
      if (left <= 0) {
        throw new WorkerError(`DataParallel worker ${this.index}: no gradients for update ${n} after ${timeoutMs} ms (raise timeoutMs if one update really takes this long)`);
      }
      Atomics.wait(this.control, CTRL.GRADS, seen, Math.min(left, 1000));
    }
  }

  release(n: number): void {
    Atomics.store(this.control, CTRL.APPLIED, n);
    Atomics.notify(this.control, CTRL.APPLIED);
  }

  async close(): Promise<void> {
    this.closing = true;
    Atomics.store(this.control, CTRL.STOP, 1);
    Atomics.notify(this.control, CTRL.APPLIED);
    await this.worker.terminate();
  }
}

/** The main thread's side of each update: wait for every worker, average by terms, release them after the step. */
export class ReducingSync implements GradientSync {
  private updates = 0;

  constructor(private readonly params: readonly Variable[], private readonly slots: readonly WorkerSlot[], private readonly timeoutMs: number) {}

  /** the shards' losses and terms of the current update (main thread first) */
  private losses: number[] = [];
  private terms: number[] = [];

  reduce(local: LossTerms): LossTerms {
    const n = ++this.updates;
    for (const s of this.slots) s.waitForGrads(n, this.timeoutMs);
    const terms = this.slots.map((s) => s.stats[1]!);
    const losses = this.slots.map((s) => s.stats[0]!);
    this.losses = [local.loss, ...losses];
    this.terms = [local.terms, ...terms];
    const total = terms.reduce((a, t) => a + t, local.terms);
    if (total === 0) {
      for (const p of this.params) p.zeroGrad();
      return { loss: NaN, terms: 0 };
    }
    let loss = local.terms > 0 ? local.loss * local.terms : 0;
    terms.forEach((t, w) => (loss += t > 0 ? losses[w]! * t : 0));
    const own = local.terms / total;
    this.params.forEach((p, i) => {
      const xs: Arr[] = [];
      const as: number[] = [];
      this.slots.forEach((s, w) => {
        if (terms[w]! > 0 && s.hasGrad[i] === 1) {
          xs.push(s.grads[i]!);
          as.push(terms[w]! / total);
        }
      });
      if (!p.grad && xs.length === 0) return; // no shard reached it: stays null, as single-threaded
      combine(p.gradData(), own, xs, as); // gradData: zeros when this shard had no gradient for it
    });
    return { loss: loss / total, terms: total };
  }

  afterUpdate(): void {
    for (const s of this.slots) s.release(this.updates);
  }

  /** Names the worker whose rows gave a non-finite loss (the main thread's own rows are replayed by the engine). */
  explain(): string | null {
    if (this.terms[0]! > 0 && !Number.isFinite(this.losses[0]!)) return null;
    const w = this.losses.findIndex((l, i) => i > 0 && this.terms[i]! > 0 && !Number.isFinite(l));
    return w > 0 ? `the non-finite loss came from the rows of worker ${w} (shard ${w}; the main thread's rows are finite)` : null;
  }
}

/** g ← own·g + Σ as[k]·xs[k], in one pass for the usual single worker. */
function combine(g: Arr, own: number, xs: readonly Arr[], as: readonly number[]): void {
  const n = g.length;
  if (xs.length === 1) {
    const x = xs[0]!, a = as[0]!;
    if (g instanceof Float32Array && x instanceof Float32Array) return mix32(g, own, x, a);
    for (let j = 0; j < n; j++) g[j] = own * g[j]! + a * x[j]!;
    return;
  }
  if (own !== 1) for (let j = 0; j < n; j++) g[j] = own * g[j]!;
  xs.forEach((x, k) => {
    const a = as[k]!;
    for (let j = 0; j < n; j++) g[j] = g[j]! + a * x[j]!;
  });
}

/** The hot case of combine (float32 models, one worker), kept monomorphic for the JIT: g ← own·g + a·x. */
function mix32(g: Float32Array, own: number, x: Float32Array, a: number): void {
  for (let j = 0; j < g.length; j++) g[j] = own * g[j]! + a * x[j]!;
}

/** Resolves once the worker has built its replica; rejects with its error otherwise. */
export function ready(s: WorkerSlot): Promise<void> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: { type: string; message?: string }): void => {
      cleanup();
      if (m.type === 'ready') resolve();
      else reject(new WorkerError(m.message ?? `DataParallel worker ${s.index}: failed to start`));
    };
    const onError = (e: unknown): void => {
      cleanup();
      reject(new WorkerError(`DataParallel worker ${s.index} failed to start: ${e instanceof Error ? e.message : String(e)}`));
    };
    const onExit = (code: number): void => {
      cleanup();
      reject(new WorkerError(`DataParallel worker ${s.index} exited while starting (code ${code})`));
    };
    const cleanup = (): void => {
      s.worker.off('message', onMessage);
      s.worker.off('error', onError);
      s.worker.off('exit', onExit);
    };
    s.worker.on('message', onMessage);
    s.worker.on('error', onError);
    s.worker.on('exit', onExit);
  });
}
