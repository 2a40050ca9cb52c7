/**
 * The training runner: one loop for every task. Given a model the BPTT engine
 * can unroll (or a loss of a batch, for a model that is not recurrent), its
 * batches, an optimiser and a schedule, it owns the budget, the validation
 * cadence, early stopping, the best weights, clipping, the BPTT strategy, the
 * NaN guard and the events its callbacks hear: the idea of Keras `fit` and
 * Lightning's `Trainer`, with PyTorch's explicit objects. Browser-safe; files,
 * signals and worker threads come in as callbacks and engines (training/node).
 */
import type { Variable } from '../autograd/index.js';
import { Bptt, type BpttOptions, type FlowRecorder, type Strategy, type Unrollable, type UpdateReport } from
  '../bptt/index.js';
import { learningRate, validateSchedule, type Optimizer, type Schedule } from '../optim/index.js';
import { ConfigError, expected, rejectUnknownOptions, show, type Tensor } from '../tensor/index.js';
import { ShuffledBatches, type Batches, type Drawn } from './batches.js';
import { TimeBudget, validateBudget, type Budget } from './budget.js';
import { cadenceOf, type Cadence } from './cadence.js';
import type {
  BestValidated, Callback, FitResult, StoppedBy, UpdateEvent, Validation, ValidationEvent,
} from './events.js';
import type { RunProgress, RunState } from './state.js';

/** What the runner trains: parameters it can copy and restore. */
export interface Trainable {
  parameters(): Variable[];
  stateDict(): Map<string, Tensor>;
  loadStateDict(weights: ReadonlyMap<string, Tensor>): void;
  train?(): void;
  eval?(): void;
}

/** What runs the updates of a batch: the engine (`Bptt`), or data-parallel threads (`DataParallel`). */
export interface UpdateEngine<B, S> {
  trainBatch(batch: B, options?: { reset?: ArrayLike<number | boolean> }): UpdateReport[];
  continueFrom(updates: number): void;
  resetState(): void;
  /** the states carried into the next batch, one per thread (stateful training) */
  carriedStates?(): Promise<Array<S | null>>;
  setCarriedStates?(states: ReadonlyArray<S | null>): void;
  readonly state?: S | null;
  setState?(state: S | null): void;
  close?(): Promise<void>;
}

export interface FitOptions<B, S = unknown> {
  model: Trainable & Partial<Unrollable<B, S>>;
  /** the mean loss of a batch, for a model that is not unrolled (the engine then sees one step per batch) */
  loss?: (batch: B) => Variable;
  data: Batches<B> | readonly B[];
  optimizer: Optimizer;
  /** default: the optimiser's learning rate, constant */
  schedule?: Schedule;
  budget: Budget;
  /** scores the model (lower is better); the runner puts the model in eval mode around it */
  validate?: () => number | Validation;
  /** updates between validations, or `{ epochs }` (default: an epoch, at most 10 per step budget, >= 10 updates) */
  evalEvery?: number | { epochs: number };
  /** stop after this many validations in a row without an improvement of more than minDelta */
  patience?: number | null;
  minDelta?: number;
  /** put the best validated weights back at the end (default true) */
  restoreBest?: boolean;
  clip?: number | null;
  bptt?: Strategy;
  stateful?: boolean;
  nanGuard?: boolean;
  maxConsecutiveSkips?: number | null;
  recorder?: FlowRecorder | null;
  /** builds the engine from the runner's settings (default: `new Bptt(options)`); e.g. `dataParallel(...)` */
  engine?: (options: BpttOptions<B, S>) => UpdateEngine<B, S> | Promise<UpdateEngine<B, S>>;
  callbacks?: ReadonlyArray<Callback<Trainer<B, S>>>;
  /** seed of the order of an array of batches */
  seed?: number;
  /** the clock in ms (default performance.now) and when the run began on it (default: now); `time` counts from it */
  clock?: () => number;
  startedAt?: number;
  /**
   * What a validation scores (tokens, windows): until one is measured, the time budget expects it to cost
   * half of training on as many items; without it, 5% of the budget.
   */
  validationItems?: number;
  /** kept at the end of a time budget for the summary, a sample and exiting (default: 2% of it) */
  reserveMs?: number;
  /** work after the run that the time budget includes, in validations' worth (e.g. a test set decoded twice) */
  afterwards?: number;
}

