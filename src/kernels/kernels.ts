import type { Arr } from '../tensor/index.js';

export type Nonlinearity = 'tanh' | 'relu';

/** Adam/AdamW hyper-parameters for one update, bias corrections already folded in by the caller. */
export interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** 1 - beta1^t and 1 - beta2^t */
  bc1: number;
  bc2: number;
  /** L2 penalty added to the gradient (Adam) */
  weightDecay: number;
  /** decoupled decay lr·wd applied to the weights (AdamW) */
  decoupledDecay: number;
}

/** A right-hand GEMM operand prepared once for many products (a recurrent weight used at every step). */
export interface PackedB {
  readonly transB: boolean;
  /** rows of op(B) */
  readonly k: number;
  /** columns of op(B) */
  readonly n: number;
  /** Prepares it again from b (same shape), e.g. after the weights changed. */
  update(b: Arr, ldb?: number): void;
  /** Releases its memory; the handle is unusable afterwards. */
  free(): void;
}

/**
 * Everything numeric that sits on a hot path. All arrays are row-major and
 * contiguous; subarray views are how callers address one time step. `reference`
 * is the truth (generic over float32/float64); faster backends must match it.
 *
 * Gate layouts follow PyTorch: LSTM rows [i, f, g, o], GRU rows [r, z, n].
 */
export interface Kernels {
  readonly name: string;

  /** C (m×n) = op(A) (m×k) · op(B) (k×n), added to C when `accumulate`. */
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Arr, b: Arr, c: Arr, accumulate: boolean): void;
  /** As gemm, with explicit row strides (leading dimensions) for views into wider matrices. */
  gemmStrided(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    a: Arr, lda: number, b: Arr, ldb: number, c: Arr, ldc: number, accumulate: boolean,
  ): void;
  /** Prepares op(B) (k×n) for repeated gemmPacked calls; free() it when done. */
  packB(transB: boolean, k: number, n: number, b: Arr, ldb?: number): PackedB;
  /** C (m×n, row stride ldc) = op(A) · packed, added to C when `accumulate`. */
  gemmPacked(transA: boolean, m: number, a: Arr, lda: number, packed: PackedB, c: Arr, ldc: number, accumulate: boolean): void;
  /** Each of the m rows of C (m×n) += bias (n). */
  addRowVector(c: Arr, bias: Arr, m: number, n: number): void;
  /** out (n) += column sums of A (m×n). */
  sumRows(a: Arr, m: number, n: number, out: Arr): void;

  /** In place: LSTM pre-activations G (B×4H) become gates [σi, σf, tanh g, σo]; writes c and h. */
  lstmForward(g: Arr, cPrev: Arr, c: Arr, h: Arr, batch: number, hidden: number): void;
  /**
   * From activated gates and dh, writes pre-activation gradients dG (B×4H).
   * `dc` holds the gradient flowing into c_t on entry and dL/dc_{t-1} on exit.
   */
  lstmBackward(gates: Arr, cPrev: Arr, c: Arr, dh: Arr, dc: Arr, dG: Arr, batch: number, hidden: number): void;

  /** GRU, linear before reset: r,z = σ(xp + hp), n = tanh(xp_n + r·hp_n), h = (1-z)·n + z·hPrev. */
  gruForward(xp: Arr, hp: Arr, hPrev: Arr, gates: Arr, h: Arr, batch: number, hidden: number): void;
  /** Writes dXp, dHp (B×3H) and dhPrev = dh·z (the recurrent GEMM is added by the caller). */
  gruBackward(gates: Arr, hp: Arr, hPrev: Arr, dh: Arr, dXp: Arr, dHp: Arr, dhPrev: Arr, batch: number, hidden: number): void;

  /** GRU, reset before the matmul, first half: r,z = σ(xp + hp) into gates; rh = r·hPrev. `hp` is B×3H, only r,z columns read. */
  gruResetGates(xp: Arr, hp: Arr, hPrev: Arr, gates: Arr, rh: Arr, batch: number, hidden: number): void;
  /** Second half: n = tanh(xp_n + hp_n) where hp_n = (r·hPrev)·W_hnᵀ + b_hn; h = (1-z)·n + z·hPrev. */
  gruResetOutput(xp: Arr, hp: Arr, hPrev: Arr, gates: Arr, h: Arr, batch: number, hidden: number): void;
  /** Writes dG (B×3H): [·, dz_pre, dn_pre] (r part left for gruResetBackwardR), and dhPrev = dh·z. */
  gruResetBackwardZN(gates: Arr, hPrev: Arr, dh: Arr, dG: Arr, dhPrev: Arr, batch: number, hidden: number): void;
  /** Given d(rh), writes the r part of dG and adds d(rh)·r to dhPrev. */
  gruResetBackwardR(gates: Arr, hPrev: Arr, dRh: Arr, dG: Arr, dhPrev: Arr, batch: number, hidden: number): void;

  /** In place: h = act(G). */
  rnnForward(g: Arr, nonlinearity: Nonlinearity): void;
  /** dG = dh · act'(from h). */
  rnnBackward(h: Arr, dh: Arr, dG: Arr, nonlinearity: Nonlinearity): void;

  /** out = exp(x), element-wise (softmax probabilities from log-probabilities). */
  exp(x: Arr, out: Arr): void;
  /** Row-wise log-softmax of X (rows×cols) into out. */
  logSoftmax(x: Arr, out: Arr, rows: number, cols: number): void;

  /** One Adam/AdamW update over a flat parameter. */
  adam(param: Arr, grad: Arr, m: Arr, v: Arr, step: AdamStep): void;
}
