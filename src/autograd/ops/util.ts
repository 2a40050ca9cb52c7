import { ShapeError, Tensor, allocate, expected, sameShape, type Arr } from '../../tensor/index.js';
import type { Variable } from '../variable.js';

/** A fresh tensor of `shape` with the dtype of `like`. */
export function zerosLike(like: Variable, shape: readonly number[] = like.shape): Tensor {
  let n = 1;
  for (const d of shape) n *= d;
  return new Tensor(shape, allocate(like.dtype, n));
}

export function checkSameShape(where: string, a: Variable, b: Variable): void {
  if (!sameShape(a.shape, b.shape)) {
    throw new ShapeError(expected(where,
      `matching shapes, left [${a.shape.join(', ')}]`, `right [${b.shape.join(', ')}]`));
  }
}

export function checkSameDtype(where: string, vars: readonly Variable[]): void {
  const d = vars[0]!.dtype;
  for (const v of vars) {
    if (v.dtype !== d) throw new ShapeError(expected(where, `all operands ${d}`, v.dtype, 'convert with .to() first'));
  }
}

/** dst += src, element-wise. */
export function addInto(dst: Arr, src: Arr): void {
  for (let i = 0; i < src.length; i++) dst[i]! += src[i]!;
}
