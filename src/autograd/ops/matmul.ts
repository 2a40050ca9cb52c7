import { kernels } from '../../kernels/index.js';
import { ShapeError, expected } from '../../tensor/index.js';
import { output, record, type Variable } from '../variable.js';
import { checkSameDtype, zerosLike } from './util.js';

/** A (m×k) · B (k×n). */
export function matmul(a: Variable, b: Variable): Variable {
  if (a.shape.length !== 2 || b.shape.length !== 2 || a.shape[1] !== b.shape[0]) {
    throw new ShapeError(expected('matmul', 'A [m, k] and B [k, n]', `A [${a.shape.join(', ')}], B [${b.shape.join(', ')}]`));
  }
  checkSameDtype('matmul', [a, b]);
  const [m, k] = a.shape as [number, number];
  const n = b.shape[1]!;
  const K = kernels();
  const out = output(zerosLike(a, [m, n]));
  K.gemm(false, false, m, n, k, a.data, b.data, out.data, false);
  record('matmul', [a, b], [out], () => {
    const g = out.grad!.data;
    if (a.requiresGrad) K.gemm(false, true, m, k, n, g, b.data, a.gradData(), true); // dA = dY·Bᵀ
    if (b.requiresGrad) K.gemm(true, false, k, n, m, a.data, g, b.gradData(), true); // dB = Aᵀ·dY
  });
  return out;
}

/**
 * y = x·Wᵀ + b over the last axis of x (any leading shape): W is [out, in] as in
 * PyTorch. All leading rows go through one GEMM.
 */
export function linear(x: Variable, weight: Variable, bias: Variable | null): Variable {
  const inF = x.shape[x.shape.length - 1];
  if (weight.shape.length !== 2 || inF !== weight.shape[1]) {
    throw new ShapeError(expected('linear', `input [..., ${weight.shape[1]}] for weight [${weight.shape.join(', ')}]`, [...x.shape]));
  }
  const outF = weight.shape[0]!;
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outF)) {
    throw new ShapeError(expected('linear', `bias [${outF}]`, [...bias.shape]));
  }
  checkSameDtype('linear', bias ? [weight, bias, x] : [weight, x]); // the weight's dtype is the one expected
  const rows = x.value.size / inF;
  const K = kernels();
  const out = output(zerosLike(x, [...x.shape.slice(0, -1), outF]));
  K.gemm(false, true, rows, outF, inF, x.data, weight.data, out.data, false);
  if (bias) K.addRowVector(out.data, bias.data, rows, outF);
  const inputs = bias ? [x, weight, bias] : [x, weight];
  record('linear', inputs, [out], () => {
    const g = out.grad!.data;
    if (x.requiresGrad) K.gemm(false, false, rows, inF, outF, g, weight.data, x.gradData(), true);
    if (weight.requiresGrad) K.gemm(true, false, outF, inF, rows, g, x.data, weight.gradData(), true);
    if (bias?.requiresGrad) K.sumRows(g, rows, outF, bias.gradData());
  });
  return out;
}
