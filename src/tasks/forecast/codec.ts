/**
 * The forecaster in the run format: its config, its weights' count, and its
 * extra, all that turns a CSV into the model's inputs and its outputs back
 * into values (the columns, the frequency, the differencing, the scaler
 * fitted on the training rows, the calendar cycles). `legacy` reads the
 * checkpoints written before the run format (for use; they are not resumed).
 */
import type { FillMethod, Frequency, TimeStyle } from '../../data/index.js';
import { badMeta, isObject } from '../../io/trainer-state.js';
import { recurrentParameterCount } from '../../nn/index.js';
import { DataError, expected, show, textOf } from '../../tensor/index.js';
import type { DataSource, TaskCodec } from '../../training/index.js';
import { CYCLES, type Cycle } from './calendar.js';
import { Forecaster, validateForecasterConfig, type ForecasterConfig } from './model.js';
import type { Difference, Scaler } from './scaling.js';

/** How the data was read and prepared. */
export interface ForecastDataMeta {
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

export interface ForecastExtra {
  /** μ and σ per series column (target first), fitted on the training rows */
  scaler: Scaler;
  data: ForecastDataMeta;
}

/** The parameters a config implies, counted without building the model (a hand-edited size allocates nothing). */
export function forecasterParameterCount(c: ForecasterConfig): number {
  const gates = c.cell === 'lstm' ? 4 : 3;
  const rnn = recurrentParameterCount(gates, c.series + c.calendar, c.hidden, c.layers);
  const outputs = c.mode === 'direct' ? c.horizon * (c.loss.kind === 'quantile' ? c.loss.quantiles!.length : 1)
    : c.series;
  return rnn + outputs * (c.hidden + 1) + c.highway * outputs;
}

/** The extra of a saved run, checked against its model. */
export function checkForecastExtra(where: string, config: ForecasterConfig, extra: Record<string, unknown>):
  ForecastExtra {
  const { scaler, data: d } = extra as unknown as ForecastExtra;
  if (!isObject(d)) badMeta(where, 'extra.data', 'what the model was trained on', d);
  const S = 1 + (Array.isArray(d.features) ? d.features.length : NaN);
  if (!(scaler?.mean?.length === S && scaler.std?.length === S && config.series === S)) {
    throw new DataError(expected(where, `a scaler and a model for ${S} series columns`,
      `scaler of ${scaler?.mean?.length}, model of ${config.series}`));
  }
  if (!scaler.mean.every(Number.isFinite) || !scaler.std.every((s) => Number.isFinite(s) && s > 0)) {
    throw new DataError(expected(where, 'a scaler of finite means and positive finite spreads', show(scaler)));
  }
  const cycles = Array.isArray(d.cycles) && d.cycles.every((c) => CYCLES.includes(c));
  if (!cycles || 2 * d.cycles.length !== config.calendar) {
    throw new DataError(expected(where, `${config.calendar / 2} calendar cycles among ${CYCLES.join(', ')}`,
      textOf(d.cycles)));
  }
  if (d.lag !== config.lag) {
    throw new DataError(expected(where, `the data's differencing lag ${d.lag} in the model`, show(config.lag)));
  }
  return { scaler, data: d };
}

export const forecastCodec: TaskCodec<ForecasterConfig, Forecaster> = {
  task: 'forecast',
  config: (saved, where) => validateForecasterConfig(saved as ForecasterConfig, where),
  parameterCount: (config) => forecasterParameterCount(config),
  build: (config, extra, where) => {
    checkForecastExtra(where, config, extra);
    return new Forecaster(config);
  },
  legacy: (m, where) => {
    if (m.task !== 'forecast') return null;
    const d = isObject(m.data) ? m.data : badMeta(where, 'data', 'what the model was trained on', m.data);
    // the old data identity: "/abs/file.csv (sha256 0123456789abcdef)" or "dataset co2 (sha256 ...)"
    const old = /^(.*) \(sha256 ([0-9a-f]+)\)$/.exec(String(d.source));
    if (!old) badMeta(where, 'data.source', 'a file or dataset with its hash', d.source);
    const dataset = /^dataset (\w+)$/.exec(old![1]!)?.[1];
    const source: DataSource = { role: dataset ? 'bundled' : '--csv', name: dataset ?? old![1]!, sha256: old![2]! };
    const { source: _, ...data } = d;
    return {
      task: 'forecast', writtenBy: String(m.writtenBy), model: validateForecasterConfig(m.model as ForecasterConfig,
        `${where}: meta.model`), extra: { scaler: m.scaler, data }, data: [source],
      settings: isObject(m.settings) ? m.settings : {}, trainer: null,
    };
  },
};