const KNOWN = ['model', 'loss', 'data', 'optimizer', 'schedule', 'budget', 'validate', 'evalEvery', 'patience',
  'minDelta', 'restoreBest', 'clip', 'bptt', 'stateful', 'nanGuard', 'maxConsecutiveSkips', 'recorder', 'engine',
  'callbacks', 'seed', 'clock', 'startedAt', 'validationItems', 'reserveMs', 'afterwards'];

/** Trains `options.model` to the end of its budget (or early stopping); see `Trainer`. */
export async function fit<B, S = unknown>(options: FitOptions<B, S>): Promise<FitResult> {
  return new Trainer(options).fit();
}

export class Trainer<B, S = unknown> {
  readonly data: Batches<B>;
  readonly budget: { steps: number | null; epochs: number | null; time: number | null };
  readonly schedule: Schedule;
  readonly cadence: Cadence;
  private engine: UpdateEngine<B, S> | null = null;
  private readonly clock: () => number;
  private readonly start: number;
  private time: TimeBudget | null = null;
  private progressNow = 0;
  private stopReason: string | null = null;
  private bestWeights: BestValidated | null = null;
  private p: RunProgress = {
    updates: 0, batches: 0, items: 0, trainMs: 0, elapsedMs: 0, validations: 0, validatedAt: null, sinceBest: 0,
    best: null, last: null,
  };
  private earlier = { elapsedMs: 0, updates: 0 };

  constructor(readonly options: FitOptions<B, S>) {
    const where = 'fit';
    if (options === null || typeof options !== 'object') {
      throw new ConfigError(expected(where, 'options', show(options)));
    }
    rejectUnknownOptions(where, options, KNOWN);
    const { model, loss } = options;
    if (!model || typeof model.parameters !== 'function') {
      throw new ConfigError(expected(where, 'a model', show(model)));
    }
    if (!loss && (typeof model.unroll !== 'function' || typeof model.steps !== 'function')) {
      throw new ConfigError(expected(where, 'a model the engine can unroll (steps, unroll) or a loss(batch)',
        'neither'));
    }
    this.data = Array.isArray(options.data)
      ? new ShuffledBatches(options.data as readonly B[], options.seed ?? 0)
      : (options.data as Batches<B>);
    if (!this.data || typeof this.data.next !== 'function') {
      throw new ConfigError(expected(where, 'data: batches or an array of batches', show(options.data)));
    }
    this.budget = validateBudget(where, options.budget ?? {});
    this.schedule = validateSchedule(options.schedule ?? { kind: 'constant', lr: options.optimizer.lr, warmup: 0,
      floor: 0 }, `${where}: schedule`);
    this.cadence = cadenceOf(where, options.evalEvery, this.budget.steps, this.data.batchesPerEpoch);
    const { patience, minDelta } = options;
    if (patience != null && !(Number.isSafeInteger(patience) && patience >= 1)) {
      throw new ConfigError(expected(where, 'patience an integer >= 1 or null', show(patience)));
    }
    if (minDelta !== undefined && !(minDelta >= 0 && Number.isFinite(minDelta))) {
      throw new ConfigError(expected(where, 'minDelta >= 0', show(minDelta)));
    }
    if (patience != null && !options.validate) {
      throw new ConfigError(expected(where, 'a validate function for early stopping (patience)', 'none'));
    }
    this.clock = options.clock ?? (() => performance.now());
    this.start = options.startedAt ?? this.clock();
  }

  /** Where the run stands. */
  get progress(): Readonly<RunProgress> {
    return { ...this.p, elapsedMs: this.elapsed() };
  }

  /** The share of the budget spent, in [0, 1]. */
  get done(): number {
    return this.progressNow;
  }

  /** When a time budget ends on the clock, less what is kept for exiting (null: no time budget). */
  get deadline(): number | null {
    return (this.time ??= this.timeBudget())?.end ?? null;
  }

  get best(): BestValidated | null {
    return this.bestWeights;
  }

  /** Asks the run to stop after the current update (callbacks hear onInterrupt). */
  stop(reason: string): void {
    this.stopReason ??= reason;
  }

  /** Continues a saved run (before fit): its state, and the weights of its best validation (null when none). */
  async restore(state: RunState<S>, bestWeights: Map<string, Tensor> | null): Promise<void> {
    const engine = await this.ensureEngine();
    const best = state.progress.best;
    if (!best !== !bestWeights) {
      throw new ConfigError(expected('Trainer.restore', 'the best weights exactly when there is a best validation',
        best ? 'none' : 'weights'));
    }
    try {
      this.options.optimizer.loadStateDict(state.optimizer);
      this.data.setState(state.data);
      this.p = { ...state.progress };
      this.earlier = { elapsedMs: state.progress.elapsedMs, updates: state.progress.updates };
      this.bestWeights = best && bestWeights && { event: best, weights: bestWeights };
      engine.continueFrom(state.progress.updates); // the NaN guard numbers updates as an uninterrupted run
      if (this.options.stateful) this.setCarried(engine, state.carried);
    } catch (e) {
      this.engine = null; // a failed restore leaves no worker thread running
      await engine.close?.();
      throw e;
    }
  }

