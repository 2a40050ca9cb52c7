/**
 * The copy-memory task (Arjovsky et al. 2016) through the BPTT engine: ten
 * symbols must be reproduced after a long blank delay. A memoryless model is
 * stuck at 10·ln 8 / (delay + 20) nats per step.
 *
 *   npm run build && node dist/examples/copy-memory.js [lstm|gru|rnn] [delay] [updates]
 */
import { pathToFileURL } from 'node:url';
import { Bptt, type Unrollable, type Unrolled } from '../src/bptt/index.js';
import { copyMemoryBaseline, copyMemoryBatch, type TokenBatch } from '../src/data/index.js';
import { crossEntropy } from '../src/losses/index.js';
import { Embedding, GRU, LSTM, Linear, RNN, type HiddenState, type Recurrent } from '../src/nn/index.js';
import { Adam } from '../src/optim/index.js';
import { Rng } from '../src/tensor/index.js';

class CopyModel implements Unrollable<TokenBatch, HiddenState> {
  readonly embed: Embedding;
  readonly rnn: Recurrent;
  readonly head: Linear;

  constructor(cell: 'lstm' | 'gru' | 'rnn', hidden: number, rng: Rng) {
    this.embed = new Embedding(10, 16, { rng: rng.split() });
    const options = { inputSize: 16, hiddenSize: hidden, rng: rng.split() };
    this.rnn = cell === 'lstm' ? new LSTM(options) : cell === 'gru' ? new GRU(options) : new RNN(options);
    this.head = new Linear(hidden, 10, { rng: rng.split() });
  }

  parameters() {
    return [...this.embed.parameters(), ...this.rnn.parameters(), ...this.head.parameters()];
  }

  steps(b: TokenBatch): number {
    return b.steps;
  }

  unroll(b: TokenBatch, from: number, to: number, state: HiddenState | null, wantLoss: boolean): Unrolled<HiddenState> {
    const ids = b.inputs.subarray(from * b.batch, to * b.batch);
    const { output, state: next } = this.rnn.forward(this.embed.forward(ids, [to - from, b.batch]), state ?? undefined);
    if (!wantLoss) return { state: next, loss: null, terms: 0 };
    const loss = crossEntropy(this.head.forward(output), b.targets.subarray(from * b.batch, to * b.batch), { reduction: 'sum' });
    return { state: next, loss, terms: (to - from) * b.batch };
  }
}

export function trainCopy(cell: 'lstm' | 'gru' | 'rnn', delay: number, updates: number, seed = 1): { finalLoss: number; baseline: number } {
  const rng = new Rng(seed);
  const model = new CopyModel(cell, 64, rng.split());
  const engine = new Bptt({ model, parameters: model.parameters(), optimizer: new Adam(model.parameters(), { lr: 2e-3 }), clipNorm: 1 });
  const data = rng.split();
  let finalLoss = NaN;
  for (let u = 1; u <= updates; u++) {
    finalLoss = engine.trainBatch(copyMemoryBatch(data, delay, 32))[0]!.loss;
    if (u % 50 === 0) console.log(`update ${u}  loss ${finalLoss.toFixed(4)} nats/step (memoryless ${copyMemoryBaseline(delay).toFixed(4)})`);
  }
  return { finalLoss, baseline: copyMemoryBaseline(delay) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [cell = 'lstm', delay = '50', updates = '1000'] = process.argv.slice(2);
  trainCopy(cell as 'lstm', Number(delay), Number(updates));
}
