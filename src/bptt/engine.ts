import { add, scale, type Variable } from '../autograd/index.js';
import { gradNorm, scaleToNorm } from '../optim/index.js';
import { ConfigError, DataError, expected, requireBoolean, show } from '../tensor/index.js';
import { checkpointedGradient } from './checkpointed.js';
import type { FlowRecord, FlowRecorder } from './diagnostics.js';
import { SkipStreak, checkWeightsFinite, firstNonFinite, locateFirstBadStep } from './guard.js';
import { detachState, resetRows } from './state.js';
import { validateStrategy, windows, type Strategy, type Window } from './strategy.js';
import type { Unrollable } from './unrolled.js';

// Defined on their own so that guard.ts and checkpointed.ts need not import the engine; also exported here.
export type { Unrollable, Unrolled } from './unrolled.js';

/** Anything that updates parameters from their gradients (every Optimizer). */
export interface Stepper {
  step(): void;
}

/** A mean loss and the number of targets it averages over. */
export interface LossTerms {
  loss: number;
  terms: number;
}

/**
 * Joins the engine's updates with those of other engines that train the same
 * (shared) weights on other rows of the batch: data parallelism (see
 * `DataParallel` in `bptt/node`). Called once per update, in every window,
 * also those without targets.
 */
export interface GradientSync {
  /**
   * On entry each parameter's grad is the gradient of this engine's LOCAL mean
   * loss (null where nothing reached it; all null when `local.terms` is 0, and
   * `local.loss` is then NaN). On return it must be the gradient of the GLOBAL
   * mean loss, (Σ tᵢ·gᵢ) / Σ tᵢ over the shards, null only where every shard's
   * is null; returns the global mean loss and terms. The NaN guard, clipping
   * and the optimizer step then act on the global gradient.
   * Returns null instead when another thread applies the update (a worker's
   * sync): this engine then skips the norm, the clip and the step.
   */
  reduce(local: LossTerms): LossTerms | null;
  /** Called after the update was applied, skipped by the guard, or found empty (not when reduce threw). */
  afterUpdate?(): void;
  /**
   * When the NaN guard fires: where the non-finite values came from if not from
   * this engine's rows (e.g. another shard's loss), or null to replay this
   * engine's window as usual.
   */
  explain?(): string | null;
}

export interface BpttOptions<B, S> {
  model: Unrollable<B, S>;
  /** the parameters to clip, guard and zero */
  parameters: readonly Variable[];
  optimizer: Stepper;
  strategy?: Strategy;
  /** carry the final state of each batch into the next (detached: gradients stop at batch boundaries) */
  stateful?: boolean;
  /** clip the global gradient norm to this before each update */
  clipNorm?: number | null;
  /**
   * skip an update whose loss or gradients are not finite, leaving the weights
   * untouched (default true); a step that makes a weight non-finite is a DataError
   */
  nanGuard?: boolean;
  /** the guard's skips in a row that end training with a DataError (default 10; null: never) */
  maxConsecutiveSkips?: number | null;
  recorder?: FlowRecorder | null;
  /** data parallelism: combine each update's gradient with other shards' before the guard, clipping and step */
  sync?: GradientSync | null;
}

export interface UpdateReport {
  update: number;
  window: Window;
  /** mean loss per target over the window */
  loss: number;
  terms: number;
  /** global gradient norm before clipping (NaN when the guard fired) */
  gradNorm: number;
  clipped: boolean;
  /** why the NaN guard skipped this update, or null */
  skipped: string | null;
  flow: FlowRecord | null;
}

/** The engine's flags, checked: a JavaScript caller's `stateful: 'false'` is truthy. */
export function bpttFlags(
  where: string, o: { stateful?: unknown; nanGuard?: unknown },
): { stateful: boolean; nanGuard: boolean } {
  return {
    stateful: requireBoolean(where, 'stateful', o.stateful, false),
    nanGuard: requireBoolean(where, 'nanGuard', o.nanGuard, true),
  };
}

/**
 * The unrolling engine: every training loop in the project goes through it.
 * One call to trainBatch runs the strategy's updates over one batch.
 */
export class Bptt<B, S> {
  readonly strategy: Strategy;
  /** updates attempted, and those the NaN guard skipped */
  updates = 0;
  skippedUpdates = 0;
  private carried: S | null = null;
  private readonly streak: SkipStreak;
  private readonly flags: { stateful: boolean; nanGuard: boolean };

  constructor(private readonly options: BpttOptions<B, S>) {
    this.strategy = validateStrategy(options.strategy ?? { kind: 'full' });
    this.flags = bpttFlags('Bptt', options);
    this.streak = new SkipStreak(options.maxConsecutiveSkips);
    const c = options.clipNorm;
    if (c !== undefined && c !== null && !(c > 0)) {
      throw new ConfigError(expected('Bptt', 'clipNorm > 0 or null', show(c)));
    }
    if (!options.parameters?.length) {
      throw new ConfigError(expected('Bptt', 'a non-empty parameters list', options.parameters?.length ?? 'none'));
    }
  }

  /** The state carried into the next batch (stateful mode). */
  get state(): S | null {
    return this.carried;
  }

  /**
   * Continues the count of a run saved after `updates` updates (restoring a
   * checkpoint): the guard's messages number updates as an uninterrupted run's.
   */
  continueFrom(updates: number): void {
    if (!(Number.isSafeInteger(updates) && updates >= 0)) {
      throw new ConfigError(expected('Bptt.continueFrom', 'an update count (an integer >= 0)', updates));
    }
    this.updates = updates;
    this.streak.applied();
  }

