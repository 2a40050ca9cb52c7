/**
 * Forecaster checkpoints (Node only), in the format of `io/checkpoint-files.ts`:
 * the weights under PyTorch's names, and in the manifest's metadata all that
 * turns a CSV into the model's inputs and its outputs back into values (the
 * columns, the frequency, the differencing, the scaler fitted on the training
 * rows, the calendar cycles) and the run's settings and test scores.
 */
import type { FillMethod, Frequency, TimeStyle } from '../../data/index.js';
import { checkParameterCount, loadCheckpoint, saveCheckpoint } from '../../io/checkpoint-files.js';
import { recurrentParameterCount } from '../../nn/index.js';
import { BpttError, DataError, expected, textOf } from '../../tensor/index.js';
import { CYCLES, type Cycle } from './calendar.js';
import type { Scoreboard } from './evaluate.js';
import { Forecaster, validateForecasterConfig, type ForecasterConfig } from './model.js';
import type { Difference, Scaler } from './scaling.js';
import type { ForecastTrainingOptions } from './trainer.js';
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
}

export function saveForecaster(dir: string, name: string, model: Forecaster, meta: ForecastMeta): string {
  return saveCheckpoint(dir, name, { meta: meta as unknown as Record<string, unknown>, weights: model.stateDict(), state: null });
}

/** The parameters a config implies, counted without building the model (a hand-edited size must not allocate gigabytes first). */
function parameterCount(c: ForecasterConfig): number {
  const gates = c.cell === 'lstm' ? 4 : 3;
  const rnn = recurrentParameterCount(gates, c.series + c.calendar, c.hidden, c.layers);
  const outputs = c.mode === 'direct' ? c.horizon * (c.loss.kind === 'quantile' ? c.loss.quantiles!.length : 1) : c.series;
  return rnn + outputs * (c.hidden + 1) + c.highway * outputs;
}

/** The model and its metadata, checked against each other. */
export function loadForecaster(path: string): { model: Forecaster; meta: ForecastMeta; path: string } {
  const loaded = loadCheckpoint(path);
  const where = `checkpoint '${loaded.path}'`;
  const meta = loaded.meta as unknown as ForecastMeta;
  if (meta.task !== FORECAST_TASK) throw new DataError(expected(where, `a ${FORECAST_TASK} checkpoint`, `task '${textOf(meta.task)}'`));
  try {
    const config = validateForecasterConfig(meta.model, `${where}: model`);
    const d = meta.data;
    const S = 1 + (d?.features?.length ?? NaN);
    if (!(meta.scaler?.mean?.length === S && meta.scaler.std?.length === S && config.series === S)) {
      throw new DataError(expected(where, `a scaler and a model for ${S} series columns`, `scaler of ${meta.scaler?.mean?.length}, model of ${config.series}`));
    }
    if (!Array.isArray(d.cycles) || !d.cycles.every((c) => CYCLES.includes(c)) || 2 * d.cycles.length !== config.calendar) {
      throw new DataError(expected(where, `${config.calendar / 2} calendar cycles among ${CYCLES.join(', ')}`, textOf(d.cycles)));
    }
    if (d.lag !== config.lag) throw new DataError(expected(where, `the data's differencing lag ${d.lag} in the model`, config.lag));
    checkParameterCount(where, parameterCount(config), loaded.weights);
    const model = new Forecaster(config);
    model.loadStateDict(loaded.weights);
    return { model, meta, path: loaded.path };
  } catch (e) {
    if (e instanceof BpttError && !e.message.startsWith(where)) throw new DataError(`${where}: ${e.message}`);
    throw e;
  }
}
