import { Variable } from '../autograd/index.js';
import {
  ConfigError, ShapeError, Tensor, expected, listOf, requireBoolean, requireDType, sameShape, textOf, type DType,
  type Rng,
} from '../tensor/index.js';

/** A trainable tensor with its PyTorch-style name. */
export class Parameter extends Variable {
  constructor(value: Tensor, name: string) {
    super(value, true, name);
  }
}

/** Fills `p` from U(-bound, bound). */
export function initUniform(p: Tensor, bound: number, rng: Rng): void {
  for (let i = 0; i < p.data.length; i++) p.data[i] = rng.range(-bound, bound);
}

/**
 * Owns parameters and child modules under stable dotted names
 * (`encoder.weight_ih_l0`), so state dicts match PyTorch's.
 */
export abstract class Module {
  training = true;
  private readonly ownParams = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();

  protected addParameter(name: string, value: Tensor): Parameter {
    const p = new Parameter(value, name);
    this.ownParams.set(name, p);
    return p;
  }

  /** A new parameter drawn from U(-bound, bound), PyTorch's default for recurrent and linear weights. */
  protected addUniform(name: string, shape: readonly number[], bound: number, rng: Rng, dtype: DType): Parameter {
    const p = this.addParameter(name, Tensor.zeros(shape, dtype));
    initUniform(p.value, bound, rng);
    return p;
  }

  protected addModule<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  namedParameters(prefix = ''): Array<[string, Parameter]> {
    const out: Array<[string, Parameter]> = [];
    for (const [n, p] of this.ownParams) out.push([prefix + n, p]);
    for (const [n, m] of this.children) out.push(...m.namedParameters(`${prefix}${n}.`));
    return out;
  }

  /** This module and every module below it. */
  modules(): Module[] {
    return [this, ...[...this.children.values()].flatMap((m) => m.modules())];
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Training mode (dropout active) or evaluation mode, recursively. */
  train(on = true): this {
    this.training = requireBoolean('Module.train', 'on', on);
    for (const m of this.children.values()) m.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Converts every parameter to `dtype` (float64 for gradient checks). */
  to(dtype: DType): this {
    requireDType('Module.to', dtype);
    for (const p of this.parameters()) {
      p.value = p.value.to(dtype);
      p.grad = null;
    }
    return this;
  }

  get dtype(): DType {
    return this.parameters()[0]?.dtype ?? 'float32';
  }

  stateDict(): Map<string, Tensor> {
    return new Map(this.namedParameters().map(([n, p]) => [n, p.value]));
  }

  /** Copies tensors in by name; with `strict`, missing and unexpected names are errors. */
  loadStateDict(state: ReadonlyMap<string, Tensor> | Record<string, Tensor>, strict = true): void {
    requireBoolean('loadStateDict', 'strict', strict);
    const entries = state instanceof Map ? state : new Map(Object.entries(state));
    const own = new Map(this.namedParameters());
    if (strict) {
      const missing = [...own.keys()].filter((k) => !entries.has(k));
      const extra = [...entries.keys()].filter((k) => !own.has(k));
      if (missing.length || extra.length) {
        throw new ConfigError(expected('loadStateDict', 'exactly the model\'s parameter names',
          `missing ${listOf(missing)}, unexpected ${listOf(extra)}`));
      }
    }
    for (const [name, t] of entries) {
      const p = own.get(name);
      if (!p) continue;
      if (!sameShape(p.shape, t.shape)) {
        throw new ShapeError(expected(`loadStateDict: ${textOf(name)}`, `shape [${p.shape.join(', ')}]`, [...t.shape]));
      }
    }
    for (const [name, t] of entries) {
      const p = own.get(name);
      if (p) p.value = t.to(p.dtype).clone();
    }
  }
}
