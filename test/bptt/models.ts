import { Variable, add as addVar, linear, noGrad, reshape, slice } from '../../src/autograd/index.js';
import type { Unrollable, Unrolled } from '../../src/bptt/index.js';
import { mse } from '../../src/losses/index.js';
import { GRU, LSTM, Linear, RNN, type HiddenState, type Recurrent } from '../../src/nn/index.js';
import { Rng, Tensor, type DType } from '../../src/tensor/index.js';

/** Continuous inputs [T, B, F] and targets [T, B, 1]; `targetSteps` limits which steps have a target. */
export interface RegressionBatch {
  x: Tensor;
  y: Tensor;
  targetSteps?: (t: number) => boolean;
}

export function randomBatch(T: number, B: number, F: number, seed: number, dtype: DType = 'float64'): RegressionBatch {
  const rng = new Rng(seed);
  const x = Tensor.zeros([T, B, F], dtype);
  const y = Tensor.zeros([T, B, 1], dtype);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
  for (let i = 0; i < y.size; i++) y.data[i] = rng.normal();
  return { x, y };
}

/** A recurrent stack plus a linear head, summed squared error at every target step: the engine's test subject. */
export class Regressor implements Unrollable<RegressionBatch, HiddenState> {
  readonly rnn: Recurrent;
  readonly head: Linear;

  constructor(kind: 'rnn' | 'lstm' | 'gru', options: { inputSize: number; hiddenSize: number; numLayers?: number; dtype?: DType; seed?: number; nonlinearity?: 'tanh' | 'relu' }) {
    const rng = new Rng(options.seed ?? 1);
    const { inputSize, hiddenSize, numLayers, dtype } = options;
    const base = { inputSize, hiddenSize, numLayers, dtype, rng: rng.split() };
    this.rnn = kind === 'lstm' ? new LSTM(base) : kind === 'gru' ? new GRU(base) : new RNN({ ...base, nonlinearity: options.nonlinearity ?? 'tanh' });
    this.head = new Linear(hiddenSize, 1, { rng: rng.split(), dtype });
  }

  parameters(): Variable[] {
    return [...this.rnn.parameters(), ...this.head.parameters()];
  }

  steps(b: RegressionBatch): number {
    return b.x.shape[0]!;
  }

  unroll(b: RegressionBatch, from: number, to: number, state: HiddenState | null, wantLoss: boolean): Unrolled<HiddenState> {
    const x = slice(new Variable(b.x), 0, from, to);
    const { output, state: next } = this.rnn.forward(x, state ?? undefined);
    if (!wantLoss) return { state: next, loss: null, terms: 0 };
    const [, B, H] = output.shape as [number, number, number];
    let loss: Variable | null = null;
    let terms = 0;
    for (let t = from; t < to; t++) {
      if (b.targetSteps && !b.targetSteps(t)) continue;
      const pred = linear(reshape(slice(output, 0, t - from, t - from + 1), [B, H]), this.head.weight, this.head.bias);
      const target = new Tensor([B, 1], b.y.data.slice(t * B, (t + 1) * B));
      const l = mse(pred, target, 'sum');
      loss = loss ? addVar(loss, l) : l;
      terms += B;
    }
    return { state: next, loss, terms };
  }

  /** The state after steps [0, t) from `s0`, off the tape. */
  stateAt(b: RegressionBatch, t: number, s0: HiddenState | null): HiddenState | null {
    if (t === 0) return s0;
    return noGrad(() => this.unroll(b, 0, t, s0, false).state);
  }
}

/** Records each update's gradients instead of changing the weights. */
export class GradientRecorder {
  readonly updates: Float64Array[][] = [];
  constructor(private readonly params: readonly Variable[]) {}
  step(): void {
    this.updates.push(this.params.map((p) => Float64Array.from(p.grad?.data ?? new Float64Array(p.value.size))));
  }
}
