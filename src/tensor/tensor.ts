import { DataError, ShapeError, expected } from './errors.js';
import { requireDType, type DType } from './dtype.js';

export type Arr = Float32Array | Float64Array;

export function allocate(dtype: DType, size: number): Arr {
  return requireDType('allocate', dtype) === 'float64' ? new Float64Array(size) : new Float32Array(size);
}

export function dtypeOf(a: Arr): DType {
  return a instanceof Float64Array ? 'float64' : 'float32';
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** A dense row-major array with a shape. Storage is Float32Array for training, Float64Array for checks. */
export class Tensor {
  readonly shape: readonly number[];
  readonly data: Arr;

  constructor(shape: readonly number[], data: Arr) {
    checkDims(shape);
    if (data.length !== sizeOf(shape)) {
      throw new ShapeError(expected('Tensor',
        `${sizeOf(shape)} elements for shape [${shape.join(', ')}]`, `${data.length}`));
    }
    this.shape = Object.freeze([...shape]);
    this.data = data;
  }

  static zeros(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    requireDType('Tensor.zeros', dtype);
    checkDims(shape); // before allocating: a negative size would be a RangeError
    return new Tensor(shape, allocate(dtype, sizeOf(shape)));
  }

  static from(values: ArrayLike<number>, shape: readonly number[], dtype: DType = 'float32'): Tensor {
    const data = allocate(requireDType('Tensor.from', dtype), values.length);
    data.set(values);
    return new Tensor(shape, data);
  }

  static full(shape: readonly number[], value: number, dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, requireDType('Tensor.full', dtype));
    t.data.fill(value);
    return t;
  }

  get dtype(): DType {
    return dtypeOf(this.data);
  }

  get size(): number {
    return this.data.length;
  }

  get rank(): number {
    return this.shape.length;
  }

  clone(): Tensor {
    return new Tensor(this.shape, this.data.slice());
  }

  to(dtype: DType): Tensor {
    if (requireDType('Tensor.to', dtype) === this.dtype) return this;
    const data = allocate(dtype, this.size);
    data.set(this.data);
    return new Tensor(this.shape, data);
  }

  reshape(shape: readonly number[]): Tensor {
    const inferred = inferShape(shape, this.size);
    return new Tensor(inferred, this.data);
  }

  toArray(): number[] {
    return Array.from(this.data);
  }
}

function checkDims(shape: readonly number[]): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) {
      throw new ShapeError(expected('Tensor', 'non-negative integer dimensions', [...shape]));
    }
  }
}

function inferShape(shape: readonly number[], size: number): number[] {
  const free = shape.indexOf(-1);
  if (shape.some((d, i) => !Number.isInteger(d) || d < -1 || (d === -1 && i !== free))) {
    throw new ShapeError(expected('reshape', 'non-negative integer dimensions and at most one -1', [...shape]));
  }
  if (free < 0) {
    if (sizeOf(shape) !== size) throw new ShapeError(expected('reshape', `a shape with ${size} elements`, [...shape]));
    return [...shape];
  }
  const rest = sizeOf(shape.filter((_, i) => i !== free));
  if (rest === 0 || size % rest !== 0) {
    throw new ShapeError(expected('reshape', `a shape with ${size} elements`, [...shape]));
  }
  const out = [...shape];
  out[free] = size / rest;
  return out;
}

/** Throws ShapeError unless `shape` matches `want`; -1 in `want` matches any size. */
export function checkShape(where: string, shape: readonly number[], want: readonly number[],
  names?: readonly string[]): void {
  const ok = shape.length === want.length && want.every((d, i) => d === -1 || d === shape[i]);
  if (ok) return;
  const show = want.map((d, i) => (d === -1 ? (names?.[i] ?? '*') : `${names?.[i] ? names[i] + '=' : ''}${d}`));
  throw new ShapeError(expected(where, `shape [${show.join(', ')}]`, [...shape]));
}

/** Throws DataError naming the first NaN or Infinity in `data`. */
export function checkFinite(where: string, data: Arr): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (!Number.isFinite(v)) throw new DataError(expected(where, 'finite values', `${v} at flat index ${i}`));
  }
}
