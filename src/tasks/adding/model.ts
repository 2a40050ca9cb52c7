/**
 * The adding problem's model (Hochreiter & Schmidhuber 1997; data: `addingBatch`): a recurrent layer read out
 * by a linear head at the last step only, so the error must travel back through every step to reach the two
 * marked inputs. Used by the playground (web/), examples/adding.ts and the long-range tests.
 */
import { Variable, noGrad, reshape, slice } from '../../autograd/index.js';
import type { Unrollable, Unrolled } from '../../bptt/index.js';
import type { RegressionSequences } from '../../data/index.js';
import { mse } from '../../losses/index.js';
import { GRU, LSTM, Linear, RNN, type HiddenState, type Recurrent } from '../../nn/index.js';
import { Tensor, type Rng } from '../../tensor/index.js';

export type AddingCell = 'lstm' | 'gru' | 'rnn';

/** A recurrent layer read out by a linear head at the last step only. */
export class AddingModel implements Unrollable<RegressionSequences, HiddenState> {
  readonly rnn: Recurrent;
  readonly head: Linear;

  constructor(cell: AddingCell, hidden: number, rng: Rng, forgetBias = 0) {
    const options = { inputSize: 2, hiddenSize: hidden, rng: rng.split() };
    this.rnn = cell === 'lstm' ? new LSTM(options) : cell === 'gru' ? new GRU(options) : new RNN(options);
    this.head = new Linear(hidden, 1, { rng: rng.split() });
    // Optional: start the LSTM forget gates open (Jozefowicz et al. 2015), so memory lasts from the first update.
    if (cell === 'lstm' && forgetBias !== 0) {
      const b = this.rnn.namedParameters().find(([n]) => n === 'bias_ih_l0')![1].data;
      b.fill(forgetBias, hidden, 2 * hidden);
    }
  }

  parameters(): Variable[] {
    return [...this.rnn.parameters(), ...this.head.parameters()];
  }

  steps(b: RegressionSequences): number {
    return b.steps;
  }

  unroll(
    b: RegressionSequences, from: number, to: number, state: HiddenState | null, wantLoss: boolean,
  ): Unrolled<HiddenState> {
    const row = b.batch * b.features;
    const x = new Variable(new Tensor([to - from, b.batch, b.features], b.inputs.slice(from * row, to * row)));
    const { output, state: next } = this.rnn.forward(x, state ?? undefined);
    if (!wantLoss || to !== b.steps) return { state: next, loss: null, terms: 0 };
    const last = reshape(slice(output, 0, to - from - 1, to - from), [b.batch, this.head.inFeatures]);
    const loss = mse(this.head.forward(last), new Tensor([b.batch, 1], b.targets), 'sum');
    return { state: next, loss, terms: b.batch };
  }

  /** Mean squared error on a batch, without the tape. */
  evaluate(b: RegressionSequences): number {
    return noGrad(() => this.unroll(b, 0, b.steps, null, true).loss!.item() / b.batch);
  }
}
