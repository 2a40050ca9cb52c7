/**
 * What a checkpoint keeps of a trainer so that `--resume` continues exactly:
 * the optimiser's settings and step counts go in the manifest, its moments in
 * the state tensors (`optimizer.<parameter>.<buffer>`); generator states are
 * four 32-bit words. Reading checks every part, so a hand-edited manifest is a
 * DataError naming the field, never a crash or a huge allocation.
 */
import type { Variable } from '../autograd/index.js';
import type { OptimizerStateDict } from '../optim/index.js';
import { DataError, Tensor, expected, show } from '../tensor/index.js';

/** An optimiser's state as the manifest holds it (the buffers' values are tensors beside it). */
export type PackedOptimizer = Omit<OptimizerStateDict, 'state'> & { state: Array<{ step: number; buffers: string[] } | null> };

/** A model's parameters by name, as `namedParameters()` lists them. */
export type NamedParameters = ReadonlyArray<readonly [string, Variable]>;

/** Moves the optimiser's moments into `tensors` (in each parameter's dtype, so a resumed run continues bit for bit); returns the rest for the manifest. */
export function packOptimizer(dict: OptimizerStateDict, params: NamedParameters, tensors: Map<string, Tensor>): PackedOptimizer {
  const state = dict.state.map((s, i) => {
    if (!s) return null;
    const [name, p] = params[i]!;
    for (const [k, v] of Object.entries(s.buffers)) tensors.set(`optimizer.${name}.${k}`, Tensor.from(v, [v.length], p.value.dtype));
    return { step: s.step, buffers: Object.keys(s.buffers) };
  });
  return { ...dict, state };
}

/** Buffers that sum squares (Adam's, AMSGrad's, RMSprop's and Adagrad's): a negative value is a corrupt state. */
const SQUARES = new Set(['expAvgSq', 'maxExpAvgSq', 'squareAvg', 'sum']);

/**
 * The optimiser state packed by `packOptimizer` (the optimiser's own
 * loadStateDict checks sizes and settings). The step counts and moments are
 * checked here, where the tensors' names are known: a moment that is not
 * finite, or a negative sum of squares, would make every later update NaN.
 */
export function unpackOptimizer(where: string, packed: unknown, tensors: ReadonlyMap<string, Tensor>,
  params: NamedParameters, field = 'optimizer'): OptimizerStateDict {
  const names = params.map(([n]) => n);
  const p = packed as PackedOptimizer;
  if (!isObject(p) || !Array.isArray(p.state) || p.state.length !== names.length) {
    badMeta(where, `${field}.state`, `one entry per parameter (${names.length})`, p?.state);
  }
  if (!isCount(p.stepCount)) badMeta(where, `${field}.stepCount`, 'an integer >= 0', p.stepCount);
  const state = p.state.map((s, i) => {
    if (s === null) return null;
    if (!(isObject(s) && isCount(s.step) && Array.isArray(s.buffers) && s.buffers.every((b) => typeof b === 'string'))) {
      badMeta(where, `${field}.state`, 'null or { step, buffers: names } per parameter', s);
    }
    // A parameter has state from its first step on, and steps at most once per optimiser step.
    if (s.step < 1 || s.step > p.stepCount) {
      badMeta(where, `${field}.state[${i}].step`, `a count from 1 to stepCount (${p.stepCount})`, s.step);
    }
    const buffer = (b: string) => moments(where, tensors, `optimizer.${names[i]}.${b}`, SQUARES.has(b));
    const buffers = Object.fromEntries(s.buffers.map((b) => [b, buffer(b)]));
    return { step: s.step, buffers };
  });
  return { ...p, state };
}

/** A moment tensor's values: finite, and >= 0 for a sum of squares. */
function moments(where: string, tensors: ReadonlyMap<string, Tensor>, key: string, squares: boolean): number[] {
  const values = Array.from(stateTensor(where, tensors, key).data);
  const bad = values.findIndex((v) => !Number.isFinite(v) || (squares && v < 0));
  if (bad >= 0) {
    const want = squares ? 'finite values >= 0 (a sum of squares)' : 'finite values';
    throw new DataError(expected(`${where}: state tensor '${key}'`, want, `${values[bad]} at index ${bad}`));
  }
  return values;
}

/** A generator state as `Rng.getState()` gives it. */
export function checkRngState(where: string, field: string, x: unknown): number[] {
  if (!Array.isArray(x) || x.length !== 4 || !x.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)) {
    badMeta(where, field, 'a generator state (4 unsigned 32-bit integers)', x);
  }
  return x as number[];
}

export function isCount(x: unknown): x is number {
  return Number.isSafeInteger(x) && (x as number) >= 0;
}

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A manifest field that is not what a resumed run needs: `<where>: meta.<field>: expected …, got …`. */
export function badMeta(where: string, field: string, want: string, got: unknown): never {
  throw new DataError(expected(`${where}: meta.${field}`, want, show(got)));
}

/** A state tensor the manifest refers to. */
export function stateTensor(where: string, tensors: ReadonlyMap<string, Tensor>, key: string): Tensor {
  const t = tensors.get(key);
  if (!t) throw new DataError(expected(where, `a state tensor '${key}'`, 'none'));
  return t;
}
