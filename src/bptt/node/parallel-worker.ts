/**
 * The worker side of `DataParallel` (started by parallel.ts; not an entry for users).
 *
 * Builds a replica of the model from the user's module, points its parameter
 * values at the shared buffers (so it always sees the main thread's weights),
 * and runs its own `Bptt` over its rows of each batch. Its engine never steps:
 * at every update its GradientSync publishes the local gradient, loss and
 * terms, wakes the main thread, and waits until the main thread has finished
 * the update (applied, skipped by the guard, or empty) before the next window
 * reads the weights.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Variable } from '../../autograd/index.js';
import { setBackend } from '../../kernels/index.js';
import { ConfigError, Tensor, expected, listOf, quoted, sameShape, show, textOf, type Arr } from '../../tensor/index.js';
import { Bptt, type GradientSync, type LossTerms } from '../engine.js';
import type { Unrollable } from '../unrolled.js';
import {
  CTRL, decodeBatch, decodeState, describeError, encodeState, publishFailure, viewOf,
  type StateMessage, type ToWorker, type WorkerInit,
} from './parallel-protocol.js';

/** What a replica module's `createReplica(config)` returns (possibly as a promise). */
export interface Replica<B, S> {
  model: Unrollable<B, S>;
  /** in the same order, with the same shapes, as the main thread's `parameters` */
  parameters: readonly Variable[];
}

const init = workerData as WorkerInit;
const control = new Int32Array(init.control);
const errorText = new Uint8Array(init.errorText);
const fail = (message: string): void => publishFailure(control, errorText, message);
const where = `DataParallel worker ${init.shard}`;

// A worker that ends for any reason other than close() must not leave the main thread waiting.
process.on('exit', (code) => {
  if (Atomics.load(control, CTRL.STOP) === 0) fail(`${where} exited (code ${code})`);
});

class PublishingSync implements GradientSync {
  private updates = 0;
  private readonly grads: Arr[];
  private readonly hasGrad = new Int32Array(init.hasGrad);
  private readonly stats = new Float64Array(init.stats);

  constructor(private readonly params: readonly Variable[]) {
    this.grads = params.map((p) => p.gradHome!); // the shared gradient views attach() gave them
  }

  reduce(local: LossTerms): null {
    this.params.forEach((p, i) => {
      this.hasGrad[i] = p.grad ? 1 : 0;
      if (p.grad && p.grad.data !== this.grads[i]) this.grads[i]!.set(p.grad.data); // usually computed in place (gradHome)
    });
    this.stats[0] = local.loss;
    this.stats[1] = local.terms;
    const n = ++this.updates;
    Atomics.store(control, CTRL.GRADS, n); // publishes the writes above
    Atomics.notify(control, CTRL.GRADS);
    // Wait for the main thread to finish this update: the next window must read the new weights.
    while (Atomics.load(control, CTRL.APPLIED) < n) {
      if (Atomics.load(control, CTRL.STOP) !== 0) throw new ConfigError(`${where}: closed during an update`);
      Atomics.wait(control, CTRL.APPLIED, Atomics.load(control, CTRL.APPLIED), 1000);
    }
    return null; // the main thread applied the update; its report is the one that counts
  }
}

function attach(params: readonly Variable[]): void {
  if (!Array.isArray(params) || params.length !== init.specs.length) {
    throw new ConfigError(expected(`${where}: createReplica`, `${init.specs.length} parameters, as on the main thread`, Array.isArray(params) ? `${params.length}` : textOf(params)));
  }
  params.forEach((p, i) => {
    const s = init.specs[i]!;
    if (!sameShape(p.shape, s.shape) || p.dtype !== s.dtype || (p.name && s.name && p.name !== s.name)) {
      throw new ConfigError(expected(`${where}: parameter ${i}`,
        `${quoted(s.name)} ${s.dtype} [${s.shape.join(', ')}] as on the main thread`,
        `${quoted(p.name)} ${p.dtype} [${p.shape.join(', ')}]`,
        'build the replica exactly like the main model, parameters in the same order'));
    }
    p.value = new Tensor(s.shape, viewOf(init.params, { ...s, offset: init.paramOffsets[i]! })); // the main thread's weights, not a copy
    p.grad = null;
    p.gradHome = viewOf(init.grads, s); // gradients accumulate where the main thread reads them
  });
}

interface Running {
  engine: Bptt<unknown, unknown>;
  model: Unrollable<unknown, unknown>;
}

async function start(): Promise<Running> {
  const mod = (await import(init.moduleUrl)) as { createReplica?: (config: unknown) => Replica<unknown, unknown> | Promise<Replica<unknown, unknown>> };
  if (typeof mod.createReplica !== 'function') {
    throw new ConfigError(expected(`${where}: ${init.moduleUrl}`, 'a module exporting createReplica(config)',
      `exports ${listOf(Object.keys(mod))}`));
  }
  setBackend(init.backend);
  const replica = await mod.createReplica(init.config);
  attach(replica.parameters);
  const engine = new Bptt({
    model: replica.model,
    parameters: replica.parameters,
    optimizer: { step() {} },
    strategy: init.strategy,
    stateful: init.stateful,
    clipNorm: null,
    nanGuard: false, // the main thread guards the reduced gradient
    sync: new PublishingSync(replica.parameters),
  });
  return { engine, model: replica.model };
}

function onMessage({ engine, model }: Running, msg: ToWorker): void {
  if (Atomics.load(control, CTRL.STATUS) !== 0) return; // already failed: the main thread knows
  try {
    if (msg.type === 'resetState') {
      engine.resetState();
      return;
    }
    if (msg.type === 'getState') {
      parentPort!.postMessage({ type: 'state', state: encodeState(engine.state) } satisfies StateMessage);
      return;
    }
    if (msg.type === 'setState') {
      engine.setState(decodeState(msg.state));
      return;
    }
    const batch = decodeBatch(msg.batch);
    const steps = model.steps(batch);
    if (steps !== msg.steps) {
      throw new ConfigError(expected(`${where}: model.steps(shard)`, `${msg.steps} steps, as the main thread's shard`,
        show(steps)));
    }
    engine.trainBatch(batch, msg.reset ? { reset: msg.reset } : {});
  } catch (e) {
    fail(`${where}: ${describeError(e)}`);
  }
}

try {
  const running = await start();
  parentPort!.on('message', (msg: ToWorker) => onMessage(running, msg));
  parentPort!.postMessage({ type: 'ready' });
} catch (e) {
  parentPort!.postMessage({ type: 'error', message: `${where}: ${describeError(e)}` });
}
