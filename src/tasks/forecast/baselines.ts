/**
 * The baselines every forecast is measured against, on the same windows:
 * - seasonal naive: ŷ_{t+h} = y_{t+h−m·⌈h/m⌉}, the last value of the same season;
 * - linear autoregression AR(p): y_k = c + Σ_{i=1..p} a_i·y_{k−i}, fitted by
 *   least squares (Householder QR) on the training rows, iterated for
 *   horizons beyond one step (each forecast read as the next input).
 */
import { DataError, expected } from '../../tensor/index.js';

export function seasonalNaive(y: ArrayLike<number>, t: number, horizon: number, season: number): Float64Array {
  return Float64Array.from({ length: horizon }, (_, i) => y[t + i + 1 - season * Math.ceil((i + 1) / season)]!);
}

export interface LinearAr {
  /** [c, a_1 … a_p] */
  coefficients: Float64Array;
  order: number;
}

/** Least squares on every k in [p, trainEnd) of y_k against (1, y_{k−1}, …, y_{k−p}). */
export function fitLinearAr(y: ArrayLike<number>, trainEnd: number, order: number): LinearAr {
  const rows = trainEnd - order;
  if (rows < order + 1) {
    throw new DataError(expected(`linear AR(${order})`, `at least ${2 * order + 1} training rows`, trainEnd));
  }
  const cols = order + 1;
  const X = new Float64Array(rows * cols);
  const b = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const k = order + r;
    X[r * cols] = 1;
    for (let i = 1; i <= order; i++) X[r * cols + i] = y[k - i]!;
    b[r] = y[k]!;
  }
  return { coefficients: leastSquares(X, b, rows, cols), order };
}

/** H forecasts after row t, each fed back as the newest lag of the next. */
export function linearArForecast(ar: LinearAr, y: ArrayLike<number>, t: number, horizon: number): Float64Array {
  const p = ar.order;
  const a = ar.coefficients;
  const hist = Float64Array.from({ length: p + horizon }, (_, i) => (i < p ? y[t - p + 1 + i]! : 0));
  for (let h = 0; h < horizon; h++) {
    let v = a[0]!;
    for (let i = 1; i <= p; i++) v += a[i]! * hist[p + h - i]!;
    hist[p + h] = v;
  }
  return hist.slice(p);
}

/**
 * argmin_x ||A·x − b|| for A [m, n] (row-major, m >= n, overwritten) by
 * Householder QR: the normal equations would square A's condition number,
 * and lagged series are nearly collinear.
 */
export function leastSquares(A: Float64Array, b: Float64Array, m: number, n: number): Float64Array {
  const rhs = b.slice();
  for (let j = 0; j < n; j++) {
    let norm = 0;
    for (let i = j; i < m; i++) norm += A[i * n + j]! ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) throw new DataError(expected('least squares', 'columns that are not all zero', `column ${j} zero`));
    const alpha = A[j * n + j]! > 0 ? -norm : norm;
    // v = x − α·e₁ over rows j..m−1, kept in place of column j.
    A[j * n + j] = A[j * n + j]! - alpha;
    let vv = 0;
    for (let i = j; i < m; i++) vv += A[i * n + j]! ** 2;
    const reflect = (dot: number): number => (2 * dot) / vv;
    for (let k = j + 1; k < n; k++) {
      let dot = 0;
      for (let i = j; i < m; i++) dot += A[i * n + j]! * A[i * n + k]!;
      const f = reflect(dot);
      for (let i = j; i < m; i++) A[i * n + k] = A[i * n + k]! - f * A[i * n + j]!;
    }
    let dot = 0;
    for (let i = j; i < m; i++) dot += A[i * n + j]! * rhs[i]!;
    const f = reflect(dot);
    for (let i = j; i < m; i++) rhs[i] = rhs[i]! - f * A[i * n + j]!;
    A[j * n + j] = alpha; // R's diagonal
  }
  // Back substitution with R (upper triangle of A).
  const x = new Float64Array(n);
  for (let j = n - 1; j >= 0; j--) {
    let s = rhs[j]!;
    for (let k = j + 1; k < n; k++) s -= A[j * n + k]! * x[k]!;
    x[j] = s / A[j * n + j]!;
  }
  return x;
}
