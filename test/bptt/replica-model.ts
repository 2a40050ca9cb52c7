/**
 * The replica module of the data-parallel tests: `createReplica(config)` and
 * `shard(batch, index, count)`, imported by every DataParallel worker.
 * A float32 recurrent regressor whose loss is the summed squared error over
 * the rows marked in `mask`, at steps from `firstTarget` on.
 */
import { Variable, add, constant, linear, mul, reshape, slice, square, sub, sum } from '../../src/autograd/index.js';
import type { Unrollable, Unrolled } from '../../src/bptt/index.js';
import { shardFlags, shardTensor, type Replica } from '../../src/bptt/node/parallel.js';
import { GRU, LSTM, Linear, type HiddenState, type Recurrent } from '../../src/nn/index.js';
import { Rng, Tensor } from '../../src/tensor/index.js';

export interface RowBatch {
  /** [T, B, F] */
  x: Tensor;
  /** [T, B, 1] */
  y: Tensor;
  /** per row: 1 when its targets count */
  mask: number[];
  /** no targets before this step */
  firstTarget: number;
}

export interface ReplicaConfig {
  kind: 'lstm' | 'gru';
  inputSize: number;
  hiddenSize: number;
  numLayers?: number;
  seed?: number;
  /** replicas built by createReplica throw from unroll (to test error reporting) */
  failInWorker?: boolean;
}

export class RowRegressor implements Unrollable<RowBatch, HiddenState> {
  readonly rnn: Recurrent;
  readonly head: Linear;

  constructor(readonly config: ReplicaConfig, private readonly fail = false) {
    const rng = new Rng(config.seed ?? 1);
    const base = { inputSize: config.inputSize, hiddenSize: config.hiddenSize, numLayers: config.numLayers, rng: rng.split() };
    this.rnn = config.kind === 'lstm' ? new LSTM(base) : new GRU(base);
    this.head = new Linear(config.hiddenSize, 1, { rng: rng.split() });
  }

  parameters(): Variable[] {
    return [...this.rnn.parameters(), ...this.head.parameters()];
  }

  steps(b: RowBatch): number {
    return b.x.shape[0]!;
  }

  unroll(b: RowBatch, from: number, to: number, state: HiddenState | null, wantLoss: boolean): Unrolled<HiddenState> {
    if (this.fail) throw new RangeError('replica-model: deliberate failure in a worker');
    const x = slice(new Variable(b.x), 0, from, to);
    const { output, state: next } = this.rnn.forward(x, state ?? undefined);
    const rows = b.mask.reduce((a, m) => a + (m ? 1 : 0), 0);
    if (!wantLoss || rows === 0) return { state: next, loss: null, terms: 0 };
    const [, B, H] = output.shape as [number, number, number];
    const mask = constant(b.mask, [B, 1], output);
    let loss: Variable | null = null;
    let terms = 0;
    for (let t = Math.max(from, b.firstTarget); t < to; t++) {
      const pred = linear(reshape(slice(output, 0, t - from, t - from + 1), [B, H]), this.head.weight, this.head.bias);
      const target = constant(b.y.data.subarray(t * B, (t + 1) * B), [B, 1], output);
      const l = sum(square(mul(sub(pred, target), mask)));
      loss = loss ? add(loss, l) : l;
      terms += rows;
    }
    return { state: next, loss, terms };
  }
}

export function createReplica(config: ReplicaConfig): Replica<RowBatch, HiddenState> {
  const model = new RowRegressor(config, !!config.failInWorker);
  return { model, parameters: model.parameters() };
}

export function shard(b: RowBatch, index: number, count: number): RowBatch {
  return { x: shardTensor(b.x, 1, index, count), y: shardTensor(b.y, 1, index, count), mask: shardFlags(b.mask, index, count), firstTarget: b.firstTarget };
}

export function rowBatch(T: number, B: number, F: number, seed: number, options: { mask?: number[]; firstTarget?: number; nanAt?: [number, number] } = {}): RowBatch {
  const rng = new Rng(seed);
  const x = Tensor.zeros([T, B, F]);
  const y = Tensor.zeros([T, B, 1]);
  for (let i = 0; i < x.size; i++) x.data[i] = rng.normal();
  for (let i = 0; i < y.size; i++) y.data[i] = rng.normal();
  if (options.nanAt) y.data[options.nanAt[0] * B + options.nanAt[1]] = NaN;
  return { x, y, mask: options.mask ?? new Array<number>(B).fill(1), firstTarget: options.firstTarget ?? 0 };
}
