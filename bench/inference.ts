/**
 * Inference without the tape for a single sequence (batch 1), per backend:
 * the wasm backend must not be slower than reference at any shape.
 *
 *   npm run build && node dist/bench/inference.js
 */
import { Variable, noGrad } from '../src/autograd/index.js';
import { backendNames, setBackend } from '../src/kernels/index.js';
import { GRU, LSTM, RNN, type Recurrent } from '../src/nn/index.js';
import { Rng, Tensor } from '../src/tensor/index.js';

const T = 50;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
const rows: string[] = [];
for (const cell of ['rnn', 'lstm', 'gru'] as const) {
  for (const H of [4, 16, 64, 256, 512]) {
    const options = { inputSize: H, hiddenSize: H, rng: new Rng(1) };
    const model: Recurrent = cell === 'lstm' ? new LSTM(options) : cell === 'gru' ? new GRU(options) : new RNN(options);
    const x = new Variable(Tensor.full([T, 1, H], 0.1));
    const times = new Map<string, number[]>();
    // Each sample repeats the forward pass for at least 20 ms: tiny shapes take microseconds.
    const sample = () => {
      let n = 0;
      const t0 = performance.now();
      do noGrad(() => model.forward(x)), n++;
      while (performance.now() - t0 < 20);
      return (performance.now() - t0) / n;
    };
    for (const b of backendNames()) setBackend(b), sample(); // warm up the JIT on both paths
    for (let r = 0; r < 7; r++) {
      for (const b of backendNames()) {
        setBackend(b);
        (times.get(b) ?? times.set(b, []).get(b)!).push(sample());
      }
    }
    const cols = backendNames().map((b) => median(times.get(b)!));
    rows.push(`| ${cell} | ${H} | ${cols.map((ms) => ms.toFixed(3)).join(' | ')} | ${(cols[0]! / cols[1]!).toFixed(1)} |`);
  }
}
console.log(`Single-sequence inference, T = ${T}, batch 1, no tape; ms per forward pass, median of 7 samples of at least 20 ms each\n`);
console.log(`| cell | hidden | ${backendNames().join(' | ')} | reference / wasm |\n|---|---|${backendNames().map(() => '---|').join('')}---|`);
console.log(rows.join('\n'));
