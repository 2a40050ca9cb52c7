import { addInto, checkSameDtype, record, output, type Variable } from '../../autograd/index.js';
import { kernels, type PackedB } from '../../kernels/index.js';
import {
  ConfigError, DataError, ShapeError, Tensor, allocate, checkShape, expected, requireBoolean, show, type Arr,
} from '../../tensor/index.js';
import type { CellSteps, StepContext } from './cell-steps.js';
import type { LayerProbe } from './probe.js';
import { Trajectory, backwardPass, forwardPass, paddingMasks } from './passes.js';

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
  const { cell } = opts;
  const { T, B, F, H, G } = validate(x, h0, c0, w, opts);
  const clip = opts.hiddenGradClip ?? null;
  const K = kernels();
  const alloc = (n: number): Arr => allocate(x.dtype, n);
  const ctx: StepContext = {
    K, batch: B, hidden: H, width: G,
    wHh: w.weightHh.data, wHhT: null, wHhN: null, bHh: w.biasHh?.data ?? null,
    xp: alloc(T * B * G),
    gates: alloc(cell.gateCount > 1 ? T * B * G : 0),
    hp: alloc(cell.keepsHiddenProjection ? T * B * G : 0),
    rh: alloc(cell.keepsResetProduct ? T * B * H : 0),
    dXp: alloc(0), dHp: alloc(0), scratch: alloc(0),
  };
  K.gemm(false, true, T * B, G, F, x.data, w.weightIh.data, ctx.xp, false);
  if (w.biasIh) K.addRowVector(ctx.xp, w.biasIh.data, T * B, G);
  if (w.biasHh && cell.foldsHiddenBias) K.addRowVector(ctx.xp, w.biasHh.data, T * B, G);
  const reverse = requireBoolean('recurrentLayer', 'reverse', opts.reverse, false);
  const path = new Trajectory(T, B, H, reverse, cell.hasCell, alloc, h0?.data ?? null, c0?.data ?? null);
  const padding = paddingMasks(opts.lengths ?? null, T, B);
  const y = alloc(T * B * H);
  withPacked(ctx, 'wHhT', cell.packsHiddenWeight ? () => K.packB(true, H, G, w.weightHh.data) : null, () => forwardPass(ctx, cell, path, padding, y));
  opts.probe?.forward?.(cell.gateCount > 1 ? ctx.gates : y, T, B, H, cell.gateNames);

  const out = output(new Tensor([T, B, H], y));
  const hOut = output(new Tensor([B, H], path.final(path.hs).slice()));
  const cOut = path.cs ? output(new Tensor([B, H], path.final(path.cs).slice())) : null;
  const inputs = [x, h0, c0, w.weightIh, w.weightHh, w.biasIh, w.biasHh].filter((v): v is Variable => v !== null);

  record(`${cell.name}Layer`, inputs, cOut ? [out, hOut, cOut] : [out, hOut], () => {
    ctx.dXp = alloc(T * B * G);
    ctx.dHp = cell.separateHiddenGrad ? alloc(T * B * G) : ctx.dXp;
    ctx.scratch = alloc(B * H);
    const dh = alloc(B * H);
    if (hOut.grad) dh.set(hOut.grad.data);
    const dc = path.cs ? alloc(B * H) : null;
    if (dc && cOut?.grad) dc.set(cOut.grad.data);
    const carried = withPacked(ctx, 'wHhN', cell.packsHiddenWeight ? () => K.packB(false, G, H, w.weightHh.data) : null,
      () => backwardPass(ctx, cell, path, padding, out.grad?.data ?? null, dh, dc, opts.probe ?? null, clip));

    // Everything that does not depend on the step order: merged GEMMs over all T·B rows.
    const rows = T * B;
    if (x.requiresGrad) K.gemm(false, false, rows, F, G, ctx.dXp, w.weightIh.data, x.gradData(), true);
    if (w.weightIh.requiresGrad) K.gemm(true, false, G, F, rows, ctx.dXp, x.data, w.weightIh.gradData(), true);
    if (w.biasIh?.requiresGrad) K.sumRows(ctx.dXp, rows, G, w.biasIh.gradData());
    if (w.weightHh.requiresGrad) cell.hiddenWeightGrad(ctx, T, path.fedStates(), w.weightHh.gradData());
    if (w.biasHh?.requiresGrad) K.sumRows(ctx.dHp, rows, G, w.biasHh.gradData());
    if (h0?.requiresGrad) addInto(h0.gradData(), carried.dh);
    if (c0?.requiresGrad && carried.dc) addInto(c0.gradData(), carried.dc);
  });

  return { output: out, h: hOut, c: cOut };
}

function validate(x: Variable, h0: Variable | null, c0: Variable | null, w: LayerWeights, opts: LayerOptions) {
  checkShape('recurrentLayer: input', x.shape, [-1, -1, -1], ['T', 'B', 'features']);
  const [T, B, F] = x.shape as [number, number, number];
  if (T < 1 || B < 1) throw new ShapeError(expected('recurrentLayer: input', 'at least one step and one batch row', [...x.shape]));
  const H = w.weightHh.shape[1]!;
  const G = opts.cell.gateCount * H;
  checkShape('recurrentLayer: weight_ih', w.weightIh.shape, [G, F]);
  checkShape('recurrentLayer: weight_hh', w.weightHh.shape, [G, H]);
  if (w.biasIh) checkShape('recurrentLayer: bias_ih', w.biasIh.shape, [G]);
  if (w.biasHh) checkShape('recurrentLayer: bias_hh', w.biasHh.shape, [G]);
  if (h0) checkShape('recurrentLayer: h0', h0.shape, [B, H]);
  if (c0) checkShape('recurrentLayer: c0', c0.shape, [B, H]);
  checkSameDtype('recurrentLayer', [w.weightIh, w.weightHh, w.biasIh, w.biasHh, x, h0, c0].filter((v): v is Variable => v !== null));
  const clip = opts.hiddenGradClip ?? null;
  if (clip !== null && !(clip > 0 && Number.isFinite(clip))) {
    throw new ConfigError(expected('recurrentLayer', 'hiddenGradClip a finite number > 0, or null', show(clip)));
  }
  return { T, B, F, H, G };
}

/** Runs fn with W_hh packed into ctx[key] (when the cell uses it), freeing it however fn ends. */
function withPacked<R>(ctx: StepContext, key: 'wHhT' | 'wHhN', pack: (() => PackedB) | null, fn: () => R): R {
  ctx[key] = pack ? pack() : null;
  try {
    return fn();
  } finally {
    ctx[key]?.free();
    ctx[key] = null;
  }
}
