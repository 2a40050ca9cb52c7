/**
 * Forecast windows gathered into batches, time-major as the recurrent
 * layers read them.
 */
import type { ScaledSeries } from './scaling.js';

export interface ForecastBatch {
  /** the windows' origins (the last row each reads) */
  origins: readonly number[];
  batch: number;
  lookback: number;
  horizon: number;
  /** [lookback, batch, inputSize]: the scaled series and calendar of rows t − L + 1 … t */
  inputs: Float64Array;
  /** [horizon − 1, batch, calendar]: calendar features of rows t + 1 … t + H − 1 (fed with the recursive mode's predictions) */
  future: Float64Array;
  /** [batch, horizon, series]: the level offsets v to predict, or null when forecasting past the end of the data */
  targets: Float64Array | null;
}

/** The batch of windows at `origins`; targets only when every window's rows t + H exist. */
export function makeBatch(s: ScaledSeries, origins: readonly number[], lookback: number, horizon: number): ForecastBatch {
  const B = origins.length;
  const F = s.inputSize;
  const C = s.calendarNames.length;
  const S = s.series;
  const inputs = new Float64Array(lookback * B * F);
  const future = new Float64Array(Math.max(0, horizon - 1) * B * C);
  const withTargets = origins.every((t) => t + horizon < s.rows);
  const targets = withTargets ? new Float64Array(B * horizon * S) : null;
  origins.forEach((t, b) => {
    for (let i = 0; i < lookback; i++) inputs.set(s.inputRow(t - lookback + 1 + i), (i * B + b) * F);
    for (let h = 1; h < horizon; h++) future.set(s.calendarAfter(t, h), ((h - 1) * B + b) * C);
    if (!targets) return;
    for (let h = 1; h <= horizon; h++) {
      for (let c = 0; c < S; c++) targets[(b * horizon + h - 1) * S + c] = s.target(c, t, h);
    }
  });
  return { origins, batch: B, lookback, horizon, inputs, future, targets };
}
