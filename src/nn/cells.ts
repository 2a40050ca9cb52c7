import { reshape, type Variable } from '../autograd/index.js';
import type { Nonlinearity } from '../kernels/index.js';
import {
  Rng, checkFinite, checkShape, rejectUnknownOptions, requireBoolean, requireDType, requirePositiveInt, type DType,
} from '../tensor/index.js';
import { Module, type Parameter } from './module.js';
import { cellStepsFor, type CellSteps } from './recurrence/cell-steps.js';
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

  protected constructor(private readonly kind: string, options: CellOptions, extraKnown: readonly string[], private readonly cell: CellSteps) {
    super();
    rejectUnknownOptions(kind, options, [...KNOWN, ...extraKnown]);
    this.inputSize = requirePositiveInt(kind, 'inputSize', options.inputSize);
    this.hiddenSize = requirePositiveInt(kind, 'hiddenSize', options.hiddenSize);
    const bias = requireBoolean(kind, 'bias', options.bias, true);
    const rng = options.rng ?? new Rng(0);
    const dtype = requireDType(kind, options.dtype, 'float32');
    const G = cell.gateCount * this.hiddenSize;
    const param = (name: string, shape: number[]): Parameter => this.addUniform(name, shape, 1 / Math.sqrt(this.hiddenSize), rng, dtype);
    this.weight_ih = param('weight_ih', [G, this.inputSize]);
    this.weight_hh = param('weight_hh', [G, this.hiddenSize]);
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
    const c0 = this.cell.hasCell ? check('c', (state as { c?: Variable } | undefined)?.c) : null;
    const r = recurrentLayer(reshape(x, [1, B, this.inputSize]), h0, c0, {
      weightIh: this.weight_ih, weightHh: this.weight_hh, biasIh: this.bias_ih, biasHh: this.bias_hh,
    }, { cell: this.cell });
    return (r.c ? { h: r.h, c: r.c } : { h: r.h }) as unknown as S;
  }
}

export class RNNCell extends Cell<{ h: Variable }> {
  constructor(options: CellOptions & { nonlinearity?: Nonlinearity }) {
    super('RNNCell', options, ['nonlinearity'], cellStepsFor('RNNCell', 'rnn', options));
  }
}

export class LSTMCell extends Cell<{ h: Variable; c: Variable }> {
  constructor(options: CellOptions) {
    super('LSTMCell', options, [], cellStepsFor('LSTMCell', 'lstm'));
  }
}

export class GRUCell extends Cell<{ h: Variable }> {
  constructor(options: CellOptions & { resetAfter?: boolean }) {
    super('GRUCell', options, ['resetAfter'], cellStepsFor('GRUCell', 'gru', options));
  }
}
