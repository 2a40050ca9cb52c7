import type { Kernels, Nonlinearity, PackedB } from '../../kernels/index.js';
import { ConfigError, expected, quoted, requireBoolean, type Arr } from '../../tensor/index.js';


/** Everything one layer-direction keeps from forward for backward. Per-step buffers are [T, B, ·] in time order. */
export interface StepContext {
  K: Kernels;
  batch: number;
  hidden: number;
  /** gate rows per step: 1·H, 3·H or 4·H */
  width: number;
  wHh: Arr;
  /** W_hhᵀ prepared once per forward pass, and W_hh once per backward pass, for the per-step GEMMs */
  wHhT: PackedB | null;
  wHhN: PackedB | null;
  bHh: Arr | null;
  /** input projections x·W_ihᵀ + b_ih */
  xp: Arr;
  /** activated gates (LSTM, GRU) */
  gates: Arr;
  /** hidden projections h·W_hhᵀ + b_hh (GRU) */
  hp: Arr;
  /** r ⊙ h_{t-1} (reset-before GRU) */
  rh: Arr;
  /** gradients of the pre-activations on the input side */
  dXp: Arr;
  /** on the hidden side, where they differ (linear-before-reset GRU) */
  dHp: Arr;
  /** scratch B×H */
  scratch: Arr;
}

/**
 * The per-step math of one cell type. `t` indexes the time-ordered buffers;
 * the driver hands in the previous and new state rows.
 */
export interface CellSteps {
  /** b_hh only adds to the pre-activations, so it is added once to all T·B input projections instead of at every step */
  foldsHiddenBias: boolean;
  /** whether the per-step GEMMs use the packed W_hh (the reset-before GRU multiplies by parts of it instead) */
  packsHiddenWeight: boolean;
  /** for tape node names and messages */
  name: string;
  gateCount: number;
  gateNames: readonly string[];
  hasCell: boolean;
  /** buffers kept for backward besides the gates: h·W_hhᵀ + b_hh, and r ⊙ h_{t-1} */
  keepsHiddenProjection: boolean;
  keepsResetProduct: boolean;
  /** true when dW_hh pairs with dHp rather than dXp */
  separateHiddenGrad: boolean;
  forward(ctx: StepContext, t: number, hPrev: Arr, hNew: Arr, cPrev: Arr | null, cNew: Arr | null): void;
  /** Writes dXp[t] (and dHp[t]), dhPrev; for LSTM turns dc (into c_t) into dL/dc_{t-1}. */
  backward(ctx: StepContext, t: number, hPrev: Arr, hNew: Arr, cPrev: Arr | null, cNew: Arr | null, dh: Arr, dc: Arr | null, dhPrev: Arr): void;
  /** dW_hh from the whole sequence at once; `hPrevAll` is [T·B, H] aligned with the time-ordered buffers. */
  hiddenWeightGrad(ctx: StepContext, steps: number, hPrevAll: Arr, dWhh: Arr): void;
}

const rows = (buf: Arr, t: number, n: number): Arr => buf.subarray(t * n, (t + 1) * n);

/** Fills each of `batch` rows (stride ld) with bias[from..from+n) or zeros. */
function fillBias(dst: Arr, ld: number, batch: number, bias: Arr | null, from: number, n: number): void {
  for (let b = 0; b < batch; b++) {
    if (bias) dst.set(bias.subarray(from, from + n), b * ld);
    else dst.fill(0, b * ld, b * ld + n);
  }
}

/** G = xp_t + h_{t-1}·W_hhᵀ, shared by RNN and LSTM, whose xp already holds b_ih + b_hh (foldsHiddenBias). */
function preActivation(ctx: StepContext, t: number, hPrev: Arr, g: Arr): void {
  const { K, batch, hidden, width } = ctx;
  g.set(rows(ctx.xp, t, batch * width));
  K.gemmPacked(false, batch, hPrev, hidden, ctx.wHhT!, g, width, true);
}

