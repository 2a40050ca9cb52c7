import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { Variable } from '../src/autograd/index.js';
import { DataError, Tensor, type DType } from '../src/tensor/index.js';

export interface TensorJson {
  shape: number[];
  data: number[];
}

/** Reads a committed fixture from test/fixtures (tests run from dist/test/...). */
export function readFixture<T>(name: string): T {
  const url = new URL(`../../test/fixtures/${name}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as T;
}

export function tensorOf(j: TensorJson, dtype: DType): Tensor {
  return Tensor.from(j.data, j.shape, dtype);
}

/** Largest |a - b| and the flat index where it occurs. */
export function worstDiff(a: ArrayLike<number>, b: ArrayLike<number>): { err: number; at: number; scale: number } {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let err = 0, at = -1, scale = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > err || Number.isNaN(d)) (err = d), (at = i);
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { err, at, scale };
}

/**
 * A trainer restored at update `from`: with `params` made NaN, its next nine
 * updates are skipped and numbered on from the checkpoint's, and the tenth (the
 * engine's default maxConsecutiveSkips) ends training with a DataError naming
 * the first.
 */
export function assertDivergedRunStops(
  from: number, params: readonly Variable[], step: () => { skipped: string | null },
): void {
  for (const p of params) p.data.fill(NaN);
  for (let k = 1; k < 10; k++) assert.match(step().skipped ?? 'not skipped', new RegExp(`^update ${from + k}: `));
  const message = new RegExp(`got 10, updates ${from + 1} to ${from + 10}; the first, update ${from + 1}: `);
  assert.throws(step, (e: unknown) => e instanceof DataError && message.test(e.message));
}
