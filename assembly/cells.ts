// Fused pointwise steps of the recurrent cells (see src/kernels/kernels.ts for
// the contracts and src/kernels/reference.ts for the plain-TS truth).
//
// Every kernel walks the batch rows and, inside a row, the hidden units four
// at a time; the last 1..3 units of a row go through the same @inline body with
// partial loads and stores (`cnt` < 4), so the full-width path has no branches.
// Pointers are byte addresses; `gs` is the byte offset between gate blocks (H·4).

import { loadN, storeN } from './simd';
import { sigmoidv, tanhv } from './math';

// @ts-ignore: decorator
@inline function one(): v128 {
  return f32x4.splat(1);
}

// ---------------------------------------------------------------- LSTM

// @ts-ignore: decorator
@inline function lstmFwdBody(g: usize, cp: usize, c: usize, h: usize, gs: usize, cnt: i32): void {
  const i = sigmoidv(loadN(g, cnt));
  const f = sigmoidv(loadN(g + gs, cnt));
  const gg = tanhv(loadN(g + 2 * gs, cnt));
  const o = sigmoidv(loadN(g + 3 * gs, cnt));
  const ct = f32x4.add(f32x4.mul(f, loadN(cp, cnt)), f32x4.mul(i, gg));
  storeN(g, i, cnt);
  storeN(g + gs, f, cnt);
  storeN(g + 2 * gs, gg, cnt);
  storeN(g + 3 * gs, o, cnt);
  storeN(c, ct, cnt);
  storeN(h, f32x4.mul(o, tanhv(ct)), cnt);
}

export function lstmForward(g: usize, cPrev: usize, c: usize, h: usize, batch: i32, hidden: i32): void {
  const gs = <usize>hidden << 2;
  for (let b = 0; b < batch; b++) {
    const gRow = g + <usize>b * 4 * gs;
    const sRow = <usize>b * gs;
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      lstmFwdBody(gRow + o, cPrev + sRow + o, c + sRow + o, h + sRow + o, gs, 4);
    }
    if (j < hidden) {
      const o = <usize>j << 2;
      lstmFwdBody(gRow + o, cPrev + sRow + o, c + sRow + o, h + sRow + o, gs, hidden - j);
    }
  }
}

// @ts-ignore: decorator
@inline function lstmBwdBody(
  gt: usize, cp: usize, c: usize, dh: usize, dc: usize, dg: usize, gs: usize, cnt: i32,
): void {
  const i = loadN(gt, cnt);
  const f = loadN(gt + gs, cnt);
  const gg = loadN(gt + 2 * gs, cnt);
  const o = loadN(gt + 3 * gs, cnt);
  const tc = tanhv(loadN(c, cnt));
  const dht = loadN(dh, cnt);
  const dct = f32x4.add(loadN(dc, cnt), f32x4.mul(f32x4.mul(dht, o), f32x4.sub(one(), f32x4.mul(tc, tc))));
  storeN(dg, f32x4.mul(f32x4.mul(dct, gg), f32x4.mul(i, f32x4.sub(one(), i))), cnt);
  storeN(dg + gs, f32x4.mul(f32x4.mul(dct, loadN(cp, cnt)), f32x4.mul(f, f32x4.sub(one(), f))), cnt);
  storeN(dg + 2 * gs, f32x4.mul(f32x4.mul(dct, i), f32x4.sub(one(), f32x4.mul(gg, gg))), cnt);
  storeN(dg + 3 * gs, f32x4.mul(f32x4.mul(dht, tc), f32x4.mul(o, f32x4.sub(one(), o))), cnt);
  storeN(dc, f32x4.mul(dct, f), cnt);
}

