/**
 * Forecasts in the target's units for a set of windows, and the accuracy of
 * the model and of both baselines on exactly those windows and horizons.
 */
import { noGrad } from '../../autograd/index.js';
import { fitLinearAr, linearArForecast, seasonalNaive, type LinearAr } from './baselines.js';
import { accuracy, coverage, seasonalScale, type Accuracy } from './metrics.js';
import type { Forecaster } from './model.js';
import type { ScaledSeries } from './scaling.js';
import { makeBatch } from './windows.js';
import type { Validation } from '../../training/index.js';

export interface Forecasts {
  /** [windows, H]: the point forecast (the quantile nearest 0.5 for a quantile model) */
  point: Float64Array;
  /** [windows, H, Q] with the quantile levels, or null for a point model */
  quantiles: Float64Array | null;
  levels: number[] | null;
}

/** The model's forecasts of the target at each origin, in the target's units. */
export function modelForecasts(model: Forecaster, s: ScaledSeries, origins: readonly number[], chunk = 256): Forecasts {
  const { lookback: L, horizon: H, loss } = model.config;
  const Q = model.outputsPerStep;
  const all = new Float64Array(origins.length * H * Q);
  noGrad(() => {
    for (let at = 0; at < origins.length; at += chunk) {
      const part = origins.slice(at, at + chunk);
      const v = model.predictOffsets(makeBatch(s, part, L, H));
      part.forEach((t, b) => {
        for (let h = 1; h <= H; h++) {
          for (let q = 0; q < Q; q++) {
            all[((at + b) * H + h - 1) * Q + q] = s.level(0, t, h, v[(b * H + h - 1) * Q + q]!);
          }
        }
      });
    }
  });
  if (loss.kind !== 'quantile') return { point: all, quantiles: null, levels: null };
  const levels = loss.quantiles!;
  const mid = levels.reduce((best, q, i) => (Math.abs(q - 0.5) < Math.abs(levels[best]! - 0.5) ? i : best), 0);
  const point = Float64Array.from({ length: origins.length * H }, (_, i) => all[i * Q + mid]!);
  return { point, quantiles: all, levels };
}

/** [windows, H] actual target values after each origin. */
export function actuals(s: ScaledSeries, origins: readonly number[], horizon: number): Float64Array {
  const y = s.levels[0]!;
  return Float64Array.from({ length: origins.length * horizon },
    (_, i) => y[origins[Math.floor(i / horizon)]! + (i % horizon) + 1]!);
}

export interface Scoreboard {
  windows: number;
  horizon: number;
  season: number;
  /** the MASE denominator, in the target's units */
  scale: number;
  model: Accuracy;
  seasonalNaive: Accuracy;
  linearAr: Accuracy & { order: number };
  /** share of actuals inside the outermost quantiles (quantile models only) */
  coverage: number | null;
}

/** Scores the model and both baselines on the windows at `origins`. */
export function scoreboard(model: Forecaster, s: ScaledSeries, origins: readonly number[],
  o: { trainEnd: number; season: number; ar?: LinearAr }): Scoreboard {
  const H = model.config.horizon;
  const y = s.levels[0]!;
  const scale = seasonalScale(y, o.trainEnd, o.season);
  const truth = actuals(s, origins, H);
  const f = modelForecasts(model, s, origins);
  const ar = o.ar ?? fitLinearAr(y, o.trainEnd, model.config.lookback);
  const flat = (g: (t: number) => Float64Array): Float64Array => {
    const out = new Float64Array(origins.length * H);
    origins.forEach((t, i) => out.set(g(t), i * H));
    return out;
  };
  let cover: number | null = null;
  if (f.quantiles) {
    const Q = f.levels!.length;
    const band = (q: number): Float64Array =>
      Float64Array.from({ length: truth.length }, (_, i) => f.quantiles![i * Q + q]!);
    cover = coverage(band(0), band(Q - 1), truth);
  }
  return {
    windows: origins.length, horizon: H, season: o.season, scale,
    model: accuracy(f.point, truth, scale),
    seasonalNaive: accuracy(flat((t) => seasonalNaive(y, t, H, o.season)), truth, scale),
    linearAr: { ...accuracy(flat((t) => linearArForecast(ar, y, t, H)), truth, scale), order: ar.order },
    coverage: cover,
  };
}

/** A validation for the runner: RMSE on the windows at `origins` (what the best weights are kept by), MAE, MASE. */
export function validation(model: Forecaster, s: ScaledSeries, origins: readonly number[],
  o: { trainEnd: number; season: number }): Validation {
  const f = modelForecasts(model, s, origins);
  const scale = seasonalScale(s.levels[0]!, o.trainEnd, o.season);
  const a = accuracy(f.point, actuals(s, origins, model.config.horizon), scale);
  return { score: a.rmse, metrics: { mae: a.mae, mase: a.mase } };
}

/** The test table of the model and both baselines, as Markdown. */
export function scoreTable(b: Scoreboard, model: string): string {
  const rows: Array<[string, { rmse: number; mae: number; mase: number }]> = [
    [`model (${model})`, b.model], [`seasonal naive (m = ${b.season})`, b.seasonalNaive],
    [`linear AR(${b.linearAr.order}), least squares`, b.linearAr],
  ];
  const lines = ['| forecast | RMSE | MAE | MASE |', '|---|---|---|---|',
    ...rows.map(([n, a]) => `| ${n} | ${formatValue(a.rmse)} | ${formatValue(a.mae)} | ${formatValue(a.mase)} |`)];
  if (b.coverage !== null) {
    lines.push('', `share of test values inside the outermost quantiles: ${(100 * b.coverage).toFixed(1)} %`);
  }
  return lines.join('\n');
}

/** A value in the target's units, to about four figures. */
export function formatValue(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(3) : x.toPrecision(3);
}
