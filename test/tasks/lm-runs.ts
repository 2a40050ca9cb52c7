/** Language-model runs on the runner for tests: a trainer set up as `bptt train lm` does, and a run stopped midway. */
import assert from 'node:assert/strict';
import { Adam } from '../../src/optim/index.js';
import { LmBatches, type LmBatchOptions } from '../../src/tasks/language-model/batches.js';
import { scoreTokens } from '../../src/tasks/language-model/evaluate.js';
import type { LanguageModel, LmBatch } from '../../src/tasks/language-model/model.js';
import { Trainer, type Callback, type FitOptions, type RunState } from '../../src/training/index.js';
import { dataParallel } from '../../src/training/node/data-parallel.js';

const REPLICA = new URL('../../src/tasks/language-model/node/replica.js', import.meta.url);

export interface LmRunOptions extends LmBatchOptions {
  workers: number;
  steps: number;
}

/** A language model's run on the runner, as `bptt train lm` sets it up (Adam, cosine schedule, clipping). */
export function lmTrainer(model: LanguageModel, trainIds: Int32Array, valIds: Int32Array, over: Partial<LmRunOptions> = {},
  fit: Partial<FitOptions<LmBatch>> = {}): Trainer<LmBatch> {
  const o: LmRunOptions = { batch: 4, seqLen: 16, stateful: true, resetProbability: 0.2, seed: 3, workers: 0,
    steps: 12, ...over };
  return new Trainer<LmBatch>({
    model, data: new LmBatches(trainIds, o), optimizer: new Adam(model.parameters(), { lr: 1e-2 }),
    schedule: { kind: 'cosine', lr: 1e-2, warmup: 3, floor: 0.1 }, budget: { steps: o.steps }, clip: 5,
    stateful: o.stateful, evalEvery: 1000, validate: () => scoreTokens(model, valIds, { batch: 4, steps: 16 }).bits,
    engine: dataParallel({ module: REPLICA, config: model.config, workers: o.workers }), ...fit,
  });
}

/** Trains until `stopAt` updates and returns the state a checkpoint would keep (taken as the run stops). */
export async function runUntil(stopAt: number, make: (fit: Partial<FitOptions<LmBatch>>) => Trainer<LmBatch>,
  losses: number[] = []): Promise<RunState> {
  let snap: RunState | null = null;
  const probe: Callback<Trainer<LmBatch>> = {
    onUpdate: (e, t) => {
      losses.push(e.loss);
      if (e.update === stopAt) t.stop('test');
    },
    onInterrupt: async (_reason, t) => {
      snap = await t.snapshot();
    },
  };
  const r = await make({ callbacks: [probe] }).fit();
  assert.equal(r.stoppedBy, 'stopped');
  return snap!;
}
