/**
 * The benchmark model as an `Unrollable` and as a DataParallel replica module
 * (`node dist/bench/train-step.js --workers N`): embedding 64 from vocab 80 →
 * recurrent layer(s) → linear to 80 → summed softmax cross-entropy over the
 * positions of the steps asked for (the engine divides by their number).
 * Batches are token ids and targets laid out [T, B] (row-major, B per step).
 */
import {
  Embedding, GRU, LSTM, Linear, RNN, Rng, crossEntropy,
  type HiddenState, type Recurrent, type Unrollable, type Unrolled, type Variable,
} from '../src/index.js';
import { rowRange, type Replica } from '../src/node.js';

export interface TokenBatch {
  ids: Int32Array;
  targets: Int32Array;
  /** rows per step */
  batch: number;
}

export interface BenchModelConfig {
  cell: 'lstm' | 'gru' | 'rnn';
  layers: number;
  hidden: number;
  vocab: number;
  embed: number;
  seed: number;
}

export class TokenModel implements Unrollable<TokenBatch, HiddenState> {
  readonly embed: Embedding;
  readonly rnn: Recurrent;
  readonly head: Linear;

  constructor(c: BenchModelConfig) {
    const rng = new Rng(c.seed);
    this.embed = new Embedding(c.vocab, c.embed, { rng: rng.split() });
    const common = { inputSize: c.embed, hiddenSize: c.hidden, numLayers: c.layers, rng: rng.split() };
    this.rnn = c.cell === 'lstm' ? new LSTM(common) : c.cell === 'gru' ? new GRU(common) : new RNN({ ...common, nonlinearity: 'tanh' });
    this.head = new Linear(c.hidden, c.vocab, { rng: rng.split() });
  }

  parameters(): Variable[] {
    return [...this.embed.parameters(), ...this.rnn.parameters(), ...this.head.parameters()];
  }

  steps(b: TokenBatch): number {
    return b.ids.length / b.batch;
  }

  unroll(b: TokenBatch, from: number, to: number, state: HiddenState | null, wantLoss: boolean): Unrolled<HiddenState> {
    const B = b.batch;
    const x = this.embed.forward(b.ids.subarray(from * B, to * B), [to - from, B]);
    const { output, state: next } = this.rnn.forward(x, state ?? undefined);
    if (!wantLoss) return { state: next, loss: null, terms: 0 };
    const loss = crossEntropy(this.head.forward(output), b.targets.subarray(from * B, to * B), { reduction: 'sum' });
    return { state: next, loss, terms: (to - from) * B };
  }
}

export function createReplica(config: BenchModelConfig): Replica<TokenBatch, HiddenState> {
  const model = new TokenModel(config);
  return { model, parameters: model.parameters() };
}

/** Rows [lo, hi) of every step. */
export function shard(b: TokenBatch, index: number, count: number): TokenBatch {
  const [lo, hi] = rowRange(b.batch, index, count);
  const T = b.ids.length / b.batch;
  const n = hi - lo;
  const ids = new Int32Array(T * n);
  const targets = new Int32Array(T * n);
  for (let t = 0; t < T; t++) {
    ids.set(b.ids.subarray(t * b.batch + lo, t * b.batch + hi), t * n);
    targets.set(b.targets.subarray(t * b.batch + lo, t * b.batch + hi), t * n);
  }
  return { ids, targets, batch: n };
}
