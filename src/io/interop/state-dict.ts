/**
 * PyTorch state dicts: loading a `state_dict` (as saved by
 * `safetensors.torch.save_file(model.state_dict(), ...)`) into a bptt module
 * with strict name and shape checks, and exporting ours so that
 * `model.load_state_dict(load_file(...), strict=True)` accepts it.
 * Browser-safe: bytes in, bytes out.
 */
import type { Module } from '../../nn/index.js';
import { DataError, Tensor, quoted, requireBoolean, requireDType, sameShape, textOf } from '../../tensor/index.js';
import { decodeSafetensors, encodeSafetensors } from '../safetensors.js';

/** One tensor whose shape differs from the parameter of the same name. */
export interface ShapeMismatch {
  name: string;
  expected: readonly number[];
  got: readonly number[];
}

/**
 * A state dict that does not fit a module: every missing, unexpected and
 * mis-shaped name at once (PyTorch's `load_state_dict` lists them the same way).
 */
export class StateDictError extends DataError {
  constructor(
    readonly where: string,
    readonly missing: readonly string[],
    readonly unexpected: readonly string[],
    readonly mismatched: readonly ShapeMismatch[],
  ) {
    super(`${where}: expected exactly the module's parameter names and shapes, got ${describeProblems(missing, unexpected, mismatched)}`);
  }
}

function describeProblems(missing: readonly string[], unexpected: readonly string[], mismatched: readonly ShapeMismatch[]): string {
  const parts: string[] = [];
  const list = (names: readonly string[]): string => (names.length > 8 ? `${names.slice(0, 8).join(', ')}, … (${names.length} in all)` : names.join(', '));
  if (missing.length) parts.push(`missing [${list(missing.map(textOf))}]`);
  if (unexpected.length) parts.push(`unexpected [${list(unexpected.map(textOf))}]`);
  if (mismatched.length) {
    const mismatch = (m: ShapeMismatch): string =>
      `${textOf(m.name)}: expected [${m.expected.join(', ')}], got [${m.got.join(', ')}]`;
    parts.push(`shape mismatch [${list(mismatched.map(mismatch))}]`);
  }
  return parts.join('; ');
}

export interface LoadStateDictOptions {
  /** false: load what matches by name and skip the rest (shapes are still checked); default true */
  strict?: boolean;
  /**
   * Load only the entries whose names start with this prefix, stripped of it
   * (a sub-module out of a whole model's state dict, e.g. `'rnn.'`). With
   * `strict`, entries outside the prefix are ignored, entries inside it must
   * all belong to the module.
   */
  prefix?: string;
  /** for error messages */
  where?: string;
}

export interface LoadReport {
  /** names (without the prefix) that were loaded */
  loaded: string[];
  /** with strict false: the module's parameters that kept their values */
  missing: string[];
  /** with strict false: entries that matched no parameter */
  unexpected: string[];
}

/**
 * Copies `state` into `module` by PyTorch name. Nothing is changed unless the
 * whole state dict fits: a `StateDictError` lists every problem.
 */
export function loadTorchStateDict(module: Module, state: ReadonlyMap<string, Tensor> | Record<string, Tensor>, options: LoadStateDictOptions = {}): LoadReport {
  const where = options.where ?? 'loadTorchStateDict';
  const strict = requireBoolean(where, 'strict', options.strict, true);
  const prefix = options.prefix ?? '';
  const entries = new Map<string, Tensor>();
  for (const [name, t] of state instanceof Map ? state : Object.entries(state)) {
    if (name.startsWith(prefix)) entries.set(name.slice(prefix.length), t);
  }
  const own = new Map(module.namedParameters());
  const missing = [...own.keys()].filter((k) => !entries.has(k));
  const unexpected = [...entries.keys()].filter((k) => !own.has(k));
  const mismatched: ShapeMismatch[] = [];
  for (const [name, t] of entries) {
    const p = own.get(name);
    if (p && !sameShape(p.shape, t.shape)) mismatched.push({ name: prefix + name, expected: [...p.shape], got: [...t.shape] });
  }
  if (mismatched.length || (strict && (missing.length || unexpected.length))) {
    throw new StateDictError(where, strict ? missing.map((n) => prefix + n) : [], strict ? unexpected.map((n) => prefix + n) : [], mismatched);
  }
  for (const [name, t] of entries) {
    const p = own.get(name);
    if (!p) continue;
    if (!t.data.every(Number.isFinite)) {
      throw new DataError(`${where}: expected finite values in ${quoted(prefix + name)}, got NaN or Infinity`);
    }
  }
  const loaded: string[] = [];
  for (const [name, t] of entries) {
    const p = own.get(name);
    if (!p) continue;
    p.value = t.to(p.dtype).clone();
    p.grad = null;
    loaded.push(name);
  }
  return { loaded, missing, unexpected };
}

/** Reads a safetensors file (PyTorch's or ours) into `module`; see `loadTorchStateDict`. */
export function loadTorchSafetensors(module: Module, bytes: Uint8Array, options: LoadStateDictOptions = {}): LoadReport {
  const where = options.where ?? 'safetensors';
  const { tensors } = decodeSafetensors(bytes, where);
  return loadTorchStateDict(module, tensors, { ...options, where });
}

/** The module's parameters under PyTorch names, in registration order (= `nn.Module.state_dict()` order for the same structure). */
export function torchStateDict(module: Module, prefix = ''): Map<string, Tensor> {
  return new Map(module.namedParameters().map(([n, p]) => [prefix + n, p.value]));
}

/**
 * The module as a safetensors file `load_state_dict(strict=True)` accepts
 * (float32 unless `dtype` says otherwise; `format: pt` metadata as torch writes).
 */
export function encodeTorchSafetensors(module: Module, options: { prefix?: string; dtype?: 'float32' | 'float64'; metadata?: Record<string, string> } = {}): Uint8Array {
  const dtype = requireDType('encodeTorchSafetensors', options.dtype, 'float32');
  const tensors = new Map([...torchStateDict(module, options.prefix)].map(([n, t]) => [n, t.to(dtype)] as const));
  return encodeSafetensors(tensors, { format: 'pt', ...options.metadata });
}
