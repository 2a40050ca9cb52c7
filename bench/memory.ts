/**
 * Peak memory and time of one update with full BPTT against checkpointed BPTT
 * (states kept every ⌈√T⌉ steps, segments recomputed in the backward pass).
 * Each configuration runs in its own process so its peak RSS is its own.
 *
 *   npm run build && node dist/bench/memory.js
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Variable, add, reshape, slice } from '../src/autograd/index.js';
import { Bptt, type Strategy, type Unrollable, type Unrolled } from '../src/bptt/index.js';
import { mse } from '../src/losses/index.js';
import { LSTM, Linear, type LSTMState } from '../src/nn/index.js';
import { Rng, Tensor } from '../src/tensor/index.js';

const B = 8, F = 16, H = 64;

/** An LSTM regressing a target at every 10th step of a long random sequence. */
class LongSequence implements Unrollable<Tensor, LSTMState> {
  readonly rng = new Rng(1);
  readonly lstm = new LSTM({ inputSize: F, hiddenSize: H, rng: this.rng.split() });
  readonly head = new Linear(H, 1, { rng: this.rng.split() });
  steps(x: Tensor): number {
    return x.shape[0]!;
  }
  unroll(x: Tensor, from: number, to: number, state: LSTMState | null, wantLoss: boolean): Unrolled<LSTMState> {
    const row = B * F;
    const input = new Variable(new Tensor([to - from, B, F], x.data.subarray(from * row, to * row)));
    const { output, state: next } = this.lstm.forward(input, state ?? undefined);
    if (!wantLoss) return { state: next, loss: null, terms: 0 };
    let loss: Variable | null = null;
    let terms = 0;
    for (let t = from; t < to; t++) {
      if (t % 10 !== 9) continue;
      const l = mse(this.head.forward(reshape(slice(output, 0, t - from, t - from + 1), [B, H])), Tensor.zeros([B, 1]), 'sum');
      loss = loss ? add(loss, l) : l;
      terms += B;
    }
    return { state: next, loss, terms };
  }
}

function child(strategy: 'full' | 'checkpointed', T: number): void {
  const model = new LongSequence();
  const x = Tensor.zeros([T, B, F]);
  for (let i = 0; i < x.size; i++) x.data[i] = model.rng.normal();
  const params = [...model.lstm.parameters(), ...model.head.parameters()];
  const s: Strategy = strategy === 'full' ? { kind: 'full' } : { kind: 'checkpointed' };
  const engine = new Bptt({ model, parameters: params, optimizer: { step: () => {} }, strategy: s });
  const started = performance.now();
  engine.trainBatch(x);
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ strategy, T, seconds, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
}

function main(): void {
  const self = fileURLToPath(import.meta.url);
  const rows: string[] = [];
  for (const T of [1000, 10000]) {
    for (const strategy of ['full', 'checkpointed'] as const) {
      const out = execFileSync(process.execPath, ['--max-old-space-size=16384', self, '--child', strategy, String(T)], { encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { seconds: number; peakRssMiB: number };
      rows.push(`| ${T} | ${strategy} | ${r.peakRssMiB.toFixed(0)} | ${r.seconds.toFixed(2)} |`);
      console.log(rows[rows.length - 1]);
    }
  }
  console.log(`\nLSTM ${F}→${H}, batch ${B}, loss every 10th step, one update, backend reference\n\n| T | strategy | peak RSS (MiB) | time (s) |\n|---|---|---|---|\n${rows.join('\n')}`);
}

const args = process.argv.slice(2);
if (args[0] === '--child') child(args[1] as 'full' | 'checkpointed', Number(args[2]));
else main();
