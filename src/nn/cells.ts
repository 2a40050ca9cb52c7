import { reshape, type Variable } from '../autograd/index.js';
import type { Nonlinearity } from '../kernels/index.js';
import { ConfigError, Rng, Tensor, checkFinite, checkShape, expected, type DType } from '../tensor/index.js';
import { Module, initUniform, rejectUnknownOptions, requirePositiveInt, type Parameter } from './module.js';
import type { CellKind, GruVariant } from './recurrence/cell-steps.js';
import { recurrentLayer } from './recurrence/layer-op.js';

export interface CellOptions {
  inputSize: number;
  hiddenSize: number;
  bias?: boolean;
  rng?: Rng;
  dtype?: DType;
}

const KNOWN = ['inputSize', 'hiddenSize', 'bias', 'rng', 'dtype'];

/**
 * One time step of a recurrent cell, for loops a user writes (decoders,
 * streams). The step is a single fused op on the tape with a hand-written
 * backward: the same kernels the sequence layers run, over one step.
 */
abstract class Cell<S extends { h: Variable }> extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly weight_ih: Parameter;
  readonly weight_hh: Parameter;
  readonly bias_ih: Parameter | null;
  readonly bias_hh: Parameter | null;

  protected constructor(
    private readonly kind: string,
    private readonly cell: CellKind,
    gateCount: number,
    options: CellOptions,
    extraKnown: readonly string[],
    private readonly nonlinearity: Nonlinearity = 'tanh',
    private readonly gruVariant: GruVariant = 'after',
  ) {
    super();
    rejectUnknownOptions(kind, options, [...KNOWN, ...extraKnown]);
    this.inputSize = requirePositiveInt(kind, 'inputSize', options.inputSize);
    this.hiddenSize = requirePositiveInt(kind, 'hiddenSize', options.hiddenSize);
    const rng = options.rng ?? new Rng(0);
    const dtype = options.dtype ?? 'float32';
    const G = gateCount * this.hiddenSize;
    const bound = 1 / Math.sqrt(this.hiddenSize);
    const param = (name: string, shape: number[]): Parameter => {
      const p = this.addParameter(name, Tensor.zeros(shape, dtype));
      initUniform(p.value, bound, rng);
      return p;
    };
    this.weight_ih = param('weight_ih', [G, this.inputSize]);
    this.weight_hh = param('weight_hh', [G, this.hiddenSize]);
    const bias = options.bias ?? true;
    this.bias_ih = bias ? param('bias_ih', [G]) : null;
    this.bias_hh = bias ? param('bias_hh', [G]) : null;
  }

  /** x [B, inputSize] and the previous state (zeros when omitted) → the next state, each [B, H]. */
  step(x: Variable, state?: Partial<S>): S {
    const where = `${this.kind}.step`;
    checkShape(`${where}: input`, x.shape, [-1, this.inputSize], ['B', 'inputSize']);
    checkFinite(`${where}: input`, x.data);
    const B = x.shape[0]!;
    const check = (name: string, v: Variable | undefined) => {
      if (!v) return null;
      checkShape(`${where}: state.${name}`, v.shape, [B, this.hiddenSize], ['B', 'H']);
      checkFinite(`${where}: state.${name}`, v.data);
      return v;
    };
    const h0 = check('h', state?.h);
    const c0 = this.cell === 'lstm' ? check('c', (state as { c?: Variable } | undefined)?.c) : null;
    const r = recurrentLayer(reshape(x, [1, B, this.inputSize]), h0, c0, {
      weightIh: this.weight_ih, weightHh: this.weight_hh, biasIh: this.bias_ih, biasHh: this.bias_hh,
    }, { cell: this.cell, nonlinearity: this.nonlinearity, gruVariant: this.gruVariant });
    return (r.c ? { h: r.h, c: r.c } : { h: r.h }) as unknown as S;
  }
}

export class RNNCell extends Cell<{ h: Variable }> {
  constructor(options: CellOptions & { nonlinearity?: Nonlinearity }) {
    const nl = options.nonlinearity ?? 'tanh';
    if (nl !== 'tanh' && nl !== 'relu') throw new ConfigError(expected('RNNCell', "nonlinearity 'tanh' or 'relu'", `'${String(nl)}'`));
    super('RNNCell', 'rnn', 1, options, ['nonlinearity'], nl);
  }
}

export class LSTMCell extends Cell<{ h: Variable; c: Variable }> {
  constructor(options: CellOptions) {
    super('LSTMCell', 'lstm', 4, options, []);
  }
}

export class GRUCell extends Cell<{ h: Variable }> {
  constructor(options: CellOptions & { resetAfter?: boolean }) {
    const resetAfter = options.resetAfter ?? true;
    if (typeof resetAfter !== 'boolean') throw new ConfigError(expected('GRUCell', 'resetAfter a boolean', String(resetAfter)));
    super('GRUCell', 'gru', 3, options, ['resetAfter'], 'tanh', resetAfter ? 'after' : 'before');
  }
}
