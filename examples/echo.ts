/**
 * Trains a 1-layer LSTM on the delayed-echo task: at every step, output the
 * symbol seen `delay` steps earlier. A model without memory is stuck at
 * ln(vocab) nats; the LSTM has to carry each symbol through its state.
 *
 *   npm run example            (after npm ci)
 */
import { pathToFileURL } from 'node:url';
import { noGrad } from '../src/autograd/index.js';
import { echoBatch } from '../src/data/index.js';
import { crossEntropy } from '../src/losses/index.js';
import { Embedding, Linear, LSTM } from '../src/nn/index.js';
import { Adam, clipGradNorm } from '../src/optim/index.js';
import { Rng } from '../src/tensor/index.js';

export interface EchoOptions {
  seed?: number;
  steps?: number;
  hidden?: number;
  vocab?: number;
  delay?: number;
  onStep?: (step: number, loss: number) => void;
}

export function trainEcho(options: EchoOptions = {}): { losses: number[]; heldOutLoss: number; baseline: number } {
  const { seed = 1, steps = 300, hidden = 32, vocab = 4, delay = 3 } = options;
  const rng = new Rng(seed);
  const embed = new Embedding(vocab, 8, { rng: rng.split() });
  const lstm = new LSTM({ inputSize: 8, hiddenSize: hidden, rng: rng.split() });
  const head = new Linear(hidden, vocab, { rng: rng.split() });
  const params = [...embed.parameters(), ...lstm.parameters(), ...head.parameters()];
  const optimizer = new Adam(params, { lr: 1e-2 });
  const dataRng = rng.split();
  const shape = { steps: 12, batch: 16, vocab, delay };

  const lossOf = (batch: ReturnType<typeof echoBatch>) => {
    const x = embed.forward(batch.inputs, [batch.steps, batch.batch]);
    const { output } = lstm.forward(x);
    return crossEntropy(head.forward(output), batch.targets); // the first `delay` steps are ignored
  };

  const losses: number[] = [];
  for (let step = 1; step <= steps; step++) {
    optimizer.zeroGrad();
    const loss = lossOf(echoBatch(dataRng, shape));
    loss.backward();
    clipGradNorm(params, 1);
    optimizer.step();
    losses.push(loss.item());
    options.onStep?.(step, loss.item());
  }
  const heldOut = echoBatch(new Rng(seed + 1000), { ...shape, batch: 256 });
  const heldOutLoss = noGrad(() => lossOf(heldOut)).item();
  return { losses, heldOutLoss, baseline: Math.log(vocab) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now();
  const { heldOutLoss, baseline } = trainEcho({
    onStep: (step, loss) => {
      if (step % 25 === 0) console.log(`step ${String(step).padStart(3)}  train loss ${loss.toFixed(4)} nats`);
    },
  });
  console.log(`held-out loss ${heldOutLoss.toFixed(4)} nats (memoryless baseline ${baseline.toFixed(4)}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
