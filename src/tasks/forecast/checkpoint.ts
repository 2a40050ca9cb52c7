/**
 * Forecaster checkpoints (Node only), in the format of `io/checkpoint-files.ts`:
 * the weights under PyTorch's names, and in the manifest's metadata all that
 * turns a CSV into the model's inputs and its outputs back into values (the
 * columns, the frequency, the differencing, the scaler fitted on the training
 * rows, the calendar cycles) and the run's settings and test scores. A
 * checkpoint a run can continue from (--resume; `last`) also holds the
 * trainer's state: the optimiser's moments, the best weights so far and the
 * window order as state tensors, its step counts, generator and position in
 * the metadata.
 */
import type { FillMethod, Frequency, TimeStyle } from '../../data/index.js';
import {
  checkParameterCount, loadCheckpoint, saveCheckpoint, type LoadedCheckpoint,
} from '../../io/node/checkpoint-files.js';
import { recurrentParameterCount } from '../../nn/index.js';
import {
  badMeta, checkRngState, isCount, isObject, packOptimizer, stateTensor, unpackOptimizer, type PackedOptimizer,
} from '../../io/trainer-state.js';
import { BpttError, DataError, Tensor, expected, quoted, show, textOf } from '../../tensor/index.js';
import { CYCLES, type Cycle } from './calendar.js';
import type { Scoreboard } from './evaluate.js';
import { Forecaster, validateForecasterConfig, type ForecasterConfig } from './model.js';
import type { Difference, Scaler } from './scaling.js';
import type { ForecastTrainerState, ForecastTrainingOptions } from './trainer.js';
import type { Accuracy } from './metrics.js';

export const FORECAST_TASK = 'forecast';

export interface ForecastDataMeta {
  /** the CSV trained on (a path or a bundled dataset's name), with a hash of its text */
  source: string;
  /** the time column, or null for plain steps */
  time: string | null;
  target: string;
  features: string[];
  frequency: Frequency | null;
  style: TimeStyle | null;
  season: number;
  difference: Difference;
  lag: number;
  cycles: Cycle[];
  fill: FillMethod | null;
  split: { fractions: [number, number]; rows: number; trainEnd: number; valEnd: number };
}

export interface ForecastMeta {
  task: typeof FORECAST_TASK;
  writtenBy: string;
  model: ForecasterConfig;
  data: ForecastDataMeta;
  /** μ and σ per series column (target first), fitted on the training rows */
  scaler: Scaler;
  training: ForecastTrainingOptions;
  settings: Record<string, unknown>;
  progress: { updates: number; windows: number; elapsedMs: number; bestUpdate: number | null; validation: Accuracy | null };
  /** the model and the baselines on the test windows (with the weights saved here), or null */
  test: Scoreboard | null;
  /** what --resume needs besides `progress` and the state tensors; absent from a weights-only checkpoint */
  trainer?: ForecastTrainerMeta;
}

export interface ForecastTrainerMeta {
  epochs: number;
  /** how many windows of the current order (state tensor `trainer.order`) were trained on */
  at: number;
  /** the window-order generator */
  rng: number[];
  /** the last validation's accuracy */
  last: Accuracy | null;
  /** the optimiser's settings and step counts; its moments are the state tensors `optimizer.<param>.<buffer>` */
  optimizer: PackedOptimizer;
}

/**
 * Saves the model as checkpoint `name` in `dir`; with a trainer's state, also
 * all a run needs to continue from it (its progress then comes from the state).
 */
export function saveForecaster(dir: string, name: string, model: Forecaster, meta: ForecastMeta, trainer: ForecastTrainerState | null = null): string {
  if (!trainer) return saveCheckpoint(dir, name, { meta: meta as unknown as Record<string, unknown>, weights: model.stateDict(), state: null });
  const state = new Map<string, Tensor>([['trainer.order', Tensor.from(trainer.order, [trainer.order.length], 'float64')]]);
  const optimizer = packOptimizer(trainer.optimizer, model.namedParameters(), state);
  for (const [k, t] of trainer.best?.weights ?? []) state.set(`best.${k}`, t);
  const full: ForecastMeta = {
    ...meta, progress: forecastProgress(trainer),
    trainer: { epochs: trainer.epochs, at: trainer.at, rng: trainer.rng, last: trainer.last, optimizer },
  };
  return saveCheckpoint(dir, name, { meta: full as unknown as Record<string, unknown>, weights: model.stateDict(), state });
}

/** The manifest's summary of where a run stands. */
export function forecastProgress(t: Pick<ForecastTrainerState, 'updates' | 'windows' | 'elapsedMs' | 'best'>): ForecastMeta['progress'] {
  return { updates: t.updates, windows: t.windows, elapsedMs: Math.round(t.elapsedMs), bestUpdate: t.best?.updates ?? null, validation: t.best?.accuracy ?? null };
}

/** The parameters a config implies, counted without building the model (a hand-edited size must not allocate gigabytes first). */
function parameterCount(c: ForecasterConfig): number {
  const gates = c.cell === 'lstm' ? 4 : 3;
  const rnn = recurrentParameterCount(gates, c.series + c.calendar, c.hidden, c.layers);
  const outputs = c.mode === 'direct' ? c.horizon * (c.loss.kind === 'quantile' ? c.loss.quantiles!.length : 1) : c.series;
  return rnn + outputs * (c.hidden + 1) + c.highway * outputs;
}

export interface ForecastCheckpoint {
  model: Forecaster;
  meta: ForecastMeta;
  path: string;
  loaded: LoadedCheckpoint;
}

