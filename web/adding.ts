/**
 * The adding problem (Hochreiter & Schmidhuber 1997) as a model the BPTT
 * engine unrolls: a recurrent layer read out at the last step only, so the
 * error must travel back through every step to reach the two marked inputs.
 */
import { Linear, LSTM, RNN, Tensor, Variable, mse, reshape, slice, type HiddenState, type Recurrent, type RegressionSequences, type Rng, type Unrollable, type Unrolled } from '../src/index.js';

export class AddingModel implements Unrollable<RegressionSequences, HiddenState> {
  readonly rnn: Recurrent;
  readonly head: Linear;

  constructor(cell: 'rnn' | 'lstm', hidden: number, rng: Rng) {
    const options = { inputSize: 2, hiddenSize: hidden, rng: rng.split() };
    this.rnn = cell === 'lstm' ? new LSTM(options) : new RNN(options);
    this.head = new Linear(hidden, 1, { rng: rng.split() });
    if (cell === 'lstm') {
      // forget gates start open (Jozefowicz et al. 2015): memory lasts from the first update
      this.rnn.namedParameters().find(([n]) => n === 'bias_ih_l0')![1].data.fill(1, hidden, 2 * hidden);
    }
  }

  parameters(): Variable[] {
    return [...this.rnn.parameters(), ...this.head.parameters()];
  }

  steps(b: RegressionSequences): number {
    return b.steps;
  }

  unroll(b: RegressionSequences, from: number, to: number, state: HiddenState | null, wantLoss: boolean): Unrolled<HiddenState> {
    const row = b.batch * b.features;
    const x = new Variable(new Tensor([to - from, b.batch, b.features], b.inputs.slice(from * row, to * row)));
    const { output, state: next } = this.rnn.forward(x, state ?? undefined);
    if (!wantLoss || to !== b.steps) return { state: next, loss: null, terms: 0 };
    const last = reshape(slice(output, 0, to - from - 1, to - from), [b.batch, this.head.inFeatures]);
    return { state: next, loss: mse(this.head.forward(last), new Tensor([b.batch, 1], b.targets), 'sum'), terms: b.batch };
  }
}
