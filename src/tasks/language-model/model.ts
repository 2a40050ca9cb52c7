import type { Unrollable, Unrolled } from '../../bptt/index.js';
import type { TokenBatch } from '../../data/index.js';
import { crossEntropy } from '../../losses/index.js';
import {
  Dropout, Embedding, GRU, LSTM, Linear, Module, RNN, rejectUnknownOptions, requirePositiveInt,
  type HiddenState, type Recurrent,
} from '../../nn/index.js';
import { ConfigError, Rng, expected, quoted, show, textOf } from '../../tensor/index.js';

export type CellKind = 'lstm' | 'gru' | 'rnn';

/** Everything needed to rebuild the model (it is saved with every checkpoint). */
export interface LanguageModelConfig {
  cell: CellKind;
  vocab: number;
  embed: number;
  hidden: number;
  layers: number;
  /** on the embedding, between recurrent layers and before the output layer */
  dropout: number;
  /** LSTM only: the initial forget-gate bias (in bias_hh), so memory lasts from the first update (Jozefowicz et al. 2015); 0 is PyTorch's initialisation */
  forgetBias?: number;
  /** initialisation seed */
  seed: number;
}

/** A batch of the text streams, with the seed of its dropout masks. */
export interface LmBatch extends TokenBatch {
  noiseSeed: number;
}

const KNOWN: readonly (keyof LanguageModelConfig)[] = ['cell', 'vocab', 'embed', 'hidden', 'layers', 'dropout', 'forgetBias', 'seed'];

export function validateConfig(c: LanguageModelConfig, where = 'LanguageModel'): LanguageModelConfig {
  if (!c || typeof c !== 'object') throw new ConfigError(expected(where, 'a config object', textOf(c)));
  rejectUnknownOptions(where, c, KNOWN);
  if (!['lstm', 'gru', 'rnn'].includes(c.cell)) {
    throw new ConfigError(expected(where, "cell 'lstm', 'gru' or 'rnn'", quoted(c.cell)));
  }
  for (const k of ['vocab', 'embed', 'hidden', 'layers'] as const) requirePositiveInt(where, k, c[k]);
  if (!(typeof c.dropout === 'number' && c.dropout >= 0 && c.dropout < 1)) {
    throw new ConfigError(expected(where, 'dropout in [0, 1)', show(c.dropout)));
  }
  if (c.forgetBias !== undefined && !(Number.isFinite(c.forgetBias) && (c.cell === 'lstm' || c.forgetBias === 0))) {
    throw new ConfigError(expected(where, 'forgetBias a finite number, and only for an LSTM',
      `${show(c.forgetBias)} for cell ${quoted(c.cell)}`));
  }
  if (!Number.isInteger(c.seed)) throw new ConfigError(expected(where, 'an integer seed', show(c.seed)));
  return c;
}

/**
 * Embedding → stacked LSTM / GRU / tanh RNN → linear to the vocabulary. The
 * parameter names are those of this PyTorch module, so the safetensors of a
 * checkpoint load into it with `load_state_dict(strict=True)`:
 *
 *   class LanguageModel(nn.Module):
 *       def __init__(self, vocab, embed, hidden, layers, dropout, cell=nn.LSTM):
 *           super().__init__()
 *           self.embedding = nn.Embedding(vocab, embed)
 *           self.rnn = cell(embed, hidden, layers, dropout=dropout if layers > 1 else 0)
 *           self.drop = nn.Dropout(dropout)
 *           self.head = nn.Linear(hidden, vocab)
 *       def forward(self, x, state=None):                   # x: [T, B] token ids
 *           y, state = self.rnn(self.drop(self.embedding(x)), state)
 *           return self.head(self.drop(y)), state
 */
export class LanguageModel extends Module implements Unrollable<LmBatch, HiddenState> {
  readonly config: LanguageModelConfig;
  readonly embedding: Embedding;
  readonly rnn: Recurrent;
  readonly drop: Dropout;
  readonly head: Linear;

  constructor(config: LanguageModelConfig) {
    super();
    const c = (this.config = validateConfig({ ...config }));
    const rng = new Rng(c.seed);
    this.embedding = this.addModule('embedding', new Embedding(c.vocab, c.embed, { rng: rng.split() }));
    const common = { inputSize: c.embed, hiddenSize: c.hidden, numLayers: c.layers, dropout: c.layers > 1 ? c.dropout : 0, rng: rng.split() };
    this.rnn = this.addModule('rnn', c.cell === 'lstm' ? new LSTM(common) : c.cell === 'gru' ? new GRU(common) : new RNN({ ...common, nonlinearity: 'tanh' }));
    if (c.forgetBias) this.openForgetGates(c.forgetBias);
    this.drop = this.addModule('drop', new Dropout(c.dropout, rng.split()));
    this.head = this.addModule('head', new Linear(c.hidden, c.vocab, { rng: rng.split() }));
  }

  steps(b: LmBatch): number {
    return b.steps;
  }

  /** Logits [T, B, vocab] for steps [from, to) of `b`, summed cross-entropy if asked. */
  unroll(b: LmBatch, from: number, to: number, state: HiddenState | null, wantLoss: boolean): Unrolled<HiddenState> {
    // Masks drawn from (batch, first step): a recomputed stretch (checkpointed BPTT) or a resumed run sees the same ones.
    if (this.training && this.config.dropout > 0) this.reseed(b.noiseSeed * 65536 + from);
    const B = b.batch;
    const x = this.drop.forward(this.embedding.forward(b.inputs.subarray(from * B, to * B), [to - from, B]));
    const { output, state: next } = this.rnn.forward(x, state ?? undefined);
    if (!wantLoss) return { state: next, loss: null, terms: 0 };
    const logits = this.head.forward(this.drop.forward(output));
    const loss = crossEntropy(logits, b.targets.subarray(from * B, to * B), { reduction: 'sum' });
    return { state: next, loss, terms: (to - from) * B };
  }

  private openForgetGates(bias: number): void {
    const H = this.config.hidden;
    for (const [name, p] of this.rnn.namedParameters()) {
      if (name.startsWith('bias_hh_')) p.value.data.fill(bias, H, 2 * H); // gate order i, f, g, o
    }
  }

  private reseed(seed: number): void {
    const rng = new Rng(seed);
    this.drop.rng.setState(rng.split().getState());
    this.rnn.dropoutRng.setState(rng.split().getState());
  }
}
