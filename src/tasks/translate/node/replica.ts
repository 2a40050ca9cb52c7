/**
 * The encoder–decoder as a DataParallel replica module: every worker thread
 * builds the same model from its config and trains its rows of each batch.
 */
import { rowRange, type Replica } from '../../../bptt/node/parallel.js';
import { Seq2Seq, type PairBatch, type Seq2SeqConfig } from '../model.js';

export function createReplica(config: Seq2SeqConfig): Replica<PairBatch, null> {
  const model = new Seq2Seq(config);
  return { model, parameters: model.parameters() };
}

/** Rows [lo, hi) of the batch, source and target steps trimmed to the longest row kept. */
export function shard(b: PairBatch, index: number, count: number): PairBatch {
  const [lo, hi] = rowRange(b.batch, index, count);
  const n = hi - lo;
  const sourceLengths = b.sourceLengths.slice(lo, hi);
  const S = Math.max(...sourceLengths);
  const columns = (ids: Int32Array, steps: number) => {
    const out = new Int32Array(steps * n);
    for (let t = 0; t < steps; t++) out.set(ids.subarray(t * b.batch + lo, t * b.batch + hi), t * n);
    return out;
  };
  const targets = columns(b.decoderTargets, b.targetSteps);
  let T = 0, terms = 0;
  targets.forEach((id, i) => {
    if (id !== -100) {
      terms++;
      T = Math.max(T, Math.floor(i / n) + 1);
    }
  });
  return {
    batch: n, source: columns(b.source, S), sourceSteps: S, sourceLengths,
    decoderInputs: columns(b.decoderInputs, T), decoderTargets: targets.slice(0, T * n), targetSteps: T, terms,
    noiseSeed: ((b.noiseSeed ?? 0) + index * 0x9e3779b1) >>> 0, samplingP: b.samplingP ?? 0,
  };
}