  /** Sets the state carried into the next batch (restoring a checkpoint). */
  setState(state: S | null): void {
    this.carried = state && detachState(state);
  }

  /** Forget the carried state (a new stream starts). */
  resetState(): void {
    this.carried = null;
  }

  /**
   * Trains on one batch. In stateful mode, `reset` marks the batch rows where a
   * new document starts: their carried state is zeroed first.
   */
  trainBatch(batch: B, options: { reset?: ArrayLike<number | boolean> } = {}): UpdateReport[] {
    const T = this.options.model.steps(batch);
    if (!Number.isInteger(T) || T < 1) {
      throw new DataError(expected('Bptt.trainBatch', 'a batch of at least one step', show(T)));
    }
    if (options.reset && !this.flags.stateful) {
      throw new ConfigError(expected('Bptt.trainBatch', 'reset only in stateful mode', 'reset flags',
        'set stateful: true'));
    }
    let state = this.flags.stateful ? this.carried : null;
    if (state && options.reset) state = resetRows(state, options.reset);

    const reports: UpdateReport[] = [];
    if (this.strategy.kind === 'checkpointed') {
      const window: Window = { start: 0, lossFrom: 0, end: T, carryAt: null };
      this.beginUpdate(window);
      const s0 = state;
      const r = checkpointedGradient(this.options.model, batch, T, this.strategy, state, this.options.recorder ?? null);
      const locate = () => locateFirstBadStep(this.options.model, batch, window, s0);
      reports.push(this.finishUpdate(window, r.loss, r.terms, locate));
      state = r.state;
    } else {
      for (const w of windows(T, this.strategy)) {
        const r = this.runWindow(batch, w, state);
        reports.push(r.report);
        state = w.carryAt === null ? r.final : r.carry;
      }
    }
    if (this.flags.stateful) this.carried = state && detachState(state);
    return reports;
  }

  /** Forward over the window in stretches cut where the loss starts and where the next window's state is taken. */
  private runWindow(batch: B, w: Window, s0: S | null): { report: UpdateReport; carry: S | null; final: S | null } {
    const { model, recorder } = this.options;
    this.beginUpdate(w);
    const cuts = [...new Set([w.start, w.lossFrom, w.carryAt ?? w.start, w.end])]
      .filter((p) => p >= w.start && p <= w.end).sort((a, b) => a - b);
    let state = s0;
    let carry = w.carryAt === w.start ? s0 : null;
    let loss: Variable | null = null;
    let terms = 0;
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [a, b] = [cuts[i]!, cuts[i + 1]!];
      recorder?.beginSegment(a);
      const r = model.unroll(batch, a, b, state, a >= w.lossFrom);
      if (a >= w.lossFrom && r.loss) {
        loss = loss ? add(loss, r.loss) : r.loss;
        terms += r.terms;
      }
      state = r.state;
      if (b === w.carryAt) carry = detachState(state);
    }
    const mean = loss && terms > 0 ? scale(loss, 1 / terms) : null;
    mean?.backward();
    const locate = () => locateFirstBadStep(model, batch, w, s0);
    return { report: this.finishUpdate(w, mean ? mean.item() : NaN, terms, locate), carry, final: state };
  }

  private beginUpdate(w: Window): void {
    for (const p of this.options.parameters) p.zeroGrad();
    this.options.recorder?.beginUpdate(w.start, w.end - w.start);
  }

  /** Gradients are in place: reduce across shards (if any), then guard, clip, step, record. */
  private finishUpdate(window: Window, loss: number, terms: number, locate: () => string): UpdateReport {
    const sync = this.options.sync;
    if (!sync) return this.applyUpdate(window, loss, terms, locate);
    const global = sync.reduce({ loss, terms });
    try {
      if (!global) {
        const update = ++this.updates; // another thread applies it
        return { update, window, loss, terms, gradNorm: NaN, clipped: false, skipped: null, flow: null };
      }
      return this.applyUpdate(window, global.loss, global.terms, locate);
    } finally {
      sync.afterUpdate?.();
    }
  }

  private applyUpdate(window: Window, loss: number, terms: number, locate: () => string): UpdateReport {
    const { parameters, optimizer, clipNorm, recorder } = this.options;
    this.updates++;
    if (terms === 0) {
      // Nothing to learn from in this window (e.g. targets only at the end of the sequence).
      const flow = recorder?.endUpdate(this.updates, 0, false) ?? null;
      return { update: this.updates, window, loss: NaN, terms, gradNorm: 0, clipped: false, skipped: null, flow };
    }
    // One pass for the norm; it is finite exactly when every gradient is, so the guard looks closer only then.
    const measured = gradNorm(parameters);
    const suspect = this.flags.nanGuard && !(Number.isFinite(loss) && Number.isFinite(measured));
    const bad = suspect ? firstNonFinite(loss, parameters) : null;
    const reason = bad && `${bad}; ${this.options.sync?.explain?.() ?? locate()}`;
    const skipped = reason && `update ${this.updates}: ${reason}`;
    const norm = skipped ? NaN : measured;
    if (!skipped && clipNorm) scaleToNorm(parameters, clipNorm, measured);
    const clipped = !skipped && !!clipNorm && norm > clipNorm;
    if (reason) {
      for (const p of parameters) p.zeroGrad();
      this.skippedUpdates++;
      this.streak.skipped(this.updates, reason);
    } else {
      optimizer.step();
      if (this.flags.nanGuard) checkWeightsFinite(this.updates, parameters);
      this.streak.applied();
    }
    const flow = recorder?.endUpdate(this.updates, norm, clipped) ?? null;
    return { update: this.updates, window, loss, terms, gradNorm: norm, clipped, skipped, flow };
  }
}
