import { addInto, checkSameDtype, record, output, type Variable } from '../../autograd/index.js';
import { kernels } from '../../kernels/index.js';
import { ConfigError, DataError, ShapeError, Tensor, allocate, checkShape, expected, type Arr } from '../../tensor/index.js';
import type { CellSteps, StepContext } from './cell-steps.js';

export interface LayerWeights {
  weightIh: Variable;
  weightHh: Variable;
  biasIh: Variable | null;
  biasHh: Variable | null;
}

export interface LayerOptions {
  /** the cell's step math, from cellStepsFor */
  cell: CellSteps;
  reverse?: boolean;
  /** Valid steps per batch row, each in [1, T]; steps at and after a row's length are padding. */
  lengths?: Int32Array | null;
  /** instrumentation: gate activations after forward, dL/dh_t at every backward step */
  probe?: LayerProbe | null;
  /** rescales each batch row of dL/dh_t to at most this norm, at every backward step */
  hiddenGradClip?: number | null;
}

/**
 * Sees inside a layer op without changing it. Time indices are positions in
 * the sequence (t = 0 is the first input), whatever the direction.
 */
export interface LayerProbe {
  /** activations [T, B, gates·H]: LSTM i,f,g,o; GRU r,z,n; RNN the outputs h */
  forward?(activations: Arr, steps: number, batch: number, hidden: number, gateNames: readonly string[]): void;
  /** dh: dL/dh_t, everything that reaches h_t (its output and the future); dc: dL/dc_t along the cell path (LSTM) */
  backward?(t: number, dh: Arr, dc: Arr | null): void;
}

export interface LayerResult {
  /** [T, B, H]; zero at padded steps */
  output: Variable;
  /** [B, H]: each row's state after its own last valid step */
  h: Variable;
  c: Variable | null;
}

/** Checks lengths against T and B and turns them into Int32Array. */
export function validateLengths(where: string, lengths: ArrayLike<number>, steps: number, batch: number): Int32Array {
  if (lengths.length !== batch) throw new ShapeError(expected(where, `${batch} lengths (one per batch row)`, lengths.length));
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    const len = lengths[b]!;
    if (!Number.isInteger(len) || len < 1 || len > steps) {
      throw new DataError(expected(where, `each length an integer in [1, ${steps}]`, `${len} for batch row ${b}`));
    }
    out[b] = len;
  }
  return out;
}

/**
 * One recurrent layer in one direction over a whole sequence, as a single tape
 * node. Forward: one GEMM for the input projection of all T·B rows, then per
 * step one recurrent GEMM and one fused pointwise kernel. Backward: the time loop
 * produces the pre-activation gradients of every step; the weight gradients and
 * the input gradient are then merged GEMMs over all T·B rows.
 */