function mergedHiddenGrad(ctx: StepContext, steps: number, hPrevAll: Arr, dWhh: Arr, dG: Arr): void {
  ctx.K.gemm(true, false, ctx.width, ctx.hidden, steps * ctx.batch, dG, hPrevAll, dWhh, true);
}

export function rnnSteps(nonlinearity: Nonlinearity): CellSteps {
  return {
    name: `rnn_${nonlinearity}`,
    foldsHiddenBias: true,
    packsHiddenWeight: true,
    gateCount: 1,
    gateNames: ['h'],
    hasCell: false,
    keepsHiddenProjection: false,
    keepsResetProduct: false,
    separateHiddenGrad: false,
    forward(ctx, t, hPrev, hNew) {
      preActivation(ctx, t, hPrev, hNew);
      ctx.K.rnnForward(hNew, nonlinearity);
    },
    backward(ctx, t, _hPrev, hNew, _c, _cn, dh, _dc, dhPrev) {
      const dG = rows(ctx.dXp, t, ctx.batch * ctx.width);
      ctx.K.rnnBackward(hNew, dh, dG, nonlinearity);
      ctx.K.gemmPacked(false, ctx.batch, dG, ctx.width, ctx.wHhN!, dhPrev, ctx.hidden, false);
    },
    hiddenWeightGrad: (ctx, steps, hPrevAll, dWhh) => mergedHiddenGrad(ctx, steps, hPrevAll, dWhh, ctx.dXp),
  };
}

export const lstmSteps: CellSteps = {
  name: 'lstm',
  foldsHiddenBias: true,
  packsHiddenWeight: true,
  gateCount: 4,
  gateNames: ['i', 'f', 'g', 'o'],
  hasCell: true,
  keepsHiddenProjection: false,
  keepsResetProduct: false,
  separateHiddenGrad: false,
  forward(ctx, t, hPrev, hNew, cPrev, cNew) {
    const g = rows(ctx.gates, t, ctx.batch * ctx.width);
    preActivation(ctx, t, hPrev, g);
    ctx.K.lstmForward(g, cPrev!, cNew!, hNew, ctx.batch, ctx.hidden);
  },
  backward(ctx, t, _hPrev, _hNew, cPrev, cNew, dh, dc, dhPrev) {
    const n = ctx.batch * ctx.width;
    const dG = rows(ctx.dXp, t, n);
    ctx.K.lstmBackward(rows(ctx.gates, t, n), cPrev!, cNew!, dh, dc!, dG, ctx.batch, ctx.hidden);
    ctx.K.gemmPacked(false, ctx.batch, dG, ctx.width, ctx.wHhN!, dhPrev, ctx.hidden, false);
  },
  hiddenWeightGrad: (ctx, steps, hPrevAll, dWhh) => mergedHiddenGrad(ctx, steps, hPrevAll, dWhh, ctx.dXp),
};

/** PyTorch's GRU: n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)). */
export const gruSteps: CellSteps = {
  name: 'gru',
  foldsHiddenBias: false,
  packsHiddenWeight: true,
  gateCount: 3,
  gateNames: ['r', 'z', 'n'],
  hasCell: false,
  keepsHiddenProjection: true,
  keepsResetProduct: false,
  separateHiddenGrad: true,
  forward(ctx, t, hPrev, hNew) {
    const { K, batch, hidden, width } = ctx;
    const n = batch * width;
    const hp = rows(ctx.hp, t, n);
    fillBias(hp, width, batch, ctx.bHh, 0, width);
    K.gemmPacked(false, batch, hPrev, hidden, ctx.wHhT!, hp, width, true);
    K.gruForward(rows(ctx.xp, t, n), hp, hPrev, rows(ctx.gates, t, n), hNew, batch, hidden);
  },
  backward(ctx, t, hPrev, _hNew, _c, _cn, dh, _dc, dhPrev) {
    const { K, batch, hidden, width } = ctx;
    const n = batch * width;
    const dHp = rows(ctx.dHp, t, n);
    K.gruBackward(rows(ctx.gates, t, n), rows(ctx.hp, t, n), hPrev, dh, rows(ctx.dXp, t, n), dHp, dhPrev, batch, hidden);
    K.gemmPacked(false, batch, dHp, width, ctx.wHhN!, dhPrev, hidden, true);
  },
  hiddenWeightGrad: (ctx, steps, hPrevAll, dWhh) => mergedHiddenGrad(ctx, steps, hPrevAll, dWhh, ctx.dHp),
};