export function lstmBackward(
  gates: usize, cPrev: usize, c: usize, dh: usize, dc: usize, dG: usize, batch: i32, hidden: i32,
): void {
  const gs = <usize>hidden << 2;
  for (let b = 0; b < batch; b++) {
    const gRow = <usize>b * 4 * gs;
    const sRow = <usize>b * gs;
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const s = sRow + o;
      lstmBwdBody(gates + gRow + o, cPrev + s, c + s, dh + s, dc + s, dG + gRow + o, gs, 4);
    }
    if (j < hidden) {
      const o = <usize>j << 2;
      const s = sRow + o;
      lstmBwdBody(gates + gRow + o, cPrev + s, c + s, dh + s, dc + s, dG + gRow + o, gs, hidden - j);
    }
  }
}

// ---------------------------------------------------------------- GRU, linear before reset

/** h = (1 - z)·n + z·hPrev */
// @ts-ignore: decorator
@inline function blend(z: v128, n: v128, hp: v128): v128 {
  return f32x4.add(f32x4.mul(f32x4.sub(one(), z), n), f32x4.mul(z, hp));
}

// @ts-ignore: decorator
@inline function gruFwdBody(xp: usize, hp: usize, hPrev: usize, gt: usize, h: usize, gs: usize, cnt: i32): void {
  const r = sigmoidv(f32x4.add(loadN(xp, cnt), loadN(hp, cnt)));
  const z = sigmoidv(f32x4.add(loadN(xp + gs, cnt), loadN(hp + gs, cnt)));
  const n = tanhv(f32x4.add(loadN(xp + 2 * gs, cnt), f32x4.mul(r, loadN(hp + 2 * gs, cnt))));
  storeN(gt, r, cnt);
  storeN(gt + gs, z, cnt);
  storeN(gt + 2 * gs, n, cnt);
  storeN(h, blend(z, n, loadN(hPrev, cnt)), cnt);
}

export function gruForward(xp: usize, hp: usize, hPrev: usize, gates: usize, h: usize, batch: i32, hidden: i32): void {
  const gs = <usize>hidden << 2;
  for (let b = 0; b < batch; b++) {
    const gRow = <usize>b * 3 * gs;
    const sRow = <usize>b * gs;
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const g = gRow + o, s = sRow + o;
      gruFwdBody(xp + g, hp + g, hPrev + s, gates + g, h + s, gs, 4);
    }
    if (j < hidden) {
      const o = <usize>j << 2;
      const g = gRow + o, s = sRow + o;
      gruFwdBody(xp + g, hp + g, hPrev + s, gates + g, h + s, gs, hidden - j);
    }
  }
}

// @ts-ignore: decorator
@inline function gruBwdBody(
  gt: usize, hp: usize, hPrev: usize, dh: usize, dxp: usize, dhp: usize, dhPrev: usize, gs: usize, cnt: i32,
): void {
  const r = loadN(gt, cnt);
  const z = loadN(gt + gs, cnt);
  const n = loadN(gt + 2 * gs, cnt);
  const dht = loadN(dh, cnt);
  const dn = f32x4.mul(f32x4.mul(dht, f32x4.sub(one(), z)), f32x4.sub(one(), f32x4.mul(n, n)));
  const dz = f32x4.mul(f32x4.mul(dht, f32x4.sub(loadN(hPrev, cnt), n)), f32x4.mul(z, f32x4.sub(one(), z)));
  const dr = f32x4.mul(f32x4.mul(dn, loadN(hp + 2 * gs, cnt)), f32x4.mul(r, f32x4.sub(one(), r)));
  storeN(dxp, dr, cnt);
  storeN(dxp + gs, dz, cnt);
  storeN(dxp + 2 * gs, dn, cnt);
  storeN(dhp, dr, cnt);
  storeN(dhp + gs, dz, cnt);
  storeN(dhp + 2 * gs, f32x4.mul(dn, r), cnt);
  storeN(dhPrev, f32x4.mul(dht, z), cnt);
}

