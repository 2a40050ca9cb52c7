import { concat, dropout, reshape, slice, transpose01, type Variable } from '../autograd/index.js';
import type { Nonlinearity } from '../kernels/index.js';
import {
  ConfigError, Rng, checkFinite, checkShape, expected, rejectUnknownOptions, requireBoolean, requireDType,
  requirePositiveInt, show, type DType,
} from '../tensor/index.js';
import { Module, type Parameter } from './module.js';
import { cellStepsFor, type CellSteps } from './recurrence/cell-steps.js';
import { recurrentLayer, validateLengths, type LayerWeights } from './recurrence/layer-op.js';
import type { LayerProbe } from './recurrence/probe.js';

export interface RecurrentOptions {
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  bias?: boolean;
  /** input and output as [B, T, F] instead of [T, B, F] */
  batchFirst?: boolean;
  /** dropout on the outputs of every layer but the last, in training mode */
  dropout?: number;
  bidirectional?: boolean;
  rng?: Rng;
  dtype?: DType;
}

export interface RNNOptions extends RecurrentOptions {
  nonlinearity?: Nonlinearity;
}

export interface GRUOptions extends RecurrentOptions {
  /** true (default): PyTorch's n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn)); false: the original n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn) */
  resetAfter?: boolean;
}

export interface HiddenState {
  /** [numLayers · directions, B, H] */
  h: Variable;
}

export interface LSTMState extends HiddenState {
  c: Variable;
}

export interface ForwardOptions {
  /** valid steps of each sequence in the batch; later steps are padding */
  lengths?: ArrayLike<number>;
}

const KNOWN = ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional', 'rng', 'dtype'];

/**
 * Stacked, optionally bidirectional recurrent layers with PyTorch's parameter
 * names, shapes, initialisation and state layout ([layers · directions, B, H],
 * ordered layer 0 forward, layer 0 reverse, layer 1 forward, ...).
 */
/**
 * The weights of a stacked recurrent layer with biases, in closed form: `gates`
 * blocks of W_ih, W_hh, b_ih, b_hh per layer and direction; layers above the
 * first read `directions × hiddenSize` features. Checkpoint loaders compare it
 * with the weights file before building anything, so it must not loop over a
 * hand-edited layer count.
 */
export function recurrentParameterCount(gates: number, inputSize: number, hiddenSize: number, numLayers: number, directions = 1): number {
  const perLayer = (inputs: number) => gates * hiddenSize * (inputs + hiddenSize + 2);
  return directions * (perLayer(inputSize) + (numLayers - 1) * perLayer(directions * hiddenSize));
}