  /** Everything a checkpoint needs to continue exactly from here. */
  async snapshot(): Promise<RunState<S>> {
    const engine = await this.ensureEngine();
    const carried = !this.options.stateful ? [] : engine.carriedStates ? await engine.carriedStates()
      : [engine.state ?? null];
    return { progress: this.progress, data: this.data.getState(), optimizer: this.options.optimizer.stateDict(),
      carried };
  }

  async fit(): Promise<FitResult> {
    const engine = await this.ensureEngine();
    const { callbacks = [], validate } = this.options;
    this.time = this.timeBudget(); // from the restored run's elapsed time
    let stoppedBy: StoppedBy = 'budget';
    try {
      this.options.model.train?.();
      for (const c of callbacks) await c.onStart?.(this);
      this.progressNow = this.measure();
      while (this.progressNow < 1) {
        if (this.stopReason) {
          stoppedBy = 'stopped';
          break;
        }
        const event = this.step(engine);
        for (const c of callbacks) c.onUpdate?.(event, this);
        // not right after a skipped update: those weights may be diverging, and the saved run must stay good
        if (validate && !event.skipped && this.cadence.due(this.p) && this.progressNow < 1) {
          const v = await this.validation(false);
          if (this.patienceRanOut(v)) {
            stoppedBy = 'patience';
            break;
          }
        }
        await nextTick(); // lets signals and timers in
      }
      if (stoppedBy === 'stopped') {
        for (const c of callbacks) await c.onInterrupt?.(this.stopReason!, this);
        return this.result(stoppedBy);
      }
      if (validate && this.p.updates > 0 && this.p.validatedAt !== this.p.updates) await this.validation(true);
      if (this.options.restoreBest !== false && this.bestWeights) {
        this.options.model.loadStateDict(this.bestWeights.weights);
      }
      const result = this.result(stoppedBy);
      for (const c of callbacks) await c.onEnd?.(result, this);
      return result;
    } finally {
      await engine.close?.();
    }
  }

  private step(engine: UpdateEngine<B, S>): UpdateEvent {
    const { optimizer } = this.options;
    const t0 = this.clock();
    const drawn: Drawn<B> = this.data.next(this.progressNow);
    if (drawn.restart) engine.resetState();
    const lr = learningRate(this.schedule, this.p.updates + 1, this.progressNow);
    optimizer.lr = lr;
    const reports = engine.trainBatch(drawn.batch, drawn.reset ? { reset: drawn.reset } : {});
    const ms = this.clock() - t0;
    this.p.trainMs += ms;
    this.p.updates += reports.length;
    this.p.batches++;
    this.p.items += drawn.items ?? 1;
    this.time?.trained(ms, drawn.items ?? 1);
    this.progressNow = this.measure();
    const counted = reports.filter((r) => r.terms > 0 && !r.skipped);
    const terms = counted.reduce((a, r) => a + r.terms, 0);
    const last = reports[reports.length - 1]!;
    return {
      update: this.p.updates, epoch: this.data.epoch, lr, progress: this.progressNow,
      loss: terms ? counted.reduce((a, r) => a + r.loss * r.terms, 0) / terms : NaN,
      gradNorm: last.gradNorm, clipped: reports.some((r) => r.clipped),
      skipped: reports.find((r) => r.skipped)?.skipped ?? null,
      items: this.p.items, trainMs: this.p.trainMs, elapsedMs: this.elapsed(), etaSeconds: this.eta(),
    };
  }

