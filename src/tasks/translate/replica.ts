/**
 * The encoder–decoder as a DataParallel replica module: every worker thread
 * builds the same model from its config and trains its rows of each batch.
 */
import type { Unrollable } from '../../bptt/unrolled.js';
import { rowRange, type Replica } from '../../bptt/node/parallel.js';
import { Rng } from '../../tensor/index.js';
import { Seq2Seq, type PairBatch, type Seq2SeqConfig } from './model.js';

export function createReplica(config: Seq2SeqConfig): Replica<PairBatch, null> {
  const model = new Seq2Seq(config);
  return { model: unrollable(model), parameters: model.parameters() };
}

/** The whole pair is one stretch for the engine: encoder and decoder are unrolled together. */
export function unrollable(model: Seq2Seq): Unrollable<PairBatch, null> {
  return {
    steps: () => 1,
    unroll: (b) => {
      // Dropout masks and sampling draws from the batch's seed: each shard draws its own, reproducibly.
      const rng = new Rng(b.noiseSeed ?? 0);
      model.reseed(rng.split());
      const p = b.samplingP ?? 0;
      return { state: null, loss: model.loss(b, p > 0 ? { p, rng } : null), terms: b.terms };
    },
  };
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