/** The original GRU (Cho et al. 2014): n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn). */
export const gruResetBeforeSteps: CellSteps = {
  name: 'gru_reset_before',
  foldsHiddenBias: false,
  packsHiddenWeight: false,
  gateCount: 3,
  gateNames: ['r', 'z', 'n'],
  hasCell: false,
  keepsHiddenProjection: true,
  keepsResetProduct: true,
  separateHiddenGrad: false,
  forward(ctx, t, hPrev, hNew) {
    const { K, batch, hidden: H, width } = ctx;
    const n = batch * width;
    const hp = rows(ctx.hp, t, n), xp = rows(ctx.xp, t, n), gates = rows(ctx.gates, t, n);
    const rh = rows(ctx.rh, t, batch * H);
    fillBias(hp, width, batch, ctx.bHh, 0, 2 * H);
    K.gemmStrided(false, true, batch, 2 * H, H, hPrev, H, ctx.wHh, H, hp, width, true);
    K.gruResetGates(xp, hp, hPrev, gates, rh, batch, H);
    const hpN = hp.subarray(2 * H);
    fillBias(hpN, width, batch, ctx.bHh, 2 * H, H);
    K.gemmStrided(false, true, batch, H, H, rh, H, ctx.wHh.subarray(2 * H * H), H, hpN, width, true);
    K.gruResetOutput(xp, hp, hPrev, gates, hNew, batch, H);
  },
  backward(ctx, t, hPrev, _hNew, _c, _cn, dh, _dc, dhPrev) {
    const { K, batch, hidden: H, width } = ctx;
    const n = batch * width;
    const gates = rows(ctx.gates, t, n), dG = rows(ctx.dXp, t, n), dRh = ctx.scratch;
    K.gruResetBackwardZN(gates, hPrev, dh, dG, dhPrev, batch, H);
    K.gemmStrided(false, false, batch, H, H, dG.subarray(2 * H), width, ctx.wHh.subarray(2 * H * H), H, dRh, H, false);
    K.gruResetBackwardR(gates, hPrev, dRh, dG, dhPrev, batch, H);
    K.gemmStrided(false, false, batch, H, 2 * H, dG, width, ctx.wHh, H, dhPrev, H, true);
  },
  hiddenWeightGrad(ctx, steps, hPrevAll, dWhh) {
    const { K, batch, hidden: H, width } = ctx;
    const m = steps * batch;
    K.gemmStrided(true, false, 2 * H, H, m, ctx.dXp, width, hPrevAll, H, dWhh, H, true);
    K.gemmStrided(true, false, H, H, m, ctx.dXp.subarray(2 * H), width, ctx.rh, H, dWhh.subarray(2 * H * H), H, true);
  },
};

export interface CellChoice {
  nonlinearity?: unknown;
  resetAfter?: unknown;
}

/** The step math for a layer or cell type, validating the options that select it. */
export function cellStepsFor(where: string, cell: 'rnn' | 'lstm' | 'gru', choice: CellChoice = {}): CellSteps {
  if (cell === 'lstm') return lstmSteps;
  if (cell === 'gru') {
    return requireBoolean(where, 'resetAfter', choice.resetAfter, true) ? gruSteps : gruResetBeforeSteps;
  }
  const nl = choice.nonlinearity ?? 'tanh';
  if (nl !== 'tanh' && nl !== 'relu') {
    throw new ConfigError(expected(where, "nonlinearity 'tanh' or 'relu'", quoted(nl)));
  }
  return rnnSteps(nl);
}
