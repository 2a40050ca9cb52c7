/**
 * Training a forecaster: shuffled mini-batches of training windows, one full
 * BPTT update per batch through the engine (the recursive mode's error goes
 * back through every fed-back prediction), Adam with warm-up and cosine
 * decay over the budget, clipping, and validation that keeps the best weights.
 */
import { Bptt, type FlowRecorder } from '../../bptt/index.js';
import { Adam, AdamW, type OptimizerStateDict } from '../../optim/index.js';
import { Budgeted, type UpdateStats } from '../budget.js';
import { ConfigError, DataError, Rng, expected, listOf, show, type Tensor } from '../../tensor/index.js';
import { learningRate, validateSchedule, type Schedule } from '../../optim/index.js';
import { actuals, modelForecasts } from './evaluate.js';
import { accuracy, seasonalScale, type Accuracy } from './metrics.js';
import type { ForecastState, Forecaster } from './model.js';
import type { ScaledSeries } from './scaling.js';
import type { Origins } from './split.js';
import { makeBatch, type ForecastBatch } from './windows.js';

export interface ForecastTrainingOptions {
  batch: number;
  schedule: Schedule;
  clip: number | null;
  /** decoupled weight decay (AdamW) when > 0 */
  weightDecay: number;
  /** the budget: whichever is reached first (at least one is set) */
  maxUpdates: number | null;
  maxSeconds: number | null;
  /** validate every this many updates (and at the end) */
  evalEvery: number;
  seed: number;
}

/** `loss`: the batch's mean loss, in the scaled units the network predicts. */
export interface ForecastStep extends UpdateStats {
  /** windows trained on so far */
  windows: number;
}

/** The best validated weights so far and when they were reached. */
export interface BestWeights {
  accuracy: Accuracy;
  updates: number;
  weights: Map<string, Tensor>;
}

/** Everything beyond the model's weights that decides the next updates: a run restored from it continues exactly. */
export interface ForecastTrainerState {
  updates: number;
  elapsedMs: number;
  windows: number;
  epochs: number;
  /** the window-order generator, as it stands after the current epoch's shuffle */
  rng: number[];
  /** the current epoch's window order (origins) and how many of them were trained on */
  order: number[];
  at: number;
  optimizer: OptimizerStateDict;
  best: BestWeights | null;
  last: Accuracy | null;
}

export class ForecastTrainer extends Budgeted {
  private readonly engine: Bptt<ForecastBatch, ForecastState>;
  private readonly optimizer: Adam | AdamW;
  private readonly rng: Rng;
  private order: number[] = [];
  private at = 0;
  windows = 0;
  epochs = 0;
  best: BestWeights | null = null;
  last: Accuracy | null = null;

  constructor(
    readonly model: Forecaster,
    private readonly series: ScaledSeries,
    private readonly origins: Origins,
    readonly options: ForecastTrainingOptions,
    /** the MASE denominator's settings */
    private readonly scoring: { trainEnd: number; season: number },
    /** gradient-flow diagnostics (e.g. a report's FlowSampler), attached to the model's recurrent layers */
    recorder: FlowRecorder | null = null,
  ) {
    super(options);
    validateOptions(options);
    const adam = { lr: options.schedule.lr, weightDecay: options.weightDecay };
    this.optimizer = options.weightDecay > 0 ? new AdamW(model.parameters(), adam) : new Adam(model.parameters(), adam);
    this.engine = new Bptt({ model, parameters: model.parameters(), optimizer: this.optimizer, strategy: { kind: 'full' }, clipNorm: options.clip, recorder });
    recorder?.attach([model.rnn]);
    this.rng = new Rng(options.seed).split();
    model.train();
  }

  /** One update on the next batch of shuffled training windows. */
  step(): ForecastStep {
    if (this.at >= this.order.length) {
      this.order = this.rng.shuffle([...this.origins.train]);
      this.at = 0;
      if (this.updates > 0) this.epochs++;
    }
    const part = this.order.slice(this.at, this.at + this.options.batch);
    this.at += part.length;
    const lr = learningRate(this.options.schedule, this.updates + 1, this.done);
    this.optimizer.lr = lr;
    const [r] = this.engine.trainBatch(makeBatch(this.series, part, this.model.config.lookback, this.model.config.horizon));
    this.updates++;
    this.windows += part.length;
    return {
      updates: this.updates, epoch: this.epochs + this.at / this.order.length, loss: r!.loss, gradNorm: r!.gradNorm,
      clipped: r!.clipped, skipped: r!.skipped, lr, windows: this.windows, elapsedMs: this.elapsedMs,
    };
  }

