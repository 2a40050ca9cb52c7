import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Variable } from '../../src/autograd/index.js';
import { mse } from '../../src/losses/index.js';
import { Linear } from '../../src/nn/index.js';
import { Adam } from '../../src/optim/index.js';
import { Rng, Tensor } from '../../src/tensor/index.js';
import { Trainer, type TaskCodec, type UpdateEvent } from '../../src/training/index.js';
import { checkpointWriter } from '../../src/training/node/checkpoints.js';
import { loadRun, runStateOf } from '../../src/training/node/run-files.js';

const tmp = mkdtempSync(join(tmpdir(), 'bptt-checkpoints-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

type Batch = { x: Tensor; y: Tensor };
const codec: TaskCodec<{ seed: number }, Linear> = {
  task: 'line', config: (c) => c as { seed: number }, parameterCount: () => 2,
  build: (c) => new Linear(1, 1, { rng: new Rng(c.seed) }),
};
const rng = new Rng(5);
const data: Batch[] = Array.from({ length: 8 }, () => {
  const x = Array.from({ length: 4 }, () => rng.range(-1, 1));
  return { x: Tensor.from(x, [4, 1]), y: Tensor.from(x.map((v) => 3 * v + 1), [4, 1]) };
});

function trainer(dir: string, stopAt: number | null): { t: Trainer<Batch>; model: Linear } {
  const model = codec.build({ seed: 1 }, {}, 'test');
  const loss = (b: Batch) => mse(model.forward(new Variable(b.x, false)), b.y);
  const content = { model, config: { seed: 1 }, extra: {}, data: [], settings: {}, writtenBy: 'test' };
  const stopper = { onUpdate: (e: UpdateEvent, t: Trainer<Batch>) => e.update === stopAt && t.stop('test') };
  const t = new Trainer<Batch>({
    model, data, loss, optimizer: new Adam(model.parameters(), { lr: 0.05 }), budget: { steps: 24 }, evalEvery: 5,
    seed: 2, validate: () => data.reduce((a, b) => a + loss(b).item(), 0),
    callbacks: [checkpointWriter({ dir, codec, content }), stopper as never],
  });
  return { t, model };
}

test('checkpointWriter keeps a run folder fit can resume from, bit for bit (best.json, last.json, interrupt)', async () => {
  const whole = trainer(join(tmp, 'whole'), null);
  await whole.t.fit();
  const first = trainer(join(tmp, 'cut'), 13);
  assert.equal((await first.t.fit()).stoppedBy, 'stopped');
  const last = loadRun(join(tmp, 'cut', 'last.json'), codec);
  const { state, bestWeights } = runStateOf(last);
  assert.equal(state.progress.updates, 13, 'last.json saved at the interrupt');
  assert.equal(loadRun(join(tmp, 'cut', 'best.json'), codec).meta.trainer!.progress.best!.update, 10);
  const again = trainer(join(tmp, 'cut'), null);
  again.model.loadStateDict(last.model.stateDict());
  await again.t.restore(state, bestWeights);
  await again.t.fit();
  assert.deepEqual([...again.model.weight.value.data], [...whole.model.weight.value.data]);
  const final = (dir: string) => runStateOf(loadRun(join(tmp, dir, 'last.json'), codec)).state.progress;
  assert.deepEqual(final('cut').best, final('whole').best);
});
