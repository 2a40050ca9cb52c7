/**
 * From a run's settings (the command's flags) to what it trains on (Node: it
 * reads the CSV): the series, its split and windows, the model's config and
 * the run format's extra.
 */
import { defaultSeason, type FillMethod } from '../../../data/index.js';
import { ConfigError, expected } from '../../../tensor/index.js';
import type { ForecastExtra } from '../codec.js';
import type { LossSpec } from '../losses.js';
import { validateForecasterConfig, type ForecasterConfig } from '../model.js';
import { prepareForecast, type ForecastSpec, type Prepared } from '../prepare.js';
import type { Difference } from '../scaling.js';
import { DATASETS, loadSource, type LoadedSource } from './source.js';

export interface ForecastSettings {
  dataset?: 'co2' | 'seattle';
  csv?: string;
  timeColumn: string;
  target?: string;
  features: string[];
  fill?: FillMethod | 'none';
  horizon?: number;
  lookback?: number;
  season?: number;
  difference?: Difference;
  calendar: boolean;
  split: [number, number];
  mode: 'direct' | 'recursive';
  cell: 'lstm' | 'gru';
  hidden: number;
  layers: number;
  highway?: number;
  forgetBias: number;
  loss: LossSpec['kind'];
  huberDelta: number;
  quantiles: number[];
  seed: number;
}

export interface ForecastSetup {
  source: LoadedSource;
  prepared: Prepared;
  spec: ForecastSpec;
  config: ForecasterConfig;
  fill: FillMethod | null;
  extra: ForecastExtra;
}

export function forecastSetup(o: ForecastSettings, where = 'bptt train forecast'): ForecastSetup {
  if (!o.dataset === !o.csv) {
    throw new ConfigError(expected(where, 'either --csv FILE or --dataset co2|seattle', o.csv ? 'both' : 'neither'));
  }
  const preset = o.dataset ? DATASETS[o.dataset] : null;
  const target = o.target ?? preset?.target;
  if (!target) throw new ConfigError(expected(where, '--target COLUMN with --csv', 'no --target'));
  const fill = o.fill === 'none' ? null : o.fill ?? preset?.fill ?? null;
  const timeColumn = o.timeColumn === 'auto' && preset && !o.csv ? preset.time : o.timeColumn;
  const source = loadSource({ csv: o.csv ?? null, dataset: o.dataset ?? null, timeColumn, target, features: o.features,
    fill });
  const ts = source.series;
  const season = o.season ?? (ts.frequency ? defaultSeason(ts.frequency) : 1);
  const lookback = o.lookback ?? preset?.lookback;
  const horizon = o.horizon ?? preset?.horizon;
  if (!lookback || !horizon) {
    throw new ConfigError(expected(where, '--lookback L and --horizon H with --csv',
      `${lookback ? '' : 'no --lookback '}${horizon ? '' : 'no --horizon'}`.trim()));
  }
  const difference = o.difference ?? (season > 1 ? 'seasonal' : 'first');
  const calendar = o.calendar && source.timeColumn !== null;
  const spec: ForecastSpec = { lookback, horizon, season, difference, calendar, split: o.split };
  const p = prepareForecast(ts, spec, source.name);
  const loss: LossSpec = o.loss === 'huber' ? { kind: 'huber', delta: o.huberDelta }
    : o.loss === 'quantile' ? { kind: 'quantile', quantiles: o.quantiles } : { kind: o.loss };
  const config: ForecasterConfig = {
    cell: o.cell, hidden: o.hidden, layers: o.layers, mode: o.mode, series: p.series.series,
    calendar: p.series.calendarNames.length, lookback, horizon, lag: p.series.lag, drift: p.series.driftPerStep, loss,
    highway: o.highway ?? lookback, forgetBias: o.cell === 'lstm' ? o.forgetBias : 0, seed: o.seed,
  };
  validateForecasterConfig(config); // the combination (e.g. quantiles need the direct mode), before anything is written
  const data = {
    time: source.timeColumn, target: ts.names[0]!, features: ts.names.slice(1), frequency: ts.frequency,
    style: ts.style, season, difference: spec.difference, lag: p.series.lag, cycles: [...p.series.cycles], fill,
    split: { fractions: spec.split, ...p.split },
  };
  return { source, prepared: p, spec, config, fill, extra: { scaler: p.series.scaler, data } };
}