  /** Validates (and lets callbacks save); its cost, callbacks included, is what the time budget sets aside. */
  private async validation(final: boolean): Promise<ValidationEvent> {
    const { model, validate, minDelta = 0, callbacks = [] } = this.options;
    const t0 = this.clock();
    model.eval?.();
    let v: number | Validation;
    try {
      v = validate!();
    } finally {
      model.train?.();
    }
    const { score, metrics = {} } = typeof v === 'number' ? { score: v } : v;
    if (!Number.isFinite(score)) throw new ConfigError(expected('fit: validate', 'a finite score', show(score)));
    const best = !this.p.best || score < this.p.best.score - minDelta;
    this.p.sinceBest = best ? 0 : this.p.sinceBest + 1;
    const event: ValidationEvent = {
      update: this.p.updates, epoch: this.data.epoch, score, metrics, best, sinceBest: this.p.sinceBest, final,
    };
    if (best) {
      this.p.best = event;
      this.bestWeights = { event, weights: new Map([...model.stateDict()].map(([k, t]) => [k, t.clone()])) };
    }
    this.p.last = event;
    this.p.validations++;
    this.p.validatedAt = this.p.updates;
    for (const c of callbacks) await c.onValidation?.(event, this);
    this.time?.validated(this.clock() - t0);
    return event;
  }

  private patienceRanOut(v: ValidationEvent): boolean {
    const { patience } = this.options;
    return patience != null && v.sinceBest >= patience;
  }

  /** The share of the budget spent: the largest of steps, epochs and (training) time. */
  private measure(): number {
    const { steps, epochs } = this.budget;
    let p = 0;
    if (steps) p = Math.max(p, this.p.updates / steps);
    if (epochs) p = Math.max(p, this.data.epoch / epochs);
    if (this.time) p = Math.max(p, this.time.progress(this.p.trainMs));
    return Math.min(1, p);
  }

  private eta(): number {
    const p = this.progressNow;
    if (this.time && this.budget.time) return Math.max(0, (this.budget.time * 1000 - this.elapsed()) / 1000);
    const sessionMs = this.elapsed() - this.earlier.elapsedMs;
    const sessionShare = p - (this.earlier.updates && this.budget.steps ? this.earlier.updates / this.budget.steps : 0);
    return p > 0 && sessionShare > 0 ? (sessionMs * (1 - p)) / sessionShare / 1000 : NaN;
  }

  private timeBudget(): TimeBudget | null {
    const { time } = this.budget;
    if (!time) return null;
    const ms = time * 1000;
    const { validate, validationItems, reserveMs = 0.02 * ms, afterwards } = this.options;
    return new TimeBudget({
      deadline: this.start + ms - this.earlier.elapsedMs, now: this.clock, reserveMs, validationItems, afterwards,
      guessMs: validate && !validationItems ? 0.05 * ms : 0, maxEndMs: ms / 2,
    });
  }

  private elapsed(): number {
    return this.earlier.elapsedMs + (this.clock() - this.start);
  }

  private result(stoppedBy: StoppedBy): FitResult {
    const p = this.progress;
    return {
      updates: p.updates, epoch: this.data.epoch, stoppedBy, reason: this.stopReason, best: p.best, last: p.last,
      trainMs: p.trainMs, elapsedMs: p.elapsedMs, items: p.items,
    };
  }

  private async ensureEngine(): Promise<UpdateEngine<B, S>> {
    if (this.engine) return this.engine;
    const o = this.options;
    const model: Unrollable<B, S> = o.loss ? lossModel(o.loss) : (o.model as unknown as Unrollable<B, S>);
    const settings: BpttOptions<B, S> = {
      model, parameters: o.model.parameters(), optimizer: o.optimizer, strategy: o.bptt ?? { kind: 'full' },
      stateful: o.stateful ?? false, clipNorm: o.clip ?? null, nanGuard: o.nanGuard ?? true,
      maxConsecutiveSkips: o.maxConsecutiveSkips === undefined ? 10 : o.maxConsecutiveSkips,
      recorder: o.recorder ?? null,
    };
    this.engine = o.engine ? await o.engine(settings) : new Bptt(settings);
    return this.engine;
  }

  private setCarried(engine: UpdateEngine<B, S>, carried: ReadonlyArray<S | null>): void {
    if (engine.setCarriedStates) engine.setCarriedStates(carried);
    else engine.setState?.(carried[0] ?? null);
  }
}

/** A model that is not recurrent, as the engine sees it: one step per batch, whose loss is the batch's mean. */
function lossModel<B, S>(loss: (batch: B) => Variable): Unrollable<B, S> {
  return {
    steps: () => 1,
    unroll: (batch, _from, _to, _state, wantLoss) => ({ state: null as S, loss: wantLoss ? loss(batch) : null,
      terms: 1 }),
  };
}

/** Node's setImmediate where there is one (a browser has none): lets signals and timers in between updates. */
const immediate = (globalThis as { setImmediate?: (f: () => void) => unknown }).setImmediate;
const nextTick = (): Promise<void> =>
  new Promise((resolve) => (immediate ? immediate(resolve) : setTimeout(resolve, 0)));
