/**
 * Vanishing gradients, measured: the gradient-flow recorder reads ||dL/dh_t||
 * at every step while the error of the last step travels back through 100 steps
 * of the adding problem. A vanilla tanh RNN loses it; LSTM and GRU carry it.
 *
 *   npm run build && node dist/examples/vanishing.js
 */
import { pathToFileURL } from 'node:url';
import { Bptt, FlowRecorder } from '../src/bptt/index.js';
import { addingBatch } from '../src/data/index.js';
import { Rng } from '../src/tensor/index.js';
import { AddingModel, type AddingCell } from '../src/tasks/adding/index.js';
import { trainAdding } from './adding.js';

/** ||dL/dh_t|| for t = 0..T-1 of one untrained model, from the engine's diagnostics (loss at the last step only). */
export function gradientFlow(cell: AddingCell, options: { T?: number; hidden?: number; seed?: number; model?: AddingModel } = {}): Float64Array {
  const { T = 100, hidden = 32, seed = 1 } = options;
  const rng = new Rng(seed);
  const model = options.model ?? new AddingModel(cell, hidden, rng.split());
  const recorder = new FlowRecorder().attach([model.rnn]);
  const noUpdate = { step: () => {} };
  const engine = new Bptt({ model, parameters: model.parameters(), optimizer: noUpdate, recorder });
  const [report] = engine.trainBatch(addingBatch(rng.split(), T, 16));
  recorder.detach([model.rnn]);
  return report!.flow!.layers[`${model.rnn.kind.toLowerCase()}.l0`]!.dh;
}

/** How many times smaller the gradient is at the first step than at the last: ||dL/dh_{T-1}|| / ||dL/dh_0||. */
export function fall(dh: Float64Array): number {
  return dh[dh.length - 1]! / dh[0]!;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const distances = [0, 10, 25, 50, 75, 99];
  console.log(`||dL/dh_t|| at distance d from the loss (T = 100, untrained, hidden 32)\n`);
  console.log(['cell', ...distances.map((d) => `d=${d}`), 'fall'].map((s) => s.padStart(10)).join(''));
  const show = (name: string, dh: Float64Array) => {
    const row = distances.map((d) => dh[dh.length - 1 - d]!.toExponential(2));
    console.log([name, ...row, fall(dh).toExponential(1)].map((s) => s.padStart(10)).join(''));
  };
  for (const cell of ['rnn', 'lstm', 'gru'] as const) show(cell, gradientFlow(cell));
  if (process.argv.includes('--trained')) {
    // The LSTM of the long-range test, after it has learned the adding problem.
    const { model } = trainAdding({ cell: 'lstm', T: 100, steps: 1600, hidden: 32, batch: 32, lr: 1e-2, forgetBias: 1, seed: 1 });
    show('lstm*', gradientFlow('lstm', { model }));
    console.log('\n* trained on the adding problem (1,600 updates)');
  }
}
