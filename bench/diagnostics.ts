/**
 * What the gradient-flow diagnostics cost: median time of one full-BPTT update
 * with and without a FlowRecorder attached, measured alternately in one process.
 *
 *   npm run build && node dist/bench/diagnostics.js [hidden] [T] [batch]
 */
import { Variable } from '../src/autograd/index.js';
import { Bptt, FlowRecorder, type Unrollable, type Unrolled } from '../src/bptt/index.js';
import { kernels } from '../src/kernels/index.js';
import { crossEntropy } from '../src/losses/index.js';
import { LSTM, Linear, type LSTMState } from '../src/nn/index.js';
import { Adam } from '../src/optim/index.js';
import { Rng, Tensor } from '../src/tensor/index.js';

const [H = 256, T = 64, B = 32] = process.argv.slice(2).map(Number);
const F = 64, V = 80;

interface Batch { x: Tensor; targets: Int32Array }

class Model implements Unrollable<Batch, LSTMState> {
  rng = new Rng(1);
  lstm = new LSTM({ inputSize: F, hiddenSize: H, rng: this.rng.split() });
  head = new Linear(H, V, { rng: this.rng.split() });
  steps(b: Batch): number {
    return b.x.shape[0]!;
  }
  unroll(b: Batch, from: number, to: number, state: LSTMState | null, wantLoss: boolean): Unrolled<LSTMState> {
    const row = B * F;
    const x = new Variable(new Tensor([to - from, B, F], b.x.data.subarray(from * row, to * row)));
    const { output, state: next } = this.lstm.forward(x, state ?? undefined);
    if (!wantLoss) return { state: next, loss: null, terms: 0 };
    const loss = crossEntropy(this.head.forward(output), b.targets.subarray(from * B, to * B), { reduction: 'sum' });
    return { state: next, loss, terms: (to - from) * B };
  }
}

const model = new Model();
const params = [...model.lstm.parameters(), ...model.head.parameters()];
const recorder = new FlowRecorder();
const plain = new Bptt({ model, parameters: params, optimizer: new Adam(params), clipNorm: 5 });
const probed = new Bptt({ model, parameters: params, optimizer: new Adam(params), clipNorm: 5, recorder });
const batch: Batch = { x: Tensor.zeros([T, B, F]), targets: new Int32Array(T * B) };
for (let i = 0; i < batch.x.size; i++) batch.x.data[i] = model.rng.normal();
for (let i = 0; i < batch.targets.length; i++) batch.targets[i] = model.rng.int(V);

const times: Record<'off' | 'on', number[]> = { off: [], on: [] };
const time = (engine: Bptt<Batch, LSTMState>) => {
  const t0 = performance.now();
  engine.trainBatch(batch);
  return performance.now() - t0;
};
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
time(plain);
for (let r = 0; r < 7; r++) {
  recorder.detach([model.lstm]);
  times.off.push(time(plain));
  recorder.attach([model.lstm]);
  times.on.push(time(probed));
}
const off = median(times.off), on = median(times.on);
console.log(`backend ${kernels().name}, LSTM ${F}->${H}, batch ${B}, T ${T}: update ${off.toFixed(1)} ms without diagnostics, ${on.toFixed(1)} ms with (${(((on - off) / off) * 100).toFixed(1)} % overhead, median of 7)`);
