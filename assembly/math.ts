// Vector (f32x4) exp, sigmoid and tanh.
//
// exp: Cody–Waite range reduction x = n·ln2 + r, |r| ≤ ln2/2, a degree-6
// polynomial for e^r (Cephes expf coefficients), and 2^n built in the exponent
// bits. Inputs are clamped to [-87, 88], so exp never overflows (largest
// result ≈ 1.65e38) and never returns a denormal or 0 (smallest ≈ 1.65e-38);
// NaN stays NaN.
// sigmoid is 1/(1 + e^-x). tanh is a rational approximation (below) that
// saturates to exactly ±1 and has no cancellation near 0.

import { madd } from './simd';

const LOG2E: f32 = 1.44269504088896341;
const LN2_HI: f32 = 0.693359375;
const LN2_LO: f32 = -2.12194440e-4;
const EXP_MAX: f32 = 88.0; // n ≤ 127: 2^n stays finite (e^88 ≈ 1.65e38)
const EXP_MIN: f32 = -87.0; // n ≥ -126: 2^n stays normal (e^-87 ≈ 1.65e-38)
const ROUND: f32 = 12582912.0; // 1.5·2^23: adding it rounds to an integer

// @ts-ignore: decorator
@inline export function expv(x: v128): v128 {
  // pmin/pmax map to one instruction each and let NaN through.
  x = f32x4.pmax(f32x4.pmin(x, f32x4.splat(EXP_MAX)), f32x4.splat(EXP_MIN));
  const t = madd(x, f32x4.splat(LOG2E), f32x4.splat(ROUND));
  const n = f32x4.sub(t, f32x4.splat(ROUND));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(LN2_HI)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(LN2_LO)));
  let y = f32x4.splat(1.9875691500e-4);
  y = madd(y, r, f32x4.splat(1.3981999507e-3));
  y = madd(y, r, f32x4.splat(8.3334519073e-3));
  y = madd(y, r, f32x4.splat(4.1665795894e-2));
  y = madd(y, r, f32x4.splat(1.6666665459e-1));
  y = madd(y, r, f32x4.splat(5.0000001201e-1));
  y = madd(y, f32x4.mul(r, r), f32x4.add(r, f32x4.splat(1)));
  // t's low mantissa bits hold n: (n + 127) << 23 is 2^n.
  const scale = i32x4.shl(i32x4.add(t, i32x4.splat(127)), 23);
  return f32x4.mul(y, scale);
}

// @ts-ignore: decorator
@inline export function sigmoidv(x: v128): v128 {
  const one = f32x4.splat(1);
  return f32x4.div(one, f32x4.add(one, expv(f32x4.neg(x))));
}

// @ts-ignore: decorator
@inline export function tanhv(x: v128): v128 {
  // Odd/even rational minimax approximation on [-7.905, 7.905] (Eigen's
  // fast float tanh): p(x)/q(x), and exactly ±1 beyond the clamp.
  // About half the work of an exp-based tanh; within 4e-7 relative of tanh.
  const c = f32x4.splat(7.90531110763549805);
  const outside = f32x4.gt(f32x4.abs(x), c); // false for NaN
  const sign = v128.and(x, i32x4.splat(0x80000000));
  x = f32x4.pmax(f32x4.pmin(x, c), f32x4.neg(c));
  const x2 = f32x4.mul(x, x);
  let p = f32x4.splat(-2.76076847742355e-16);
  p = madd(p, x2, f32x4.splat(2.00018790482477e-13));
  p = madd(p, x2, f32x4.splat(-8.60467152213735e-11));
  p = madd(p, x2, f32x4.splat(5.12229709037114e-8));
  p = madd(p, x2, f32x4.splat(1.48572235717979e-5));
  p = madd(p, x2, f32x4.splat(6.37261928875436e-4));
  p = madd(p, x2, f32x4.splat(4.89352455891786e-3));
  let q = f32x4.splat(1.19825839466702e-6);
  q = madd(q, x2, f32x4.splat(1.18534705686654e-4));
  q = madd(q, x2, f32x4.splat(2.26843463243900e-3));
  q = madd(q, x2, f32x4.splat(4.89352518554385e-3));
  const r = f32x4.div(f32x4.mul(p, x), q);
  // exactly ±1 beyond the clamp, whether or not the engine fuses the madds
  return v128.bitselect(v128.or(f32x4.splat(1), sign), r, outside);
}

/** Test hooks: apply the vector functions to n floats (op 0 exp, 1 sigmoid, 2 tanh). */
export function mapMath(op: i32, x: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>(i << 2);
    const v = v128.load(x + o);
    v128.store(out + o, op == 0 ? expv(v) : op == 1 ? sigmoidv(v) : tanhv(v));
  }
  for (; i < n; i++) {
    const o = <usize>(i << 2);
    const v = f32x4.splat(load<f32>(x + o));
    store<f32>(out + o, f32x4.extract_lane(op == 0 ? expv(v) : op == 1 ? sigmoidv(v) : tanhv(v), 0));
  }
}
