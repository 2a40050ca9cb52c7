/**
 * Accuracy of forecasts in the target's units. MASE (Hyndman & Koehler,
 * "Another look at measures of forecast accuracy", 2006) divides the MAE by
 * the in-sample MAE of the one-step seasonal naive forecast over the
 * training rows, (1 / (n − m)) Σ_{k=m}^{n−1} |y_k − y_{k−m}|: below 1, the
 * forecasts beat what the seasonal naive method did on the training data.
 */
import { DataError, expected } from '../../tensor/index.js';

export interface Accuracy {
  rmse: number;
  mae: number;
  mase: number;
}

/** The MASE denominator: mean |y_k − y_{k−m}| over the training rows [0, trainEnd). */
export function seasonalScale(y: ArrayLike<number>, trainEnd: number, season: number): number {
  if (!(trainEnd > season)) {
    throw new DataError(expected('MASE scale', `more training rows than the season (${season})`, trainEnd));
  }
  let s = 0;
  for (let k = season; k < trainEnd; k++) s += Math.abs(y[k]! - y[k - season]!);
  return s / (trainEnd - season);
}

/** RMSE, MAE and MASE of forecasts against actuals (flat arrays of the same length). */
export function accuracy(forecast: ArrayLike<number>, actual: ArrayLike<number>, scale: number): Accuracy {
  let se = 0, ae = 0;
  for (let i = 0; i < actual.length; i++) {
    const e = forecast[i]! - actual[i]!;
    se += e * e;
    ae += Math.abs(e);
  }
  const n = Math.max(1, actual.length);
  return { rmse: Math.sqrt(se / n), mae: ae / n, mase: ae / n / scale };
}

/** The share of actuals that fall inside [lower, upper]: a 10–90 % interval should cover about 80 %. */
export function coverage(lower: ArrayLike<number>, upper: ArrayLike<number>, actual: ArrayLike<number>): number {
  let inside = 0;
  for (let i = 0; i < actual.length; i++) if (actual[i]! >= lower[i]! && actual[i]! <= upper[i]!) inside++;
  return inside / Math.max(1, actual.length);
}
