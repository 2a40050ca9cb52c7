// Row/column reductions, log-softmax and the Adam update.

import { loadN, storeN } from './simd';
import { expv } from './math';

/** Each of the m rows of C (m×n) += bias (n). */
export function addRowVector(c: usize, bias: usize, m: i32, n: i32): void {
  const rowB = <usize>n << 2;
  for (let i = 0; i < m; i++) {
    const row = c + <usize>i * rowB;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const o = <usize>j << 2;
      v128.store(row + o, f32x4.add(v128.load(row + o), v128.load(bias + o)));
    }
    for (; j < n; j++) {
      const o = <usize>j << 2;
      store<f32>(row + o, load<f32>(row + o) + load<f32>(bias + o));
    }
  }
}

/** out (n) += column sums of A (m×n); 16 columns at a time summed in registers. */
export function sumRows(a: usize, m: i32, n: i32, out: usize): void {
  const rowB = <usize>n << 2;
  let j = 0;
  for (; j + 16 <= n; j += 16) {
    const col = a + (<usize>j << 2);
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    for (let i = 0; i < m; i++) {
      const p = col + <usize>i * rowB;
      s0 = f32x4.add(s0, v128.load(p));
      s1 = f32x4.add(s1, v128.load(p, 16));
      s2 = f32x4.add(s2, v128.load(p, 32));
      s3 = f32x4.add(s3, v128.load(p, 48));
    }
    const o = out + (<usize>j << 2);
    v128.store(o, f32x4.add(v128.load(o), s0));
    v128.store(o, f32x4.add(v128.load(o, 16), s1), 16);
    v128.store(o, f32x4.add(v128.load(o, 32), s2), 32);
    v128.store(o, f32x4.add(v128.load(o, 48), s3), 48);
  }
  for (; j < n; j += 4) {
    const cnt = min(4, n - j);
    const col = a + (<usize>j << 2);
    let s = f32x4.splat(0);
    for (let i = 0; i < m; i++) s = f32x4.add(s, loadN(col + <usize>i * rowB, cnt));
    const o = out + (<usize>j << 2);
    storeN(o, f32x4.add(loadN(o, cnt), s), cnt);
  }
}

/** Row-wise log-softmax of X (rows×cols) into out (may alias x). */
export function logSoftmax(x: usize, out: usize, rows: i32, cols: i32): void {
  const rowB = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowB;
    const orow = out + <usize>r * rowB;
    // max (NaN-propagating, like Math.max)
    let mv = f32x4.splat(-Infinity);
    let j = 0;
    for (; j + 4 <= cols; j += 4) mv = f32x4.max(mv, v128.load(xr + (<usize>j << 2)));
    let top = max(max(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (; j < cols; j++) top = max(top, load<f32>(xr + (<usize>j << 2)));
    // sum of exp(x - max)
    const mx = f32x4.splat(top);
    let sv = f32x4.splat(0);
    j = 0;
    for (; j + 4 <= cols; j += 4) sv = f32x4.add(sv, expv(f32x4.sub(v128.load(xr + (<usize>j << 2)), mx)));
    if (j < cols) {
      // lanes past the row end are masked off
      const cnt = cols - j;
      const e = expv(f32x4.sub(loadN(xr + (<usize>j << 2), cnt), mx));
      const lane = i32x4(0, 1, 2, 3);
      sv = f32x4.add(sv, v128.and(e, i32x4.lt_s(lane, i32x4.splat(cnt))));
    }
    const sum = <f64>f32x4.extract_lane(sv, 0) + <f64>f32x4.extract_lane(sv, 1)
      + <f64>f32x4.extract_lane(sv, 2) + <f64>f32x4.extract_lane(sv, 3);
    const lse = f32x4.splat(<f32>(<f64>top + Math.log(sum)));
    j = 0;
    for (; j + 4 <= cols; j += 4) {
      const o = <usize>j << 2;
      v128.store(orow + o, f32x4.sub(v128.load(xr + o), lse));
    }
    for (; j < cols; j++) {
      const o = <usize>j << 2;
      store<f32>(orow + o, load<f32>(xr + o) - f32x4.extract_lane(lse, 0));
    }
  }
}

// @ts-ignore: decorator
@inline function adamBody(
  param: usize, grad: usize, m: usize, v: usize,
  b1: v128, c1: v128, b2: v128, c2: v128, wd: v128, kp: v128, ss: v128, sb: v128, ep: v128, cnt: i32,
): void {
  const p = loadN(param, cnt);
  const g = f32x4.add(loadN(grad, cnt), f32x4.mul(wd, p));
  const mi = f32x4.add(f32x4.mul(b1, loadN(m, cnt)), f32x4.mul(c1, g));
  const vi = f32x4.add(f32x4.mul(b2, loadN(v, cnt)), f32x4.mul(f32x4.mul(c2, g), g));
  storeN(m, mi, cnt);
  storeN(v, vi, cnt);
  const denom = f32x4.add(f32x4.div(f32x4.sqrt(vi), sb), ep);
  storeN(param, f32x4.sub(f32x4.mul(p, kp), f32x4.div(f32x4.mul(ss, mi), denom)), cnt);
}

/**
 * One Adam/AdamW step over n floats:
 * g = grad + wd·p; m = b1·m + (1-b1)·g; v = b2·v + (1-b2)·g²;
 * p = p·keep - stepSize·m / (sqrt(v)/sqrtBc2 + eps).
 */
export function adam(
  param: usize, grad: usize, m: usize, v: usize, n: i32,
  stepSize: f32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32,
  eps: f32, sqrtBc2: f32, weightDecay: f32, keep: f32,
): void {
  const b1 = f32x4.splat(beta1), c1 = f32x4.splat(oneMinusBeta1);
  const b2 = f32x4.splat(beta2), c2 = f32x4.splat(oneMinusBeta2);
  const wd = f32x4.splat(weightDecay), kp = f32x4.splat(keep);
  const ss = f32x4.splat(stepSize), sb = f32x4.splat(sqrtBc2), ep = f32x4.splat(eps);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    adamBody(param + o, grad + o, m + o, v + o, b1, c1, b2, c2, wd, kp, ss, sb, ep, 4);
  }
  if (i < n) {
    const o = <usize>i << 2;
    adamBody(param + o, grad + o, m + o, v + o, b1, c1, b2, c2, wd, kp, ss, sb, ep, n - i);
  }
}
