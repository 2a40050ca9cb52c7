/**
 * The adding problem (Hochreiter & Schmidhuber 1997) through the BPTT engine:
 * two marked values somewhere in a long sequence must be summed at the end,
 * so the error has to travel back across most of the sequence.
 *
 *   npm run build && node dist/examples/adding.js [lstm|gru|rnn] [T] [steps]
 */
import { pathToFileURL } from 'node:url';
import { Bptt, type FlowRecorder } from '../src/bptt/index.js';
import { addingBatch } from '../src/data/index.js';
import { Adam } from '../src/optim/index.js';
import { Rng } from '../src/tensor/index.js';
import { AddingModel, type AddingCell } from '../src/tasks/adding/index.js';

export interface AddingOptions {
  cell?: AddingCell;
  steps?: number;
  T?: number;
  hidden?: number;
  batch?: number;
  lr?: number;
  seed?: number;
  forgetBias?: number;
  recorder?: FlowRecorder;
  onUpdate?: (update: number, loss: number) => void;
}

export function trainAdding(o: AddingOptions = {}): { model: AddingModel; testMse: number } {
  const { cell = 'lstm', steps = 1500, T = 100, hidden = 32, batch = 32, lr = 1e-2, seed = 1, forgetBias = 0 } = o;
  const rng = new Rng(seed);
  const model = new AddingModel(cell, hidden, rng.split(), forgetBias);
  const optimizer = new Adam(model.parameters(), { lr });
  const engine = new Bptt({ model, parameters: model.parameters(), optimizer, clipNorm: 1, recorder: o.recorder ?? null });
  if (o.recorder) o.recorder.attach([model.rnn]);
  const data = rng.split();
  for (let step = 1; step <= steps; step++) {
    const [report] = engine.trainBatch(addingBatch(data, T, batch));
    o.onUpdate?.(step, report!.loss);
  }
  return { model, testMse: model.evaluate(addingBatch(new Rng(seed + 99), T, 1000)) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [cell = 'lstm', T = '100', steps = '1500', lr = '0.01', forgetBias = '0', hidden = '32', batch = '32'] = process.argv.slice(2);
  const started = Date.now();
  const { testMse } = trainAdding({
    cell: cell as AddingCell, T: Number(T), steps: Number(steps), lr: Number(lr), forgetBias: Number(forgetBias), hidden: Number(hidden), batch: Number(batch),
    onUpdate: (u, loss) => u % 100 === 0 && console.log(`update ${u}  train MSE ${loss.toFixed(4)}`),
  });
  console.log(`${cell} T=${T}: test MSE ${testMse.toFixed(4)} (predicting 1: 0.167) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