export function gruBackward(
  gates: usize, hp: usize, hPrev: usize, dh: usize, dXp: usize, dHp: usize, dhPrev: usize, batch: i32, hidden: i32,
): void {
  const gs = <usize>hidden << 2;
  for (let b = 0; b < batch; b++) {
    const gRow = <usize>b * 3 * gs;
    const sRow = <usize>b * gs;
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const g = gRow + o, s = sRow + o;
      gruBwdBody(gates + g, hp + g, hPrev + s, dh + s, dXp + g, dHp + g, dhPrev + s, gs, 4);
    }
    if (j < hidden) {
      const o = <usize>j << 2;
      const g = gRow + o, s = sRow + o;
      gruBwdBody(gates + g, hp + g, hPrev + s, dh + s, dXp + g, dHp + g, dhPrev + s, gs, hidden - j);
    }
  }
}

// ---------------------------------------------------------------- GRU, reset before the matmul

// @ts-ignore: decorator
@inline function resetGatesBody(xp: usize, hp: usize, hPrev: usize, gt: usize, rh: usize, gs: usize, cnt: i32): void {
  const r = sigmoidv(f32x4.add(loadN(xp, cnt), loadN(hp, cnt)));
  storeN(gt, r, cnt);
  storeN(gt + gs, sigmoidv(f32x4.add(loadN(xp + gs, cnt), loadN(hp + gs, cnt))), cnt);
  storeN(rh, f32x4.mul(r, loadN(hPrev, cnt)), cnt);
}

export function gruResetGates(xp: usize, hp: usize, hPrev: usize, gates: usize, rh: usize, batch: i32, hidden: i32): void {
  const gs = <usize>hidden << 2;
  for (let b = 0; b < batch; b++) {
    const gRow = <usize>b * 3 * gs;
    const sRow = <usize>b * gs;
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const g = gRow + o, s = sRow + o;
      resetGatesBody(xp + g, hp + g, hPrev + s, gates + g, rh + s, gs, 4);
    }
    if (j < hidden) {
      const o = <usize>j << 2;
      const g = gRow + o, s = sRow + o;
      resetGatesBody(xp + g, hp + g, hPrev + s, gates + g, rh + s, gs, hidden - j);
    }
  }
}

// @ts-ignore: decorator
@inline function resetOutputBody(xp: usize, hp: usize, hPrev: usize, gt: usize, h: usize, gs: usize, cnt: i32): void {
  const z = loadN(gt + gs, cnt);
  const n = tanhv(f32x4.add(loadN(xp + 2 * gs, cnt), loadN(hp + 2 * gs, cnt)));
  storeN(gt + 2 * gs, n, cnt);
  storeN(h, blend(z, n, loadN(hPrev, cnt)), cnt);
}

export function gruResetOutput(xp: usize, hp: usize, hPrev: usize, gates: usize, h: usize, batch: i32, hidden: i32): void {
  const gs = <usize>hidden << 2;
  for (let b = 0; b < batch; b++) {
    const gRow = <usize>b * 3 * gs;
    const sRow = <usize>b * gs;
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const g = gRow + o, s = sRow + o;
      resetOutputBody(xp + g, hp + g, hPrev + s, gates + g, h + s, gs, 4);
    }
    if (j < hidden) {
      const o = <usize>j << 2;
      const g = gRow + o, s = sRow + o;
      resetOutputBody(xp + g, hp + g, hPrev + s, gates + g, h + s, gs, hidden - j);
    }
  }
}

// @ts-ignore: decorator
@inline function resetZNBody(gt: usize, hPrev: usize, dh: usize, dg: usize, dhPrev: usize, gs: usize, cnt: i32): void {
  const z = loadN(gt + gs, cnt);
  const n = loadN(gt + 2 * gs, cnt);
  const dht = loadN(dh, cnt);
  storeN(dg + gs, f32x4.mul(f32x4.mul(dht, f32x4.sub(loadN(hPrev, cnt), n)), f32x4.mul(z, f32x4.sub(one(), z))), cnt);
  storeN(dg + 2 * gs, f32x4.mul(f32x4.mul(dht, f32x4.sub(one(), z)), f32x4.sub(one(), f32x4.mul(n, n))), cnt);
  storeN(dhPrev, f32x4.mul(dht, z), cnt);
}

