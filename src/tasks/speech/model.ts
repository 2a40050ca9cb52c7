/**
 * The speech recogniser: features (see features.ts) → stacked bidirectional
 * LSTM or GRU over the padded batch (`lengths`) → Linear to the blank and
 * ten digits → log-softmax → CTC. Parameter names as this PyTorch module:
 *     class Recogniser(nn.Module):
 *         def __init__(self, inputs, hidden, layers):
 *             super().__init__()
 *             self.rnn = nn.LSTM(inputs, hidden, layers, bidirectional=True)
 *             self.head = nn.Linear(2 * hidden, 11)
 * Labels: 0 is the CTC blank, digit d is class d + 1.
 */
import { constant, output, record, type Variable } from '../../autograd/index.js';
import type { Unrollable, Unrolled } from '../../bptt/index.js';
import { kernels } from '../../kernels/index.js';
import { ctcLoss } from '../../losses/index.js';
import { GRU, LSTM, Linear, Module, rejectUnknownOptions, requirePositiveInt, type Recurrent } from '../../nn/index.js';
import { ConfigError, Rng, Tensor, expected, quoted, show, textOf } from '../../tensor/index.js';
import { inputSize, validateFeatureConfig, type SpeechFeatureConfig } from './features.js';

export const BLANK = 0;
export const CLASSES = 11;

export interface SpeechModelConfig {
  features: SpeechFeatureConfig;
  cell: 'lstm' | 'gru';
  hidden: number;
  layers: number;
  /** dropout between stacked layers (training only) */
  dropout: number;
  seed: number;
}

const KEYS = ['features', 'cell', 'hidden', 'layers', 'dropout', 'seed'];

export function validateSpeechConfig(c: SpeechModelConfig, where = 'SpeechModel'): SpeechModelConfig {
  if (c === null || typeof c !== 'object') throw new ConfigError(expected(where, 'a config object', textOf(c)));
  rejectUnknownOptions(where, c, KEYS);
  validateFeatureConfig(c.features, `${where}: features`);
  if (c.cell !== 'lstm' && c.cell !== 'gru') {
    throw new ConfigError(expected(where, "cell 'lstm' or 'gru'", quoted(c.cell)));
  }
  requirePositiveInt(where, 'hidden', c.hidden);
  requirePositiveInt(where, 'layers', c.layers);
  if (!(typeof c.dropout === 'number' && c.dropout >= 0 && c.dropout < 1)) {
    throw new ConfigError(expected(where, 'dropout in [0, 1)', show(c.dropout)));
  }
  if (c.dropout > 0 && c.layers === 1) {
    throw new ConfigError(expected(where, 'dropout 0 with one layer', show(c.dropout),
      'dropout acts between stacked layers'));
  }
  if (!(Number.isInteger(c.seed) && c.seed >= 0)) {
    throw new ConfigError(expected(where, 'seed an integer >= 0', show(c.seed)));
  }
  return c;
}

/** A padded batch, time-major: inputs [T, B, dim], zeros past each utterance's length. */
export interface SpeechBatch {
  steps: number;
  batch: number;
  dim: number;
  inputs: Float32Array;
  lengths: number[];
  /** per utterance, the digits (0..9), or null to decode only */
  targets: number[][] | null;
  /** seeds the dropout masks of a training batch (see Batches) */
  noiseSeed?: number;
}

/** log-softmax over the last axis; backward: g − softmax·Σg per row. */
export function logSoftmax(x: Variable): Variable {
  const C = x.shape[x.shape.length - 1]!;
  const rows = x.value.size / C;
  const out = output(Tensor.zeros(x.shape, x.dtype));
  kernels().logSoftmax(x.data, out.data, rows, C);
  record('logSoftmax', [x], [out], () => {
    const g = out.grad!.data, y = out.data, gx = x.gradData();
    for (let r = 0; r < rows; r++) {
      const o = r * C;
      let s = 0;
      for (let j = 0; j < C; j++) s += g[o + j]!;
      for (let j = 0; j < C; j++) gx[o + j]! += g[o + j]! - Math.exp(y[o + j]!) * s;
    }
  });
  return out;
}

export class SpeechModel extends Module implements Unrollable<SpeechBatch, null> {
  readonly config: SpeechModelConfig;
  readonly rnn: Recurrent;
  readonly head: Linear;

  constructor(config: SpeechModelConfig) {
    super();
    const c = (this.config = validateSpeechConfig({ ...config }));
    const rng = new Rng(c.seed);
    const common = { inputSize: inputSize(c.features), hiddenSize: c.hidden, numLayers: c.layers, bidirectional: true, dropout: c.dropout, rng: rng.split() };
    this.rnn = this.addModule('rnn', c.cell === 'lstm' ? new LSTM(common) : new GRU(common));
    this.head = this.addModule('head', new Linear(2 * c.hidden, CLASSES, { rng: rng.split() }));
  }

  /** The per-step log-probabilities [T, B, 11]. */
  logProbs(b: SpeechBatch): Variable {
    this.checkBatch(b);
    const x = constant(b.inputs, [b.steps, b.batch, b.dim], this.head.weight);
    const { output: h } = this.rnn.forward(x, undefined, { lengths: b.lengths });
    return logSoftmax(this.head.forward(h));
  }

  steps(b: SpeechBatch): number {
    return b.steps;
  }

  /** The whole utterance at once (a bidirectional layer reads it from both ends): the summed CTC loss, counted per target digit. */
  unroll(b: SpeechBatch, from: number, to: number, _state: null, wantLoss: boolean): Unrolled<null> {
    if (from !== 0 || to !== b.steps) {
      throw new ConfigError(expected('SpeechModel.unroll', `the whole batch, steps [0, ${b.steps})`, `[${from}, ${to})`,
        'train with the full BPTT strategy'));
    }
    if (b.batch === 0) return { state: null, loss: null, terms: 0 }; // a data-parallel shard of a small batch
    if (this.training && b.noiseSeed !== undefined) this.rnn.dropoutRng.setState(new Rng(b.noiseSeed).getState());
    const lp = this.logProbs(b);
    if (!wantLoss || !b.targets) return { state: null, loss: null, terms: 0 };
    const labels = b.targets.map((t) => t.map((d) => d + 1));
    const loss = ctcLoss(lp, labels, b.lengths, labels.map((l) => l.length), { blank: BLANK, reduction: 'sum', zeroInfinity: true });
    return { state: null, loss, terms: labels.reduce((s, l) => s + l.length, 0) };
  }

  private checkBatch(b: SpeechBatch): void {
    const want = inputSize(this.config.features);
    if (b.dim !== want) {
      throw new ConfigError(expected('SpeechModel', `${want} inputs per step`, show(b.dim),
        'features computed with other settings than the model'));
    }
    if (b.inputs.length !== b.steps * b.batch * b.dim) throw new ConfigError(expected('SpeechModel', `${b.steps * b.batch * b.dim} inputs`, b.inputs.length));
  }
}