export function recurrentLayer(x: Variable, h0: Variable | null, c0: Variable | null, w: LayerWeights, opts: LayerOptions): LayerResult {
  const cell = opts.cell;
  checkShape('recurrentLayer: input', x.shape, [-1, -1, -1], ['T', 'B', 'features']);
  const [T, B, F] = x.shape as [number, number, number];
  if (T < 1 || B < 1) throw new ShapeError(expected('recurrentLayer: input', 'at least one step and one batch row', [...x.shape]));
  const H = w.weightHh.shape[1]!;
  const G = cell.gateCount * H;
  checkShape('recurrentLayer: weight_ih', w.weightIh.shape, [G, F]);
  checkShape('recurrentLayer: weight_hh', w.weightHh.shape, [G, H]);
  if (w.biasIh) checkShape('recurrentLayer: bias_ih', w.biasIh.shape, [G]);
  if (w.biasHh) checkShape('recurrentLayer: bias_hh', w.biasHh.shape, [G]);
  if (h0) checkShape('recurrentLayer: h0', h0.shape, [B, H]);
  if (c0) checkShape('recurrentLayer: c0', c0.shape, [B, H]);
  checkSameDtype('recurrentLayer', [w.weightIh, w.weightHh, w.biasIh, w.biasHh, x, h0, c0].filter((v): v is Variable => v !== null));
  const clip = opts.hiddenGradClip ?? null;
  if (clip !== null && !(clip > 0 && Number.isFinite(clip))) throw new ConfigError(expected('recurrentLayer', 'hiddenGradClip a finite number > 0, or null', clip));
  const reverse = opts.reverse ?? false;
  const lengths = opts.lengths ?? null;
  const dtype = x.dtype;
  const K = kernels();
  const BH = B * H;
  const alloc = (n: number): Arr => allocate(dtype, n);

  const ctx: StepContext = {
    K, batch: B, hidden: H, width: G,
    wHh: w.weightHh.data, bHh: w.biasHh?.data ?? null,
    xp: alloc(T * B * G),
    gates: cell.gateCount > 1 ? alloc(T * B * G) : alloc(0),
    hp: alloc(cell.keepsHiddenProjection ? T * B * G : 0),
    rh: alloc(cell.keepsResetProduct ? T * BH : 0),
    dXp: alloc(0), dHp: alloc(0), scratch: alloc(0),
  };
  K.gemm(false, true, T * B, G, F, x.data, w.weightIh.data, ctx.xp, false);
  if (w.biasIh) K.addRowVector(ctx.xp, w.biasIh.data, T * B, G);

  // States live in T+1 slots laid out in time order: the step at time t reads
  // slot prev(t) and writes slot next(t). Then the T states fed into the steps
  // are one contiguous [T·B, H] block, aligned with the time-ordered buffers
  // for the merged dW_hh GEMM.
  const prev = (t: number) => (reverse ? t + 1 : t);
  const next = (t: number) => (reverse ? t : t + 1);
  const first = reverse ? T : 0;
  const last = reverse ? 0 : T;
  const hs = alloc((T + 1) * BH);
  const cs = cell.hasCell ? alloc((T + 1) * BH) : null;
  if (h0) hs.set(h0.data, first * BH);
  if (cs && c0) cs.set(c0.data, first * BH);
  const slot = (buf: Arr, s: number) => buf.subarray(s * BH, (s + 1) * BH);
  const active = activeRows(lengths, T, B);

  const y = alloc(T * BH);
  for (let i = 0; i < T; i++) {
    const t = reverse ? T - 1 - i : i;
    const hPrev = slot(hs, prev(t)), hNew = slot(hs, next(t));
    const cPrev = cs ? slot(cs, prev(t)) : null, cNew = cs ? slot(cs, next(t)) : null;
    cell.forward(ctx, t, hPrev, hNew, cPrev, cNew);
    const mask = active(t);
    if (mask) {
      copyRows(hNew, hPrev, mask, H);
      if (cNew && cPrev) copyRows(cNew, cPrev, mask, H);
    }
    const yt = y.subarray(t * BH, (t + 1) * BH);
    yt.set(hNew);
    if (mask) zeroRows(yt, mask, H);
  }

  opts.probe?.forward?.(cell.gateCount > 1 ? ctx.gates : y, T, B, H, cell.gateNames);

  const out = output(new Tensor([T, B, H], y));
  const hOut = output(new Tensor([B, H], slot(hs, last).slice()));
  const cOut = cs ? output(new Tensor([B, H], slot(cs, last).slice())) : null;
  const inputs = [x, h0, c0, w.weightIh, w.weightHh, w.biasIh, w.biasHh].filter((v): v is Variable => v !== null);
  const outputs = cOut ? [out, hOut, cOut] : [out, hOut];

  record(`${cell.name}Layer`, inputs, outputs, () => {
    ctx.dXp = alloc(T * B * G);
    ctx.dHp = cell.separateHiddenGrad ? alloc(T * B * G) : ctx.dXp;
    ctx.scratch = alloc(BH);
    const dY = out.grad?.data ?? null;
    let dh = alloc(BH), dhPrev = alloc(BH);
    if (hOut.grad) dh.set(hOut.grad.data);
    const dc = cs ? alloc(BH) : null;
    if (dc && cOut?.grad) dc.set(cOut.grad.data);
    const dcSaved = cs ? alloc(BH) : null;

    for (let i = T - 1; i >= 0; i--) {
      const t = reverse ? T - 1 - i : i;
      const mask = active(t);
      if (dY) addRows(dh, dY.subarray(t * BH, (t + 1) * BH), mask, H);
      if (clip) clipRowNorms(dh, H, clip);
      opts.probe?.backward?.(t, dh, dc);
      if (dc && dcSaved && mask) dcSaved.set(dc);
      const hPrev = slot(hs, prev(t)), hNew = slot(hs, next(t));
      const cPrev = cs ? slot(cs, prev(t)) : null, cNew = cs ? slot(cs, next(t)) : null;
      cell.backward(ctx, t, hPrev, hNew, cPrev, cNew, dh, dc, dhPrev);
      if (mask) {
        // Padded rows: no gradient into this step; the carried gradients pass through unchanged.
        zeroRows(ctx.dXp.subarray(t * B * G, (t + 1) * B * G), mask, G);
        if (ctx.dHp !== ctx.dXp) zeroRows(ctx.dHp.subarray(t * B * G, (t + 1) * B * G), mask, G);
        copyRows(dhPrev, dh, mask, H);
        if (dc && dcSaved) copyRows(dc, dcSaved, mask, H);
      }
      [dh, dhPrev] = [dhPrev, dh];
    }

    const rowsTB = T * B;
    if (x.requiresGrad) K.gemm(false, false, rowsTB, F, G, ctx.dXp, w.weightIh.data, x.gradData(), true);
    if (w.weightIh.requiresGrad) K.gemm(true, false, G, F, rowsTB, ctx.dXp, x.data, w.weightIh.gradData(), true);
    if (w.biasIh?.requiresGrad) K.sumRows(ctx.dXp, rowsTB, G, w.biasIh.gradData());
    const firstPrev = reverse ? 1 : 0;
    const hPrevAll = hs.subarray(firstPrev * BH, (firstPrev + T) * BH);
    if (w.weightHh.requiresGrad) cell.hiddenWeightGrad(ctx, T, hPrevAll, w.weightHh.gradData());
    if (w.biasHh?.requiresGrad) K.sumRows(ctx.dHp, rowsTB, G, w.biasHh.gradData());
    if (h0?.requiresGrad) addInto(h0.gradData(), dh);
    if (c0?.requiresGrad && dc) addInto(c0.gradData(), dc);
  });

  return { output: out, h: hOut, c: cOut };
}

/** For each t, a mask of inactive rows (1 = padding), or null when every row is active. */
function activeRows(lengths: Int32Array | null, T: number, B: number): (t: number) => Uint8Array | null {
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

/** Padded rows of dst take the rows of src. */
function copyRows(dst: Arr, src: Arr, padded: Uint8Array, width: number): void {
  for (let b = 0; b < padded.length; b++) if (padded[b]) dst.set(src.subarray(b * width, (b + 1) * width), b * width);
}

function zeroRows(dst: Arr, padded: Uint8Array, width: number): void {
  for (let b = 0; b < padded.length; b++) if (padded[b]) dst.fill(0, b * width, (b + 1) * width);
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

/** dst += src on the active rows only: padded outputs are constants and send no gradient. */
function addRows(dst: Arr, src: Arr, padded: Uint8Array | null, width: number): void {
  for (let b = 0; b < dst.length / width; b++) {
    if (padded && padded[b]) continue;
    for (let j = b * width; j < (b + 1) * width; j++) dst[j]! += src[j]!;
  }
}
