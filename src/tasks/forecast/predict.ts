/**
 * Forecasting past the end of a series with a trained model: the last
 * window of the series, read through the scaler saved with the model.
 */
import { describeFrequency, type TimeSeries } from '../../data/index.js';
import { DataError, expected } from '../../tensor/index.js';
import type { ForecastExtra } from './codec.js';
import { modelForecasts } from './evaluate.js';
import type { Forecaster } from './model.js';
import { ScaledSeries, cellNameOf } from './scaling.js';

export interface FutureForecast {
  /** UTC milliseconds of each forecast step, or null for a series without timestamps */
  times: Array<number | null>;
  /** [H] point forecasts (the quantile nearest 0.5 for a quantile model) */
  point: number[];
  /** [H][Q] forecasts at each quantile level, or null */
  quantiles: number[][] | null;
  levels: number[] | null;
}

/** The H values after the last row of `ts`, whose columns are the model's (target first). */
export function forecastAfterEnd(model: Forecaster, meta: ForecastExtra, ts: TimeSeries, where: string):
  FutureForecast {
  const d = meta.data;
  const { lookback: L, horizon: H } = model.config;
  const need = L + d.lag;
  const rows = ts.values[0]!.length;
  if (rows < need) {
    const history = `lookback ${L}${d.lag ? ` + differencing ${d.lag}` : ''}`;
    throw new DataError(expected(where, `at least ${need} rows (${history}) to forecast from`, rows));
  }
  const freq = ts.frequency ?? d.frequency;
  if (d.frequency && ts.frequency && JSON.stringify(ts.frequency) !== JSON.stringify(d.frequency)) {
    throw new DataError(expected(where, `${describeFrequency(d.frequency)} rows, as the model was trained on`,
      `${describeFrequency(ts.frequency)} rows`));
  }
  const series = new ScaledSeries(ts.values, d.lag, meta.scaler, ts.times, freq, d.cycles, cellNameOf(ts));
  const origin = rows - 1;
  const f = modelForecasts(model, series, [origin]);
  const Q = f.levels?.length ?? 0;
  return {
    times: Array.from({ length: H }, (_, h) => series.timeAfter(origin, h + 1)),
    point: Array.from(f.point),
    quantiles: f.quantiles
      ? Array.from({ length: H }, (_, h) => Array.from(f.quantiles!.subarray(h * Q, (h + 1) * Q))) : null,
    levels: f.levels,
  };
}
