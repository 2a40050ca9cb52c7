/**
 * The recogniser as a DataParallel replica module: every worker thread builds
 * the same model from its config and trains its rows of each batch.
 */
import { rowRange, type Replica } from '../../../bptt/node/parallel.js';
import { SpeechModel, type SpeechBatch, type SpeechModelConfig } from '../model.js';

export function createReplica(config: SpeechModelConfig): Replica<SpeechBatch, null> {
  const model = new SpeechModel(config);
  return { model, parameters: model.parameters() };
}

/** Rows [lo, hi) of the batch, every shard as long as the batch (the threads unroll alike); own dropout masks. */
export function shard(b: SpeechBatch, index: number, count: number): SpeechBatch {
  const [lo, hi] = rowRange(b.batch, index, count);
  const n = hi - lo, dim = b.dim;
  const inputs = new Float32Array(b.steps * n * dim);
  for (let t = 0; t < b.steps; t++) {
    inputs.set(b.inputs.subarray((t * b.batch + lo) * dim, (t * b.batch + hi) * dim), t * n * dim);
  }
  return {
    steps: b.steps, batch: n, dim, inputs, lengths: b.lengths.slice(lo, hi), targets: b.targets?.slice(lo, hi) ?? null,
    noiseSeed: ((b.noiseSeed ?? 0) + index * 0x9e3779b1) >>> 0,
  };
}
