import type { Variable } from '../autograd/variable.js';
import { ConfigError, expected, show, type Arr } from '../tensor/index.js';
import { checkNumber } from './optimizer.js';

/**
 * Scales all gradients together so their joint `normType`-norm is at most
 * `maxNorm`, like `torch.nn.utils.clip_grad_norm_`; returns the norm before
 * clipping. Null gradients are skipped; with none at all the norm is 0.
 * A non-finite norm scales every gradient by NaN or 0 exactly as PyTorch does
 * (the NaN guard in `bptt/` is the place to stop such a step).
 */
export function clipGradNorm(params: readonly Variable[], maxNorm: number, normType = 2): number {
  checkNumber('clipGradNorm', 'maxNorm', maxNorm, {});
  if (typeof normType !== 'number' || !(normType > 0)) {
    throw new ConfigError(expected('clipGradNorm', 'normType > 0 (or Infinity)', show(normType)));
  }
  const total = gradNorm(params, normType);
  scaleToNorm(params, maxNorm, total);
  return total;
}

/** The scaling step of clipGradNorm, for a caller that has measured the norm already (`gradNorm`). */
export function scaleToNorm(params: readonly Variable[], maxNorm: number, total: number): void {
  const coef = maxNorm / (total + 1e-6);
  // `!(coef >= 1)` rather than `coef < 1`: a NaN coefficient is applied too, as PyTorch's clamp does.
  if (!(coef >= 1)) for (const g of gradsOf(params)) for (let i = 0; i < g.length; i++) g[i] = g[i]! * coef;
}

/** The joint norm of all gradients, as clipGradNorm measures it, without changing them. */
export function gradNorm(params: readonly Variable[], normType = 2): number {
  const grads = gradsOf(params);
  // Norm of the per-tensor norms, the order PyTorch uses, for parity in the last digits.
  return grads.length === 0 ? 0 : pNorm(grads.map((g) => pNorm(g, normType)), normType);
}

/** Clamps every gradient element into [-clipValue, clipValue], like `torch.nn.utils.clip_grad_value_`. */
export function clipGradValue(params: readonly Variable[], clipValue: number): void {
  checkNumber('clipGradValue', 'clipValue', clipValue, {});
  for (const g of gradsOf(params)) {
    for (let i = 0; i < g.length; i++) g[i] = Math.min(Math.max(g[i]!, -clipValue), clipValue);
  }
}

function gradsOf(params: readonly Variable[]): Arr[] {
  const out: Arr[] = [];
  for (const p of params) if (p.grad) out.push(p.grad.data);
  return out;
}

function pNorm(x: ArrayLike<number>, p: number): number {
  let acc = 0;
  if (p === Infinity) {
    for (let i = 0; i < x.length; i++) acc = Math.max(acc, Math.abs(x[i]!));
    return acc;
  }
  if (p === 2) return Math.sqrt(x instanceof Float32Array ? sumOfSquares32(x) : sumOfSquares(x));
  if (p === 1) {
    for (let i = 0; i < x.length; i++) acc += Math.abs(x[i]!);
    return acc;
  }
  for (let i = 0; i < x.length; i++) acc += Math.abs(x[i]!) ** p;
  return acc ** (1 / p);
}

function sumOfSquares(x: ArrayLike<number>): number {
  let acc = 0;
  for (let i = 0; i < x.length; i++) acc += x[i]! * x[i]!;
  return acc;
}

/** The hot case (every gradient of a float32 model, each update): a loop the JIT keeps monomorphic, four sums in flight. */
function sumOfSquares32(x: Float32Array): number {
  let a = 0, b = 0, c = 0, d = 0;
  const n4 = x.length & ~3;
  let i = 0;
  for (; i < n4; i += 4) {
    const x0 = x[i]!, x1 = x[i + 1]!, x2 = x[i + 2]!, x3 = x[i + 3]!;
    a += x0 * x0;
    b += x1 * x1;
    c += x2 * x2;
    d += x3 * x3;
  }
  for (; i < x.length; i++) a += x[i]! * x[i]!;
  return a + b + (c + d);
}
