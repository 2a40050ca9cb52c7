import { output, record, zerosLike, type Variable } from '../autograd/index.js';
import { ConfigError, ShapeError, expected, quoted, sameShape, type Tensor } from '../tensor/index.js';
import type { Reduction } from './cross-entropy.js';

/** Mean (or summed) squared error against a constant target of the same shape. */
export function mse(pred: Variable, target: Tensor, reduction: Reduction = 'mean'): Variable {
  if (!sameShape(pred.shape, target.shape)) throw new ShapeError(expected('mse', `target shape [${pred.shape.join(', ')}]`, [...target.shape]));
  if (reduction !== 'mean' && reduction !== 'sum') {
    throw new ConfigError(expected('mse', "reduction 'mean' or 'sum'", quoted(reduction)));
  }
  const n = reduction === 'mean' ? Math.max(1, pred.value.size) : 1;
  const p = pred.data, y = target.data;
  let total = 0;
  for (let i = 0; i < p.length; i++) total += (p[i]! - y[i]!) ** 2;
  const out = output(zerosLike(pred, []));
  out.data[0] = total / n;
  record('mse', [pred], [out], () => {
    const g = (2 * out.grad!.data[0]!) / n;
    const gp = pred.gradData();
    for (let i = 0; i < p.length; i++) gp[i]! += g * (p[i]! - y[i]!);
  });
  return out;
}
