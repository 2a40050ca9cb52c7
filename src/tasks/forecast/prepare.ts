/**
 * A numeric time series → what training and evaluation read: the split, the
 * windows of each part, and the series seen through a scaler fitted on the
 * training rows only.
 */
import type { TimeSeries } from '../../data/index.js';
import { requirePositiveInt } from '../../nn/index.js';
import { ConfigError, DataError, expected, quoted, requireBoolean } from '../../tensor/index.js';
import { calendarCycles } from './calendar.js';
import { ScaledSeries, cellNameOf, fitScaler, lagOf, type Difference } from './scaling.js';
import { checkOrigins, splitRows, windowOrigins, type Origins, type Split } from './split.js';

export interface ForecastSpec {
  lookback: number;
  horizon: number;
  /** the seasonal period in steps (12 monthly, 24 hourly): seasonal naive, MASE, seasonal differencing */
  season: number;
  difference: Difference;
  /** calendar features from the timestamps */
  calendar: boolean;
  /** fractions of the rows for training and validation; the test part is the rest */
  split: [number, number];
}

export interface Prepared {
  series: ScaledSeries;
  split: Split;
  origins: Origins;
}

export function prepareForecast(ts: TimeSeries, spec: ForecastSpec, where: string): Prepared {
  for (const k of ['lookback', 'horizon', 'season'] as const) requirePositiveInt('forecast', k, spec[k]);
  if (!['none', 'first', 'seasonal'].includes(spec.difference)) {
    throw new ConfigError(expected('forecast', "difference 'none', 'first' or 'seasonal'", quoted(spec.difference)));
  }
  if (requireBoolean('forecast', 'calendar', spec.calendar) && !ts.times) {
    throw new ConfigError(expected('forecast', 'a time column for calendar features', 'rows without timestamps',
      'turn calendar features off'));
  }
  const lag = lagOf(spec.difference, spec.season);
  const split = splitRows(ts.values[0]!.length, spec.split);
  const origins = windowOrigins(split, spec.lookback, spec.horizon, lag);
  checkOrigins(origins, split, spec.lookback, spec.horizon, lag, where);
  if (split.trainEnd <= spec.season) throw new DataError(expected(where, `more training rows than the season (${spec.season}) to scale MASE`, split.trainEnd));
  const cell = cellNameOf(ts);
  const scaler = fitScaler(ts.values, lag, split.trainEnd, ts.names, cell);
  const cycles = spec.calendar ? calendarCycles(ts.frequency, ts.times![split.trainEnd - 1]! - ts.times![0]!) : [];
  return { series: new ScaledSeries(ts.values, lag, scaler, ts.times, ts.frequency, cycles, cell), split, origins };
}
