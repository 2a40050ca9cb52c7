import { Variable } from '../autograd/variable.js';
import {
  ConfigError, DataError, ShapeError, allocate, expected, jsonOf, quoted, requireBoolean, sameShape, show, type Arr,
  type Tensor,
} from '../tensor/index.js';

/** A hyper-parameter value as it appears in `config` and in a state dict. */
export type Hyper = number | boolean | readonly number[];

/** One parameter's state: PyTorch's per-parameter step count and named buffers shaped like the parameter. */
export interface ParamState<B> {
  step: number;
  buffers: B;
}

/** The JSON-able checkpoint of an optimizer: plain numbers, arrays and records only. */
export interface OptimizerStateDict {
  type: string;
  lr: number;
  stepCount: number;
  options: Record<string, number | boolean | number[]>;
  /** One entry per parameter, in constructor order; null until the parameter's first update. */
  state: Array<{ step: number; buffers: Record<string, number[]> } | null>;
}

/**
 * Base of every optimizer: owns the parameter list, the learning rate and the
 * per-parameter state; subclasses supply the buffers and the update rule.
 * As in PyTorch, a parameter whose `grad` is null is skipped and its state
 * (including its step count) does not advance.
 */
export abstract class Optimizer<B extends object = object> {
  readonly type: string;
  readonly params: readonly Variable[];
  /** Number of completed `step()` calls. */
  stepCount = 0;
  /** Every hyper-parameter except `lr`, as validated at construction. */
  abstract readonly config: Readonly<Record<string, Hyper>>;
  protected state: Array<ParamState<B> | null>;
  #lr = 0;

  constructor(type: string, params: readonly Variable[], lr: number) {
    this.type = type;
    checkParams(type, params);
    this.params = Object.freeze([...params]);
    this.state = params.map(() => null);
    this.lr = lr;
  }

  /** The learning rate; settable so schedules can change it between steps. */
  get lr(): number {
    return this.#lr;
  }

  set lr(value: number) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ConfigError(expected(this.type, 'lr to be a finite number >= 0', show(value)));
    }
    this.#lr = value;
  }

  /** Fresh zero-step buffers for a parameter (allocated lazily, on its first gradient). */
  protected abstract initBuffers(value: Tensor): B;

  /** Updates one parameter in place; `state.step` has already been incremented. */
  protected abstract update(param: Arr, grad: Arr, state: ParamState<B>): void;

  step(): void {
    // Check every gradient before touching any weight, so a bad one leaves the model as it was.
    this.params.forEach((p, i) => {
      if (p.grad) checkGrad(`${this.type}.step`, p, i, p.grad);
    });
    this.params.forEach((p, i) => {
      if (!p.grad) return;
      const s = (this.state[i] ??= { step: 0, buffers: this.initBuffers(p.value) });
      s.step++;
      this.update(p.value.data, p.grad.data, s);
    });
    this.stepCount++;
  }

  /** Sets every parameter's gradient to null (PyTorch's `set_to_none=True`). */
  zeroGrad(): void {
    for (const p of this.params) p.zeroGrad();
  }

  stateDict(): OptimizerStateDict {
    const options: Record<string, number | boolean | number[]> = {};
    for (const [k, v] of Object.entries(this.config)) options[k] = Array.isArray(v) ? [...(v as number[])] : (v as number | boolean);
    const state = this.state.map((s) => {
      if (!s) return null;
      const buffers: Record<string, number[]> = {};
      for (const [k, v] of Object.entries(s.buffers as Record<string, Arr>)) buffers[k] = Array.from(v);
      return { step: s.step, buffers };
    });
    return { type: this.type, lr: this.lr, stepCount: this.stepCount, options, state };
  }

  /** Restores a `stateDict()`. The hyper-parameters must match this optimizer's; `lr` is restored (a schedule may have moved it). */
  loadStateDict(dict: OptimizerStateDict): void {
    const where = `${this.type}.loadStateDict`;
    if (dict === null || typeof dict !== 'object') throw new DataError(expected(where, 'a state dict object', show(dict)));
    if (dict.type !== this.type) throw new ConfigError(expected(where, `a state dict of type '${this.type}'`, show(dict.type)));
    checkSameOptions(where, this.config, dict.options);
    if (!Array.isArray(dict.state) || dict.state.length !== this.params.length) {
      throw new ConfigError(expected(where, `state for ${this.params.length} parameters`, Array.isArray(dict.state) ? `${dict.state.length}` : show(dict.state)));
    }
    if (!isCount(dict.stepCount)) throw new DataError(expected(where, 'stepCount to be an integer >= 0', show(dict.stepCount)));
    // Build everything first and assign last: a bad dict must not leave a half-loaded optimizer.
    const state = dict.state.map((s, i) => (s === null ? null : this.restoreParamState(where, s, i)));
    this.lr = dict.lr;
    this.state = state;
    this.stepCount = dict.stepCount;
  }

  private restoreParamState(where: string, saved: { step: number; buffers: Record<string, number[]> }, i: number): ParamState<B> {
    const p = this.params[i]!;
    if (!isCount(saved.step)) throw new DataError(expected(where, `an integer step >= 0 for parameter ${i}`, show(saved.step)));
    const buffers = this.initBuffers(p.value) as Record<string, Arr>;
    const want = Object.keys(buffers).sort();
    const got = saved.buffers && typeof saved.buffers === 'object' ? Object.keys(saved.buffers).sort() : [];
    if (want.join() !== got.join()) throw new DataError(expected(where, `buffers [${want.join(', ')}] for parameter ${i}`, got));
    for (const name of want) {
      const values = saved.buffers[name]!;
      if (!Array.isArray(values) || values.length !== p.value.size) {
        throw new ShapeError(expected(where, `${p.value.size} values in buffer '${name}' of parameter ${i}`, Array.isArray(values) ? `${values.length}` : show(values)));
      }
      if (!values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        throw new DataError(expected(where, `finite numbers in buffer '${name}' of parameter ${i}`, 'a non-finite or non-number value'));
      }
      buffers[name]!.set(values);
    }
    return { step: saved.step, buffers: buffers as B };
  }
}

