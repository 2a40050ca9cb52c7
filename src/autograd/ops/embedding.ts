import { DataError, ShapeError, expected } from '../../tensor/index.js';
import { output, record, type Variable } from '../variable.js';
import { zerosLike } from './util.js';

/** Rows of `weight` [vocab, dim] picked by integer ids; the result is [...idsShape, dim]. */
export function embedding(weight: Variable, ids: ArrayLike<number>, idsShape: readonly number[] = [ids.length]): Variable {
  if (weight.shape.length !== 2) throw new ShapeError(expected('embedding', 'weight [vocab, dim]', [...weight.shape]));
  const [vocab, dim] = weight.shape as [number, number];
  let n = 1;
  for (const d of idsShape) n *= d;
  if (n !== ids.length) throw new ShapeError(expected('embedding', `${n} ids for shape [${idsShape.join(', ')}]`, ids.length));
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!Number.isInteger(id) || id < 0 || id >= vocab) throw new DataError(expected('embedding', `ids in [0, ${vocab})`, `${id} at position ${i}`));
  }
  const out = output(zerosLike(weight, [...idsShape, dim]));
  for (let i = 0; i < ids.length; i++) out.data.set(weight.data.subarray(ids[i]! * dim, (ids[i]! + 1) * dim), i * dim);
  record('embedding', [weight], [out], () => {
    const g = out.grad!.data, gw = weight.gradData();
    for (let i = 0; i < ids.length; i++) {
      const row = ids[i]! * dim;
      for (let j = 0; j < dim; j++) gw[row + j]! += g[i * dim + j]!;
    }
  });
  return out;
}
