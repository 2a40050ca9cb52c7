import { output, record, zerosLike, type Variable } from '../autograd/index.js';
import {
  ConfigError, DataError, ShapeError, expected, quoted, requireBoolean, show, type Arr,
} from '../tensor/index.js';

export interface CtcOptions {
  /** the blank label (default 0) */
  blank?: number;
  /** 'mean' divides each loss by its target length (min 1), then averages over the batch, as PyTorch (default) */
  reduction?: 'mean' | 'sum' | 'none';
  /** impossible alignments give loss 0 and gradient 0 instead of Infinity (default false) */
  zeroInfinity?: boolean;
}

/** Targets concatenated (as PyTorch's 1-D form) or one array per batch row. */
export type CtcTargets = ArrayLike<number> | readonly ArrayLike<number>[];

/**
 * Connectionist temporal classification loss (Graves et al. 2006) of
 * `logProbs` [T, B, C] (log-softmax outputs) with PyTorch's `nn.CTCLoss`
 * semantics: returns [] for 'mean' / 'sum', [B] for 'none'.
 *
 * Gradient: like PyTorch, the gradient sent to logProbs is
 * `exp(logProbs) - occupancy` (times the upstream grad), for frames inside each
 * input length, and 0 beyond. This is the gradient w.r.t. the *logits* in
 * front of a log-softmax; the log-softmax backward leaves it unchanged since
 * each frame's entries sum to 0. For a logProbs leaf that is not a log-softmax
 * output it is not the plain derivative (which is `-occupancy`), exactly as in
 * PyTorch. If a loss is infinite and zeroInfinity is off, its gradient is NaN
 * (as PyTorch).
 */
export function ctcLoss(
  logProbs: Variable,
  targets: CtcTargets,
  inputLengths: ArrayLike<number>,
  targetLengths: ArrayLike<number>,
  options: CtcOptions = {},
): Variable {
  const { blank, reduction, zeroInfinity } = settings(options);
  if (logProbs.shape.length !== 3) throw new ShapeError(expected('ctcLoss', 'logProbs [time, batch, classes]', [...logProbs.shape]));
  const [T, B, C] = logProbs.shape as [number, number, number];
  if (blank < 0 || blank >= C) throw new ConfigError(expected('ctcLoss', `blank in [0, ${C})`, show(blank)));
  const rows = targetRows(targets, targetLengths, B, C, blank);
  checkInputLengths(inputLengths, B, T);

  const lp = logProbs.data;
  const nll = new Float64Array(B);
  const passes: Alignment[] = [];
  for (let b = 0; b < B; b++) {
    const pass = forwardBackward(lp, { T, B, C, b, len: inputLengths[b]!, blank }, rows[b]!);
    nll[b] = pass.nll;
    passes.push(pass);
    if (zeroInfinity && nll[b] === Infinity) nll[b] = 0;
  }
  // How much each sample's loss counts in the output: d(out)/d(nll_b).
  const weight = Float64Array.from(rows, (r) => (reduction === 'mean' ? 1 / Math.max(r.length, 1) / B : 1));

  const out = output(zerosLike(logProbs, reduction === 'none' ? [B] : []));
  if (reduction === 'none') out.data.set(nll);
  else out.data[0] = nll.reduce((s, v, b) => s + v * weight[b]!, 0);

  record('ctcLoss', [logProbs], [out], () => {
    const g = out.grad!.data;
    const gl = logProbs.gradData();
    for (let b = 0; b < B; b++) {
      if (zeroInfinity && passes[b]!.nll === Infinity) continue;
      const upstream = (reduction === 'none' ? g[b]! : g[0]!) * weight[b]!;
      addGradient(gl, lp, passes[b]!, { T, B, C, b, len: inputLengths[b]!, blank }, upstream);
    }
  });
  return out;
}

function settings(o: CtcOptions) {
  const blank = o.blank ?? 0;
  const reduction = o.reduction ?? 'mean';
  const zeroInfinity = requireBoolean('ctcLoss', 'zeroInfinity', o.zeroInfinity, false);
  if (!Number.isInteger(blank)) throw new ConfigError(expected('ctcLoss', 'an integer blank', show(blank)));
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new ConfigError(expected('ctcLoss', "reduction 'mean', 'sum' or 'none'", quoted(reduction)));
  }
  return { blank, reduction, zeroInfinity };
}