  /** Accuracy on the validation windows; remembers the weights when they are the best so far (by RMSE). */
  validate(): Accuracy & { best: boolean } {
    const H = this.model.config.horizon;
    const f = modelForecasts(this.model, this.series, this.origins.val);
    const scale = seasonalScale(this.series.levels[0]!, this.scoring.trainEnd, this.scoring.season);
    const a = accuracy(f.point, actuals(this.series, this.origins.val, H), scale);
    const best = !this.best || a.rmse < this.best.accuracy.rmse;
    if (best) this.best = { accuracy: a, updates: this.updates, weights: cloneWeights(this.model) };
    this.last = a;
    return { ...a, best };
  }

  /** Everything a checkpoint needs to continue exactly from here; training on does not change it (the best weights are replaced, never written to). */
  snapshot(): ForecastTrainerState {
    return {
      updates: this.updates, elapsedMs: this.elapsedMs, windows: this.windows, epochs: this.epochs,
      rng: this.rng.getState(), order: [...this.order], at: this.at, optimizer: this.optimizer.stateDict(), best: this.best, last: this.last,
    };
  }

  /**
   * Continues a saved run (before the first step; the model holds the saved
   * weights). The saved window order must be of this data's training windows.
   */
  restore(s: ForecastTrainerState): void {
    const train = [...this.origins.train].sort((a, b) => a - b);
    const order = [...s.order].sort((a, b) => a - b);
    if (s.order.length && order.join() !== train.join()) {
      throw new DataError(expected('ForecastTrainer.restore', `an order of this data's ${train.length} training windows`, `${s.order.length} other windows`));
    }
    if (!(Number.isInteger(s.at) && s.at >= 0 && s.at <= s.order.length)) {
      throw new DataError(expected('ForecastTrainer.restore', `a position in the window order (0 to ${s.order.length})`,
        show(s.at)));
    }
    if (s.best) checkWeights(this.model, s.best.weights);
    this.optimizer.loadStateDict(s.optimizer);
    this.rng.setState(s.rng);
    this.order = [...s.order];
    this.at = s.at;
    this.windows = s.windows;
    this.epochs = s.epochs;
    this.best = s.best;
    this.last = s.last;
    this.continueFrom(s.updates, s.elapsedMs);
    this.engine.continueFrom(s.updates); // numbers the NaN guard's messages as in an uninterrupted run
  }

  /** Puts the best validated weights back into the model (no validation part: the last weights stay). */
  restoreBest(): void {
    if (this.best) this.model.loadStateDict(this.best.weights);
  }
}

function cloneWeights(model: Forecaster): Map<string, Tensor> {
  return new Map([...model.stateDict()].map(([k, t]) => [k, t.clone()]));
}

/** Weights with the model's names and shapes (the best ones of a saved run), so restoreBest cannot fail at the end of a run. */
function checkWeights(model: Forecaster, weights: ReadonlyMap<string, Tensor>): void {
  const own = model.stateDict();
  const fits = weights.size === own.size && [...own].every(([k, t]) => weights.get(k)?.shape.join() === t.shape.join());
  if (!fits) {
    throw new DataError(expected('ForecastTrainer.restore',
      `best weights named and shaped as the model's ${own.size} parameters`, listOf([...weights.keys()])));
  }
}

function validateOptions(o: ForecastTrainingOptions): void {
  const where = 'ForecastTrainer';
  const posInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  for (const k of ['batch', 'evalEvery'] as const) {
    if (!posInt(o[k])) throw new ConfigError(expected(where, `${k} a positive integer`, show(o[k])));
  }
  if (o.maxUpdates === null && o.maxSeconds === null) throw new ConfigError(expected(where, 'a budget (maxUpdates or maxSeconds)', 'neither'));
  if (o.maxUpdates !== null && !posInt(o.maxUpdates)) {
    throw new ConfigError(expected(where, 'maxUpdates a positive integer', show(o.maxUpdates)));
  }
  if (o.maxSeconds !== null && !(o.maxSeconds > 0)) {
    throw new ConfigError(expected(where, 'maxSeconds > 0', show(o.maxSeconds)));
  }
  if (!(o.weightDecay >= 0)) throw new ConfigError(expected(where, 'weightDecay >= 0', show(o.weightDecay)));
  if (o.clip !== null && !(o.clip > 0)) throw new ConfigError(expected(where, 'clip > 0 or null', show(o.clip)));
  validateSchedule(o.schedule, `${where}: schedule`);
}
