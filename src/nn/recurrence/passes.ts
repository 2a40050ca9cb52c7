import type { Arr } from '../../tensor/index.js';
import type { CellSteps, StepContext } from './cell-steps.js';
import type { LayerProbe } from './probe.js';

/**
 * The states of one layer-direction over a sequence. They live in T+1 slots in
 * time order: the step at time t reads slot prev(t) and writes slot next(t), so
 * the T states fed into the steps form one contiguous [T·B, H] block aligned
 * with the time-ordered buffers, for the merged dW_hh GEMM.
 */
export class Trajectory {
  readonly hs: Arr;
  readonly cs: Arr | null;
  private readonly size: number;

  constructor(readonly steps: number, batch: number, hidden: number, readonly reverse: boolean, hasCell: boolean,
    alloc: (n: number) => Arr, h0: Arr | null, c0: Arr | null) {
    this.size = batch * hidden;
    this.hs = alloc((steps + 1) * this.size);
    this.cs = hasCell ? alloc((steps + 1) * this.size) : null;
    const first = reverse ? steps : 0;
    if (h0) this.hs.set(h0, first * this.size);
    if (this.cs && c0) this.cs.set(c0, first * this.size);
  }

  /** Time of the i-th step in processing order. */
  time(i: number): number {
    return this.reverse ? this.steps - 1 - i : i;
  }

  /** The state read by the step at time t. */
  before(buf: Arr, t: number): Arr {
    return this.slot(buf, this.reverse ? t + 1 : t);
  }

  /** The state written by the step at time t. */
  after(buf: Arr, t: number): Arr {
    return this.slot(buf, this.reverse ? t : t + 1);
  }

  /** The state after the last step processed. */
  final(buf: Arr): Arr {
    return this.slot(buf, this.reverse ? 0 : this.steps);
  }

  /** The T states fed into the steps, [T·B, H] in time order. */
  fedStates(): Arr {
    const from = this.reverse ? 1 : 0;
    return this.hs.subarray(from * this.size, (from + this.steps) * this.size);
  }

  private slot(buf: Arr, s: number): Arr {
    return buf.subarray(s * this.size, (s + 1) * this.size);
  }
}

/** For each t, the rows that are padding at t (1), or null when every row is active. */
export type Padding = (t: number) => Uint8Array | null;

export function paddingMasks(lengths: Int32Array | null, T: number, B: number): Padding {
  if (!lengths) return () => null;
  const masks: Array<Uint8Array | null> = [];
  for (let t = 0; t < T; t++) {
    const m = new Uint8Array(B);
    let any = false;
    for (let b = 0; b < B; b++) if (t >= lengths[b]!) (m[b] = 1), (any = true);
    masks.push(any ? m : null);
  }
  return (t) => masks[t]!;
}

/** The time loop: each step one recurrent GEMM and one fused kernel; padded rows keep their state and output 0. */
export function forwardPass(ctx: StepContext, cell: CellSteps, path: Trajectory, padding: Padding, y: Arr): void {
  const BH = ctx.batch * ctx.hidden;
  for (let i = 0; i < path.steps; i++) {
    const t = path.time(i);
    const hPrev = path.before(path.hs, t), hNew = path.after(path.hs, t);
    const cPrev = path.cs && path.before(path.cs, t), cNew = path.cs && path.after(path.cs, t);
    cell.forward(ctx, t, hPrev, hNew, cPrev, cNew);
    const mask = padding(t);
    if (mask) {
      copyRows(hNew, hPrev, mask, ctx.hidden);
      if (cNew && cPrev) copyRows(cNew, cPrev, mask, ctx.hidden);
    }
    const yt = y.subarray(t * BH, (t + 1) * BH);
    yt.set(hNew);
    if (mask) zeroRows(yt, mask, ctx.hidden);
  }
}

/**
 * The backward time loop: fills ctx.dXp (and ctx.dHp) for every step and
 * returns the gradients carried past the first step, into the initial state.
 * dh and dc hold the gradients of the final state on entry.
 */
export function backwardPass(ctx: StepContext, cell: CellSteps, path: Trajectory, padding: Padding, dY: Arr | null,
  dhFinal: Arr, dc: Arr | null, probe: LayerProbe | null, clip: number | null): { dh: Arr; dc: Arr | null } {
  const { batch: B, hidden: H, width: G } = ctx;
  const BH = B * H;
  let dh: Arr = dhFinal, dhPrev: Arr = dhFinal.slice();
  const dcSaved = dc ? dc.slice() : null;
  for (let i = path.steps - 1; i >= 0; i--) {
    const t = path.time(i);
    const mask = padding(t);
    if (dY) addRows(dh, dY.subarray(t * BH, (t + 1) * BH), mask, H);
    if (clip) clipRowNorms(dh, H, clip);
    probe?.backward?.(t, dh, dc);
    if (dc && dcSaved && mask) dcSaved.set(dc);
    const cPrev = path.cs && path.before(path.cs, t), cNew = path.cs && path.after(path.cs, t);
    cell.backward(ctx, t, path.before(path.hs, t), path.after(path.hs, t), cPrev, cNew, dh, dc, dhPrev);
    if (mask) {
      // Padded rows: no gradient into this step; the carried gradients pass through unchanged.
      zeroRows(ctx.dXp.subarray(t * B * G, (t + 1) * B * G), mask, G);
      if (ctx.dHp !== ctx.dXp) zeroRows(ctx.dHp.subarray(t * B * G, (t + 1) * B * G), mask, G);
      copyRows(dhPrev, dh, mask, H);
      if (dc && dcSaved) copyRows(dc, dcSaved, mask, H);
    }
    [dh, dhPrev] = [dhPrev, dh];
  }
  return { dh, dc };
}

/** Padded rows of dst take the rows of src. */
function copyRows(dst: Arr, src: Arr, padded: Uint8Array, width: number): void {
  for (let b = 0; b < padded.length; b++) if (padded[b]) dst.set(src.subarray(b * width, (b + 1) * width), b * width);
}

function zeroRows(dst: Arr, padded: Uint8Array, width: number): void {
  for (let b = 0; b < padded.length; b++) if (padded[b]) dst.fill(0, b * width, (b + 1) * width);
}

/** dst += src on the active rows only: padded outputs are constants and send no gradient. */
function addRows(dst: Arr, src: Arr, padded: Uint8Array | null, width: number): void {
  for (let b = 0; b < dst.length / width; b++) {
    if (padded && padded[b]) continue;
    for (let j = b * width; j < (b + 1) * width; j++) dst[j]! += src[j]!;
  }
}

/** Scales each row whose L2 norm exceeds maxNorm down to maxNorm. */
function clipRowNorms(g: Arr, width: number, maxNorm: number): void {
  for (let r = 0; r < g.length; r += width) {
    let sq = 0;
    for (let j = r; j < r + width; j++) sq += g[j]! * g[j]!;
    if (sq > maxNorm * maxNorm) {
      const k = maxNorm / Math.sqrt(sq);
      for (let j = r; j < r + width; j++) g[j]! *= k;
    }
  }
}
