/** Data-parallel training over worker threads as a runner's engine (Node). */
import type { BpttOptions } from '../../bptt/index.js';
import { DataParallel } from '../../bptt/node/parallel.js';
import type { UpdateEngine } from '../runner.js';

/**
 * `fit({ ..., engine: dataParallel({ module, config, workers }) })`: each
 * batch's rows are shared out over `workers` threads besides the main one
 * (`module` makes a replica of the model in each; see `DataParallel`).
 */
export function dataParallel<B, S>(o: { module: URL | string; config: unknown; workers: number }):
  (settings: BpttOptions<B, S>) => Promise<UpdateEngine<B, S>> {
  return (settings) => DataParallel.start<B, S>({
    model: settings.model, parameters: settings.parameters, optimizer: settings.optimizer,
    strategy: settings.strategy, stateful: settings.stateful, clipNorm: settings.clipNorm,
    nanGuard: settings.nanGuard, maxConsecutiveSkips: settings.maxConsecutiveSkips, recorder: settings.recorder,
    module: o.module, config: o.config, workers: o.workers,
  });
}
