import { ConfigError, expected, show, type Rng } from '../tensor/index.js';

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
  if (!(delay >= 1 && delay < steps)) {
    throw new ConfigError(expected('echoBatch', `delay in [1, ${steps - 1}]`, show(delay)));
  }
  const ignore = options.ignoreIndex ?? -100;
  const inputs = new Int32Array(steps * batch);
  const targets = new Int32Array(steps * batch).fill(ignore);
  for (let i = 0; i < inputs.length; i++) inputs[i] = rng.int(vocab);
  for (let t = delay; t < steps; t++) {
    for (let b = 0; b < batch; b++) targets[t * batch + b] = inputs[(t - delay) * batch + b]!;
  }
  return { inputs, targets, steps, batch };
}

export interface RegressionSequences {
  /** [T, B, features], time-major */
  inputs: Float32Array;
  /** [B] one target per sequence, read at the last step */
  targets: Float32Array;
  steps: number;
  batch: number;
  features: number;
}

/**
 * The adding problem (Hochreiter & Schmidhuber 1997): each step carries a value
 * from U(0, 1) and a marker; exactly two steps are marked, one in each half, and
 * the target is the sum of their values. Predicting the constant 1 gives MSE 1/6.
 */
export function addingBatch(rng: Rng, steps: number, batch: number): RegressionSequences {
  if (!(Number.isInteger(steps) && steps >= 2)) {
    throw new ConfigError(expected('addingBatch', 'steps an integer >= 2', show(steps)));
  }
  const inputs = new Float32Array(steps * batch * 2);
  const targets = new Float32Array(batch);
  const half = Math.floor(steps / 2);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) inputs[(t * batch + b) * 2] = rng.uniform();
    const first = rng.int(half), second = half + rng.int(steps - half);
    for (const t of [first, second]) {
      inputs[(t * batch + b) * 2 + 1] = 1;
      targets[b]! += inputs[(t * batch + b) * 2]!;
    }
  }
  return { inputs, targets, steps, batch, features: 2 };
}

/**
 * The copy-memory task (Arjovsky et al. 2016): ten symbols from 1..8, then
 * `delay` blanks (0) with a delimiter (9) at the last of them, then ten blanks
 * during which the ten symbols must be output. Every step has a target (blank
 * until the recall). A memoryless model is stuck at 10·ln 8 / (delay + 20) nats.
 */
export function copyMemoryBatch(rng: Rng, delay: number, batch: number): TokenBatch {
  if (!(Number.isInteger(delay) && delay >= 1)) {
    throw new ConfigError(expected('copyMemoryBatch', 'delay an integer >= 1', show(delay)));
  }
  const steps = delay + 20;
  const inputs = new Int32Array(steps * batch);
  const targets = new Int32Array(steps * batch);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < 10; i++) {
      const symbol = 1 + rng.int(8);
      inputs[i * batch + b] = symbol;
      targets[(delay + 10 + i) * batch + b] = symbol;
    }
    inputs[(delay + 9) * batch + b] = 9;
  }
  return { inputs, targets, steps, batch };
}

/** The memoryless baseline of the copy-memory task, in nats per step. */
export function copyMemoryBaseline(delay: number): number {
  return (10 * Math.log(8)) / (delay + 20);
}
