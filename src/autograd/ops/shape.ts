import { ShapeError, Tensor, expected, show, sizeOf } from '../../tensor/index.js';
import { output, record, type Variable } from '../variable.js';
import { checkSameDtype, zerosLike } from './util.js';

/** Viewing an array as [outer, axis, inner] around one axis makes concat and slice one loop each. */
function around(shape: readonly number[], axis: number): { outer: number; inner: number } {
  return { outer: sizeOf(shape.slice(0, axis)), inner: sizeOf(shape.slice(axis + 1)) };
}

function normaliseAxis(where: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) {
    throw new ShapeError(expected(where, `an axis in [${-rank}, ${rank - 1}]`, show(axis)));
  }
  return a;
}

/** Joins variables along `axis`; every other dimension must agree. */
export function concat(parts: readonly Variable[], axis: number): Variable {
  if (parts.length === 0) throw new ShapeError(expected('concat', 'at least one variable', 'none'));
  const first = parts[0]!;
  const ax = normaliseAxis('concat', axis, first.shape.length);
  checkSameDtype('concat', parts);
  for (const p of parts) {
    const ok = p.shape.length === first.shape.length && p.shape.every((d, i) => i === ax || d === first.shape[i]);
    if (!ok) throw new ShapeError(expected('concat', `shapes like [${first.shape.join(', ')}] except on axis ${ax}`, [...p.shape]));
  }
  const shape = [...first.shape];
  shape[ax] = parts.reduce((s, p) => s + p.shape[ax]!, 0);
  const out = output(zerosLike(first, shape));
  const { outer, inner } = around(shape, ax);
  const rowOut = shape[ax]! * inner;
  let offset = 0;
  const offsets = parts.map((p) => {
    const width = p.shape[ax]! * inner;
    for (let o = 0; o < outer; o++) out.data.set(p.data.subarray(o * width, (o + 1) * width), o * rowOut + offset);
    const at = offset;
    offset += width;
    return at;
  });
  record('concat', parts, [out], () => {
    const g = out.grad!.data;
    parts.forEach((p, k) => {
      if (!p.requiresGrad) return;
      const width = p.shape[ax]! * inner;
      const gp = p.gradData();
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < width; j++) gp[o * width + j]! += g[o * rowOut + offsets[k]! + j]!;
      }
    });
  });
  return out;
}

/** Elements start..end-1 along `axis`. */
export function slice(x: Variable, axis: number, start: number, end: number): Variable {
  const ax = normaliseAxis('slice', axis, x.shape.length);
  const size = x.shape[ax]!;
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > size || start >= end) {
    throw new ShapeError(expected('slice', `0 <= start < end <= ${size} on axis ${ax}`, `start ${start}, end ${end}`));
  }
  const shape = [...x.shape];
  shape[ax] = end - start;
  const out = output(zerosLike(x, shape));
  const { outer, inner } = around(x.shape, ax);
  const rowIn = size * inner;
  const width = (end - start) * inner;
  for (let o = 0; o < outer; o++) out.data.set(x.data.subarray(o * rowIn + start * inner, o * rowIn + start * inner + width), o * width);
  record('slice', [x], [out], () => {
    const g = out.grad!.data, gx = x.gradData();
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < width; j++) gx[o * rowIn + start * inner + j]! += g[o * width + j]!;
    }
  });
  return out;
}

/** Splits along `axis` into pieces of the given sizes. */
export function split(x: Variable, axis: number, sizes: readonly number[]): Variable[] {
  let at = 0;
  return sizes.map((s) => slice(x, axis, at, (at += s)));
}

/** The same elements with another shape (one dimension may be -1). */
export function reshape(x: Variable, shape: readonly number[]): Variable {
  const out = output(x.value.reshape(shape).clone());
  record('reshape', [x], [out], () => {
    const g = out.grad!.data, gx = x.gradData();
    for (let i = 0; i < g.length; i++) gx[i]! += g[i]!;
  });
  return out;
}

/** Swaps the first two axes: [T, B, ...] <-> [B, T, ...] (for batchFirst). */
export function transpose01(x: Variable): Variable {
  if (x.shape.length < 2) throw new ShapeError(expected('transpose01', 'rank >= 2', [...x.shape]));
  const [d0, d1] = x.shape as [number, number];
  const inner = sizeOf(x.shape.slice(2));
  const out = output(zerosLike(x, [d1, d0, ...x.shape.slice(2)]));
  const move = (src: Float32Array | Float64Array, dst: Float32Array | Float64Array, accumulate: boolean, forward: boolean) => {
    for (let i = 0; i < d0; i++) {
      for (let j = 0; j < d1; j++) {
        const a = (i * d1 + j) * inner, b = (j * d0 + i) * inner;
        const [from, to] = forward ? [a, b] : [b, a];
        for (let k = 0; k < inner; k++) {
          if (accumulate) dst[to + k]! += src[from + k]!;
          else dst[to + k] = src[from + k]!;
        }
      }
    }
  };
  move(x.data, out.data, false, true);
  record('transpose01', [x], [out], () => move(out.grad!.data, x.gradData(), true, false));
  return out;
}

/** A constant on the tape (no gradient), with the dtype of `like`. */
export function constant(values: ArrayLike<number>, shape: readonly number[], like: Variable): Variable {
  return output(Tensor.from(values, shape, like.dtype));
}