export abstract class Recurrent<S extends HiddenState = HiddenState> extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly hasBias: boolean;
  /** Instrumentation: a probe for each (layer, direction), or null. Set by the BPTT engine's diagnostics. */
  flowProbe: ((layer: number, direction: number) => LayerProbe) | null = null;
  /** When set, each batch row of dL/dh_t is clipped to this norm at every backward step. */
  hiddenGradClip: number | null = null;
  protected readonly layers: LayerWeights[][] = [];
  /** draws the masks between layers; public so a trainer can reseed it */
  readonly dropoutRng: Rng;

  /** `cell`: the step math; its name ('lstm', 'gru', 'gru_reset_before', 'rnn_tanh', 'rnn_relu') tells exporters which cell runs */
  protected constructor(readonly kind: string, options: RecurrentOptions, extraKnown: readonly string[], readonly cell: CellSteps) {
    super();
    rejectUnknownOptions(kind, options, [...KNOWN, ...extraKnown]);
    this.inputSize = requirePositiveInt(kind, 'inputSize', options.inputSize);
    this.hiddenSize = requirePositiveInt(kind, 'hiddenSize', options.hiddenSize);
    this.numLayers = requirePositiveInt(kind, 'numLayers', options.numLayers ?? 1);
    this.dropout = options.dropout ?? 0;
    if (!(typeof this.dropout === 'number' && this.dropout >= 0 && this.dropout < 1)) {
      throw new ConfigError(expected(kind, 'dropout in [0, 1)', show(this.dropout)));
    }
    if (this.dropout > 0 && this.numLayers === 1) {
      throw new ConfigError(expected(kind, 'dropout 0 with numLayers 1', show(this.dropout),
        'dropout acts between stacked layers only, as in PyTorch'));
    }
    this.bidirectional = requireBoolean(kind, 'bidirectional', options.bidirectional, false);
    this.batchFirst = requireBoolean(kind, 'batchFirst', options.batchFirst, false);
    this.hasBias = requireBoolean(kind, 'bias', options.bias, true);
    const rng = options.rng ?? new Rng(0);
    const dtype = requireDType(kind, options.dtype, 'float32');
    const H = this.hiddenSize;
    const G = cell.gateCount * H;
    const param = (name: string, shape: number[]): Parameter => this.addUniform(name, shape, 1 / Math.sqrt(H), rng, dtype);
    for (let l = 0; l < this.numLayers; l++) {
      const inSize = l === 0 ? this.inputSize : H * this.directions;
      const dirs: LayerWeights[] = [];
      for (let d = 0; d < this.directions; d++) {
        const sfx = `_l${l}${d === 1 ? '_reverse' : ''}`;
        dirs.push({
          weightIh: param(`weight_ih${sfx}`, [G, inSize]),
          weightHh: param(`weight_hh${sfx}`, [G, H]),
          biasIh: this.hasBias ? param(`bias_ih${sfx}`, [G]) : null,
          biasHh: this.hasBias ? param(`bias_hh${sfx}`, [G]) : null,
        });
      }
      this.layers.push(dirs);
    }
    this.dropoutRng = rng.split();
  }

  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  /**
   * Runs the whole stack over x ([T, B, F], or [B, T, F] with batchFirst).
   * Returns the last layer's output ([T, B, directions·H]) and the final state.
   */
  forward(x: Variable, state?: Partial<S>, options: ForwardOptions = {}): { output: Variable; state: S } {
    const where = `${this.kind}.forward`;
    checkShape(`${where}: input`, x.shape, [-1, -1, this.inputSize], this.batchFirst ? ['B', 'T', 'inputSize'] : ['T', 'B', 'inputSize']);
    checkFinite(`${where}: input`, x.data);
    let input = this.batchFirst ? transpose01(x) : x;
    const [T, B] = input.shape as [number, number];
    const lengths = options.lengths ? validateLengths(`${where}: lengths`, options.lengths, T, B) : null;
    const slots = this.numLayers * this.directions;
    const h0 = this.initialState(`${where}: state.h`, state?.h, slots, B);
    const c0 = this.cell.hasCell ? this.initialState(`${where}: state.c`, (state as Partial<LSTMState> | undefined)?.c, slots, B) : null;

    const hs: Variable[] = [];
    const cs: Variable[] = [];
    for (let l = 0; l < this.numLayers; l++) {
      const outs: Variable[] = [];
      for (let d = 0; d < this.directions; d++) {
        const k = l * this.directions + d;
        const r = recurrentLayer(input, h0 && pick(h0, k), c0 && pick(c0, k), this.layers[l]![d]!, {
          cell: this.cell, reverse: d === 1, lengths, probe: this.flowProbe?.(l, d) ?? null, hiddenGradClip: this.hiddenGradClip,
        });
        outs.push(r.output);
        hs.push(r.h);
        if (r.c) cs.push(r.c);
      }
      input = outs.length === 1 ? outs[0]! : concat(outs, 2);
      if (this.training && this.dropout > 0 && l < this.numLayers - 1) input = dropout(input, this.dropout, this.dropoutRng);
    }
    const output = this.batchFirst ? transpose01(input) : input;
    const stack = (vs: Variable[]) => concat(vs.map((v) => reshape(v, [1, B, this.hiddenSize])), 0);
    const finalState = (cs.length ? { h: stack(hs), c: stack(cs) } : { h: stack(hs) }) as S;
    return { output, state: finalState };
  }

  /**
   * One time step of layer `layer` (forward direction) from x [B, F] and that
   * layer's state, with the same weights and op as `forward`: for decoders
   * that feed each step's output into the next step's input.
   */
  stepLayer(layer: number, x: Variable, h: Variable | null, c: Variable | null = null): { h: Variable; c: Variable | null } {
    const where = `${this.kind}.stepLayer`;
    if (!(Number.isInteger(layer) && layer >= 0 && layer < this.numLayers)) {
      throw new ConfigError(expected(where, `a layer in [0, ${this.numLayers})`, show(layer)));
    }
    const F = layer === 0 ? this.inputSize : this.hiddenSize * this.directions;
    checkShape(`${where}: input`, x.shape, [-1, F], ['B', 'features']);
    const B = x.shape[0]!;
    const r = recurrentLayer(reshape(x, [1, B, F]), h, this.cell.hasCell ? c : null, this.layers[layer]![0]!, { cell: this.cell });
    return { h: r.h, c: r.c };
  }

  private initialState(where: string, v: Variable | undefined, slots: number, batch: number): Variable | null {
    if (!v) return null;
    checkShape(where, v.shape, [slots, batch, this.hiddenSize], ['layers·directions', 'B', 'H']);
    checkFinite(where, v.data);
    return v;
  }
}

/** State slot k of a [L·D, B, H] state, as [B, H]. */
function pick(state: Variable, k: number): Variable {
  return reshape(slice(state, 0, k, k + 1), state.shape.slice(1));
}

/** Elman RNN: h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh). */
export class RNN extends Recurrent<HiddenState> {
  constructor(options: RNNOptions) {
    super('RNN', options, ['nonlinearity'], cellStepsFor('RNN', 'rnn', options));
  }
}

/** LSTM with gates [i, f, g, o] as PyTorch. */
export class LSTM extends Recurrent<LSTMState> {
  constructor(options: RecurrentOptions) {
    super('LSTM', options, [], cellStepsFor('LSTM', 'lstm'));
  }
}

/** GRU with gates [r, z, n]; PyTorch's linear-before-reset unless resetAfter is false. */
export class GRU extends Recurrent<HiddenState> {
  constructor(options: GRUOptions) {
    super('GRU', options, ['resetAfter'], cellStepsFor('GRU', 'gru', options));
  }
}