/** The model and its metadata, checked against each other. */
export function loadForecaster(path: string): ForecastCheckpoint {
  // Files no larger than the model the metadata describes are read (a bad description is reported below).
  const count = (meta: Record<string, unknown>): number | undefined =>
    (meta.task === FORECAST_TASK
      ? parameterCount(validateForecasterConfig(meta.model as ForecasterConfig, 'model'))
      : undefined);
  const loaded = loadCheckpoint(path, { parameterCount: count });
  const where = `checkpoint '${loaded.path}'`;
  const meta = loaded.meta as unknown as ForecastMeta;
  if (meta.task !== FORECAST_TASK) {
    throw new DataError(expected(where, `a ${FORECAST_TASK} checkpoint`, `task ${quoted(meta.task)}`));
  }
  try {
    const config = validateForecasterConfig(meta.model, `${where}: model`);
    const d = meta.data;
    if (!isObject(d)) badMeta(where, 'data', 'what the model was trained on', d);
    const S = 1 + (d?.features?.length ?? NaN);
    if (!(meta.scaler?.mean?.length === S && meta.scaler.std?.length === S && config.series === S)) {
      throw new DataError(expected(where, `a scaler and a model for ${S} series columns`, `scaler of ${meta.scaler?.mean?.length}, model of ${config.series}`));
    }
    if (!meta.scaler.mean.every(Number.isFinite) || !meta.scaler.std.every((s) => Number.isFinite(s) && s > 0)) {
      throw new DataError(expected(where, 'a scaler of finite means and positive finite spreads', show(meta.scaler)));
    }
    if (!Array.isArray(d.cycles) || !d.cycles.every((c) => CYCLES.includes(c)) || 2 * d.cycles.length !== config.calendar) {
      throw new DataError(expected(where, `${config.calendar / 2} calendar cycles among ${CYCLES.join(', ')}`, textOf(d.cycles)));
    }
    if (d.lag !== config.lag) {
      throw new DataError(expected(where, `the data's differencing lag ${d.lag} in the model`, show(config.lag)));
    }
    checkParameterCount(where, parameterCount(config), loaded.weights);
    const model = new Forecaster(config);
    model.loadStateDict(loaded.weights);
    return { model, meta, path: loaded.path, loaded };
  } catch (e) {
    if (e instanceof BpttError && !e.message.startsWith(where)) throw new DataError(`${where}: ${e.message}`);
    throw e;
  }
}

/** The trainer state saved with a checkpoint (for --resume); the model's weights are the checkpoint's. */
export function forecastTrainerStateOf(ckpt: ForecastCheckpoint): ForecastTrainerState {
  const where = `checkpoint '${ckpt.path}'`;
  const tensors = ckpt.loaded.state;
  const m = ckpt.meta;
  if (!tensors || m.trainer === undefined) throw new DataError(expected(where, 'training state (optimiser moments, window order) to resume from', 'weights only'));
  const params = ckpt.model.namedParameters();
  checkTrainerMeta(where, m);
  const get = (key: string): Tensor => stateTensor(where, tensors, key);
  const t = m.trainer!;
  const order = Array.from(get('trainer.order').data);
  if (!order.every((x) => Number.isSafeInteger(x) && x >= 0) || t.at > order.length) {
    throw new DataError(expected(`${where}: trainer.order`, `window origins (integers >= 0), at least meta.trainer.at (${t.at}) of them`, `${order.length} values`));
  }
  const optimizer = unpackOptimizer(where, t.optimizer, tensors, params);
  const { progress: p } = m;
  const best = p.bestUpdate === null ? null : { updates: p.bestUpdate, accuracy: p.validation!, weights: new Map(params.map(([k]) => [k, get(`best.${k}`)])) };
  return { updates: p.updates, elapsedMs: p.elapsedMs, windows: p.windows, epochs: t.epochs, rng: t.rng, order, at: t.at, optimizer, best, last: t.last };
}

/** The parts of the metadata forecastTrainerStateOf reads, so a hand-edited manifest is a DataError rather than a crash (or a huge allocation). */
function checkTrainerMeta(where: string, m: ForecastMeta): void {
  const fail = (what: string, want: string, got: unknown): never => badMeta(where, what, want, got);
  const isAccuracy = (x: unknown): boolean => isObject(x) && (['rmse', 'mae', 'mase'] as const).every((k) => typeof x[k] === 'number');
  if (!isObject(m.settings)) fail('settings', 'the settings of the run', m.settings);
  if (!isObject(m.training)) fail('training', 'the training options', m.training);
  if (typeof m.data.source !== 'string') fail('data.source', 'the name of the data trained on', m.data.source);
  const p = m.progress;
  if (!isObject(p) || !isCount(p.updates) || !isCount(p.windows) || !(Number.isFinite(p.elapsedMs) && p.elapsedMs >= 0)) fail('progress', 'counts of updates and windows and the elapsed time', p);
  if (p.bestUpdate === null ? p.validation !== null : !(isCount(p.bestUpdate) && p.bestUpdate <= p.updates && isAccuracy(p.validation))) {
    fail('progress', 'bestUpdate (an update so far) with its validation accuracy, or both null', { bestUpdate: p.bestUpdate, validation: p.validation });
  }
  const t = m.trainer;
  if (!isObject(t) || !isCount(t.epochs) || !isCount(t.at)) fail('trainer', 'the epoch count and the position in the window order', t);
  if (checkRngState(where, 'trainer.rng', t!.rng).every((x) => x === 0)) fail('trainer.rng', 'a generator state not all 0', t!.rng);
  if (t!.last !== null && !isAccuracy(t!.last)) fail('trainer.last', 'the last validation accuracy or null', t!.last);
}
