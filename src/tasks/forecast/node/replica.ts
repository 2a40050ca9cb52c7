/**
 * The forecaster as a DataParallel replica module: every worker thread builds
 * the same model from its config and trains its windows of each batch.
 */
import { rowRange, type Replica } from '../../../bptt/node/parallel.js';
import { Forecaster, type ForecasterConfig, type ForecastState } from '../model.js';
import type { ForecastBatch } from '../windows.js';

export function createReplica(config: ForecasterConfig): Replica<ForecastBatch, ForecastState> {
  const model = new Forecaster(config);
  return { model, parameters: model.parameters() };
}

/** Windows [lo, hi) of the batch: rows of the time-major inputs and future calendar, of the targets. */
export function shard(b: ForecastBatch, index: number, count: number): ForecastBatch {
  const [lo, hi] = rowRange(b.batch, index, count);
  const rows = (x: Float64Array, steps: number): Float64Array => {
    const width = steps ? x.length / (steps * b.batch) : 0;
    const out = new Float64Array(steps * (hi - lo) * width);
    for (let t = 0; t < steps; t++) {
      out.set(x.subarray((t * b.batch + lo) * width, (t * b.batch + hi) * width), t * (hi - lo) * width);
    }
    return out;
  };
  const per = b.targets ? b.targets.length / b.batch : 0;
  return {
    origins: b.origins.slice(lo, hi), batch: hi - lo, lookback: b.lookback, horizon: b.horizon,
    inputs: rows(b.inputs, b.lookback), future: rows(b.future, b.horizon - 1),
    targets: b.targets ? b.targets.slice(lo * per, hi * per) : null,
  };
}