export function gruResetBackwardZN(gates: usize, hPrev: usize, dh: usize, dG: usize, dhPrev: usize, batch: i32, hidden: i32): void {
  const gs = <usize>hidden << 2;
  for (let b = 0; b < batch; b++) {
    const gRow = <usize>b * 3 * gs;
    const sRow = <usize>b * gs;
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const g = gRow + o, s = sRow + o;
      resetZNBody(gates + g, hPrev + s, dh + s, dG + g, dhPrev + s, gs, 4);
    }
    if (j < hidden) {
      const o = <usize>j << 2;
      const g = gRow + o, s = sRow + o;
      resetZNBody(gates + g, hPrev + s, dh + s, dG + g, dhPrev + s, gs, hidden - j);
    }
  }
}

// @ts-ignore: decorator
@inline function resetRBody(gt: usize, hPrev: usize, dRh: usize, dg: usize, dhPrev: usize, cnt: i32): void {
  const r = loadN(gt, cnt);
  const drh = loadN(dRh, cnt);
  storeN(dg, f32x4.mul(f32x4.mul(drh, loadN(hPrev, cnt)), f32x4.mul(r, f32x4.sub(one(), r))), cnt);
  storeN(dhPrev, f32x4.add(loadN(dhPrev, cnt), f32x4.mul(drh, r)), cnt);
}

export function gruResetBackwardR(gates: usize, hPrev: usize, dRh: usize, dG: usize, dhPrev: usize, batch: i32, hidden: i32): void {
  const gs = <usize>hidden << 2;
  for (let b = 0; b < batch; b++) {
    const gRow = <usize>b * 3 * gs;
    const sRow = <usize>b * gs;
    let j = 0;
    for (; j + 4 <= hidden; j += 4) {
      const o = <usize>j << 2;
      const g = gRow + o, s = sRow + o;
      resetRBody(gates + g, hPrev + s, dRh + s, dG + g, dhPrev + s, 4);
    }
    if (j < hidden) {
      const o = <usize>j << 2;
      const g = gRow + o, s = sRow + o;
      resetRBody(gates + g, hPrev + s, dRh + s, dG + g, dhPrev + s, hidden - j);
    }
  }
}

// ---------------------------------------------------------------- vanilla RNN

// @ts-ignore: decorator
@inline function rnnFwdBody(p: usize, relu: bool, cnt: i32): void {
  const x = loadN(p, cnt);
  storeN(p, relu ? f32x4.pmax(x, f32x4.splat(0)) : tanhv(x), cnt);
}

/** In place: g = tanh(g) or relu(g) over n floats. */
export function rnnForward(g: usize, n: i32, relu: bool): void {
  let i = 0;
  if (relu) for (; i + 4 <= n; i += 4) rnnFwdBody(g + (<usize>i << 2), true, 4);
  else for (; i + 4 <= n; i += 4) rnnFwdBody(g + (<usize>i << 2), false, 4);
  if (i < n) rnnFwdBody(g + (<usize>i << 2), relu, n - i);
}

// @ts-ignore: decorator
@inline function rnnBwdBody(h: usize, dh: usize, dg: usize, relu: bool, cnt: i32): void {
  const hv = loadN(h, cnt);
  const d = loadN(dh, cnt);
  storeN(dg, relu ? v128.and(d, f32x4.gt(hv, f32x4.splat(0))) : f32x4.mul(d, f32x4.sub(one(), f32x4.mul(hv, hv))), cnt);
}

/** dG = dh · act'(from h) over n floats. */
export function rnnBackward(h: usize, dh: usize, dG: usize, n: i32, relu: bool): void {
  let i = 0;
  if (relu) for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    rnnBwdBody(h + o, dh + o, dG + o, true, 4);
  }
  else for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    rnnBwdBody(h + o, dh + o, dG + o, false, 4);
  }
  if (i < n) {
    const o = <usize>i << 2;
    rnnBwdBody(h + o, dh + o, dG + o, relu, n - i);
  }
}