/** A zero buffer with the parameter's dtype and size. */
export function zerosLike(value: Tensor): Arr {
  return allocate(value.dtype, value.size);
}

function checkParams(where: string, params: readonly Variable[]): void {
  if (!Array.isArray(params) || params.length === 0) {
    throw new ConfigError(expected(where, 'a non-empty array of parameters', Array.isArray(params) ? 'an empty array' : show(params), 'pass model.parameters()'));
  }
  const seen = new Set<Variable>();
  params.forEach((p, i) => {
    if (!(p instanceof Variable)) throw new ConfigError(expected(where, `a Variable at parameter ${i}`, show(p)));
    if (seen.has(p)) {
      throw new ConfigError(expected(where, 'each parameter once', `parameter ${i} (${quoted(p.name)}) repeated`,
        'a repeated parameter would be updated twice per step'));
    }
    seen.add(p);
  });
}

function checkGrad(where: string, p: Variable, i: number, grad: Tensor): void {
  const label = p.name ? quoted(p.name) : `parameter ${i}`;
  if (!sameShape(grad.shape, p.value.shape)) {
    throw new ShapeError(expected(where, `the gradient of ${label} to have shape [${p.value.shape.join(', ')}]`, [...grad.shape]));
  }
  if (grad.dtype !== p.value.dtype) throw new DataError(expected(where, `a ${p.value.dtype} gradient for ${label}`, grad.dtype));
}

function checkSameOptions(where: string, mine: Readonly<Record<string, Hyper>>, saved: unknown): void {
  const a = JSON.stringify(sortedEntries(mine));
  const b = saved && typeof saved === 'object' ? sortedEntries(saved as Record<string, unknown>) : saved;
  if (jsonOf(b) !== a) {
    throw new ConfigError(expected(where, `options ${a}`, show(b),
      'construct the optimizer with the options the state was saved with'));
  }
}

function sortedEntries(o: Readonly<Record<string, unknown>>): Array<[string, unknown]> {
  return Object.entries(o).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
}

function isCount(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0;
}

// ---- option reading, shared by the optimizers ----

/** PyTorch options we deliberately do not offer, so the error can say so instead of "unknown". */
const UNSUPPORTED = new Set(['maximize', 'foreach', 'capturable', 'differentiable', 'fused']);

/** Checks that `options` is a plain object whose keys are all in `allowed`; returns it as a record. */
export function readOptions(where: string, options: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError(expected(where, 'an options object', show(options)));
  }
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const camel = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const hint = UNSUPPORTED.has(camel) ? `'${camel}' is not supported` : allowed.includes(camel) ? `options are camelCase: '${camel}'` : undefined;
    throw new ConfigError(expected(where, `options among ${allowed.join(', ')}`, quoted(key), hint));
  }
  return options as Record<string, unknown>;
}

/** A finite number within [min, max] (or [min, max) when `openTop`); `fallback` undefined makes it required. */
export function numberOption(where: string, o: Record<string, unknown>, key: string, fallback: number | undefined, range: { min?: number; max?: number; openTop?: boolean } = {}): number {
  const v = o[key] ?? fallback;
  if (v === undefined) throw new ConfigError(expected(where, `option '${key}'`, 'nothing', `${where} has no default ${key}`));
  return checkNumber(where, key, v, range);
}

export function checkNumber(where: string, label: string, v: unknown, { min = 0, max = Infinity, openTop = false }: { min?: number; max?: number; openTop?: boolean }): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ConfigError(expected(where, `${label} to be a finite number`, show(v)));
  const top = max === Infinity ? '' : openTop ? ` and < ${max}` : ` and <= ${max}`;
  if (v < min || v > max || (openTop && v === max)) throw new ConfigError(expected(where, `${label} >= ${min}${top}`, show(v)));
  return v;
}

export function flagOption(where: string, o: Record<string, unknown>, key: string, fallback: boolean): boolean {
  return requireBoolean(where, key, o[key] ?? fallback);
}
