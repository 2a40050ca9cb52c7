/**
 * The language model as a DataParallel replica module: every worker thread
 * builds the same model from its config and trains its rows of each batch.
 */
import { rowRange, type Replica } from '../../../bptt/node/parallel.js';
import type { HiddenState } from '../../../nn/index.js';
import { LanguageModel, type LanguageModelConfig, type LmBatch } from '../model.js';

export function createReplica(config: LanguageModelConfig): Replica<LmBatch, HiddenState> {
  const model = new LanguageModel(config);
  return { model, parameters: model.parameters() };
}

/** Rows [lo, hi) of every step; each shard draws its own dropout masks. */
export function shard(b: LmBatch, index: number, count: number): LmBatch {
  const [lo, hi] = rowRange(b.batch, index, count);
  const n = hi - lo;
  const inputs = new Int32Array(b.steps * n);
  const targets = new Int32Array(b.steps * n);
  for (let t = 0; t < b.steps; t++) {
    inputs.set(b.inputs.subarray(t * b.batch + lo, t * b.batch + hi), t * n);
    targets.set(b.targets.subarray(t * b.batch + lo, t * b.batch + hi), t * n);
  }
  return { inputs, targets, steps: b.steps, batch: n, noiseSeed: (b.noiseSeed + index * 0x9e3779b1) >>> 0 };
}