/** Splits and validates the targets: one label array per batch row. */
function targetRows(targets: CtcTargets, targetLengths: ArrayLike<number>, B: number, C: number, blank: number): number[][] {
  if (targetLengths.length !== B) throw new ShapeError(expected('ctcLoss', `${B} target lengths`, targetLengths.length));
  for (let b = 0; b < B; b++) {
    const n = targetLengths[b]!;
    if (!Number.isInteger(n) || n < 0) throw new DataError(expected('ctcLoss', 'target lengths that are integers >= 0', `${n} for sample ${b}`));
  }
  const perRow = targets.length > 0 && typeof targets[0] !== 'number';
  let rows: number[][];
  if (perRow) {
    const list = targets as readonly ArrayLike<number>[];
    if (list.length !== B) throw new ShapeError(expected('ctcLoss', `${B} target rows`, list.length));
    rows = list.map((r, b) => {
      if (r.length < targetLengths[b]!) throw new ShapeError(expected('ctcLoss', `at least ${targetLengths[b]} targets in row ${b}`, r.length));
      return Array.from(r).slice(0, targetLengths[b]!);
    });
  } else {
    const flat = targets as ArrayLike<number>;
    let total = 0;
    for (let b = 0; b < B; b++) total += targetLengths[b]!;
    if (flat.length !== total) throw new ShapeError(expected('ctcLoss', `${total} concatenated targets (sum of target lengths)`, flat.length));
    const all = Array.from(flat);
    rows = [];
    for (let b = 0, at = 0; b < B; at += targetLengths[b]!, b++) rows.push(all.slice(at, at + targetLengths[b]!));
  }
  rows.forEach((r, b) =>
    r.forEach((c, i) => {
      if (!Number.isInteger(c) || c < 0 || c >= C) throw new DataError(expected('ctcLoss', `targets in [0, ${C})`, `${c} at position ${i} of sample ${b}`));
      if (c === blank) throw new DataError(expected('ctcLoss', `targets other than the blank ${blank}`, `${c} at position ${i} of sample ${b}`));
    }),
  );
  return rows;
}

function checkInputLengths(inputLengths: ArrayLike<number>, B: number, T: number): void {
  if (inputLengths.length !== B) throw new ShapeError(expected('ctcLoss', `${B} input lengths`, inputLengths.length));
  for (let b = 0; b < B; b++) {
    const n = inputLengths[b]!;
    if (!Number.isInteger(n) || n < 0 || n > T) throw new DataError(expected('ctcLoss', `input lengths that are integers in [0, ${T}]`, `${n} for sample ${b}`));
  }
}

/** Where sample b's frames sit in the flat [T, B, C] array. */
interface Frame {
  T: number;
  B: number;
  C: number;
  b: number;
  len: number;
  blank: number;
}

/** log α and log β over the extended label l' = (blank, l1, blank, l2, ..., blank), both including frame t's emission. */
interface Alignment {
  ext: Int32Array;
  alpha: Float64Array;
  beta: Float64Array;
  nll: number;
}

function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

function forwardBackward(lp: Arr, f: Frame, labels: readonly number[]): Alignment {
  const S = 2 * labels.length + 1;
  const ext = new Int32Array(S).fill(f.blank);
  labels.forEach((c, i) => (ext[2 * i + 1] = c));
  const at = (t: number, s: number) => lp[(t * f.B + f.b) * f.C + ext[s]!]!;
  // A skip over a blank is allowed unless it joins two equal labels.
  const canSkip = (s: number) => s >= 2 && ext[s] !== f.blank && ext[s] !== ext[s - 2];
  const alpha = new Float64Array(f.len * S).fill(-Infinity);
  const beta = new Float64Array(f.len * S).fill(-Infinity);
  if (f.len === 0) return { ext, alpha, beta, nll: labels.length === 0 ? 0 : Infinity };

  alpha[0] = at(0, 0);
  if (S > 1) alpha[1] = at(0, 1);
  for (let t = 1; t < f.len; t++) {
    for (let s = 0; s < S; s++) {
      let a = alpha[(t - 1) * S + s]!;
      if (s >= 1) a = logAdd(a, alpha[(t - 1) * S + s - 1]!);
      if (canSkip(s)) a = logAdd(a, alpha[(t - 1) * S + s - 2]!);
      alpha[t * S + s] = a === -Infinity ? a : a + at(t, s);
    }
  }
  const last = (f.len - 1) * S;
  beta[last + S - 1] = at(f.len - 1, S - 1);
  if (S > 1) beta[last + S - 2] = at(f.len - 1, S - 2);
  for (let t = f.len - 2; t >= 0; t--) {
    for (let s = 0; s < S; s++) {
      let v = beta[(t + 1) * S + s]!;
      if (s + 1 < S) v = logAdd(v, beta[(t + 1) * S + s + 1]!);
      if (s + 2 < S && canSkip(s + 2)) v = logAdd(v, beta[(t + 1) * S + s + 2]!);
      beta[t * S + s] = v === -Infinity ? v : v + at(t, s);
    }
  }
  const logLik = S > 1 ? logAdd(alpha[last + S - 1]!, alpha[last + S - 2]!) : alpha[last]!;
  return { ext, alpha, beta, nll: -logLik };
}

/** grad[t, b, c] += upstream · (exp(lp) - Σ_{s: l'_s = c} exp(α_t(s) + β_t(s) - lp + nll)) for t < len. */
function addGradient(gl: Arr, lp: Arr, pass: Alignment, f: Frame, upstream: number): void {
  const S = pass.ext.length;
  const occupancy = new Float64Array(f.C);
  for (let t = 0; t < f.len; t++) {
    const row = (t * f.B + f.b) * f.C;
    occupancy.fill(-Infinity);
    for (let s = 0; s < S; s++) {
      const c = pass.ext[s]!;
      occupancy[c] = logAdd(occupancy[c]!, pass.alpha[t * S + s]! + pass.beta[t * S + s]!);
    }
    for (let c = 0; c < f.C; c++) {
      const l = lp[row + c]!;
      gl[row + c]! += upstream * (Math.exp(l) - Math.exp(occupancy[c]! + pass.nll - l));
    }
  }
}
