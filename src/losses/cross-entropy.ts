import { output, record, zerosLike, type Variable } from '../autograd/index.js';
import { kernels } from '../kernels/index.js';
import { ConfigError, DataError, ShapeError, expected, quoted } from '../tensor/index.js';

export type Reduction = 'mean' | 'sum';

export interface CrossEntropyOptions {
  /** targets equal to this are padding: no loss, no gradient, not counted (default -100, as PyTorch) */
  ignoreIndex?: number;
  reduction?: Reduction;
}

/**
 * Softmax cross-entropy of logits [..., C] against integer class targets (one
 * per leading position). 'mean' divides by the number of non-ignored targets,
 * as PyTorch; an all-padding batch gives loss 0 (PyTorch gives NaN).
 */
export function crossEntropy(logits: Variable, targets: ArrayLike<number>, options: CrossEntropyOptions = {}): Variable {
  const ignoreIndex = options.ignoreIndex ?? -100;
  const reduction = options.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum') {
    throw new ConfigError(expected('crossEntropy', "reduction 'mean' or 'sum'", quoted(reduction)));
  }
  if (logits.shape.length < 1) throw new ShapeError(expected('crossEntropy', 'logits [..., classes]', [...logits.shape]));
  const C = logits.shape[logits.shape.length - 1]!;
  const N = logits.value.size / C;
  if (targets.length !== N) throw new ShapeError(expected('crossEntropy', `${N} targets for logits [${logits.shape.join(', ')}]`, targets.length));
  let count = 0;
  for (let i = 0; i < N; i++) {
    const t = targets[i]!;
    if (t === ignoreIndex) continue;
    if (!Number.isInteger(t) || t < 0 || t >= C) throw new DataError(expected('crossEntropy', `targets in [0, ${C}) or ignoreIndex ${ignoreIndex}`, `${t} at position ${i}`));
    count++;
  }
  const logp = zerosLike(logits).data;
  kernels().logSoftmax(logits.data, logp, N, C);
  let total = 0;
  for (let i = 0; i < N; i++) if (targets[i] !== ignoreIndex) total -= logp[i * C + targets[i]!]!;
  const divisor = reduction === 'mean' ? Math.max(count, 1) : 1;
  const out = output(zerosLike(logits, []));
  out.data[0] = count === 0 ? 0 : total / divisor;
  record('crossEntropy', [logits], [out], () => {
    // d/dlogits = (softmax - onehot) / divisor on counted rows.
    const g = out.grad!.data[0]! / divisor;
    const gl = logits.gradData();
    const p = zerosLike(logits).data;
    kernels().exp(logp, p);
    for (let i = 0; i < N; i++) {
      const t = targets[i]!;
      if (t === ignoreIndex) continue;
      const row = i * C;
      for (let j = 0; j < C; j++) gl[row + j]! += g * p[row + j]!;
      gl[row + t]! -= g;
    }
  });
  return out;
}
