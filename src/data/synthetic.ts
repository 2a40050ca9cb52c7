import { ConfigError, expected, type Rng } from '../tensor/index.js';

export interface TokenBatch {
  /** [T, B] input ids, time-major */
  inputs: Int32Array;
  /** [T, B] target ids; `ignoreIndex` where there is nothing to predict */
  targets: Int32Array;
  steps: number;
  batch: number;
}

/**
 * The delayed-echo task: at step t, output the symbol seen at step t - delay.
 * A memoryless model cannot beat ln(vocab) nats per target; a recurrent one
 * must carry each symbol for `delay` steps.
 */
export function echoBatch(rng: Rng, options: { steps: number; batch: number; vocab: number; delay: number; ignoreIndex?: number }): TokenBatch {
  const { steps, batch, vocab, delay } = options;
  if (!(delay >= 1 && delay < steps)) throw new ConfigError(expected('echoBatch', `delay in [1, ${steps - 1}]`, delay));
  const ignore = options.ignoreIndex ?? -100;
  const inputs = new Int32Array(steps * batch);
  const targets = new Int32Array(steps * batch).fill(ignore);
  for (let i = 0; i < inputs.length; i++) inputs[i] = rng.int(vocab);
  for (let t = delay; t < steps; t++) {
    for (let b = 0; b < batch; b++) targets[t * batch + b] = inputs[(t - delay) * batch + b]!;
  }
  return { inputs, targets, steps, batch };
}
