import { DataError, expected, show } from '../tensor/index.js';
import type { TokenBatch } from './synthetic.js';

/**
 * A token sequence cut into `batch` contiguous streams, one per batch row,
 * read `steps` tokens at a time: batch k holds tokens [k·steps, (k+1)·steps)
 * of every stream (the last batch may be shorter), targets one token ahead.
 * A model that carries its state from batch k to k+1 sees each stream as one
 * unbroken text (stateful truncated BPTT). The last (N − 1) mod batch tokens
 * are not read.
 */
export class TokenStreams {
  /** tokens each stream feeds as inputs */
  readonly length: number;

  constructor(private readonly ids: Int32Array, readonly batch: number, readonly steps: number, where = 'TokenStreams') {
    this.length = Math.floor((ids.length - 1) / batch);
    if (this.length < 1) {
      throw new DataError(expected(where, `at least ${batch + 1} tokens for ${batch} streams`, `${ids.length} tokens`, 'use a longer text or a smaller batch'));
    }
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.length / this.steps);
  }

  /** how many inputs the epoch's batches hold in all */
  get tokensPerEpoch(): number {
    return this.length * this.batch;
  }

  get(k: number): TokenBatch {
    const from = k * this.steps;
    const steps = Math.min(this.steps, this.length - from);
    if (!(Number.isInteger(k) && k >= 0 && steps > 0)) {
      throw new DataError(expected('TokenStreams.get', `a batch index in [0, ${this.batchesPerEpoch})`, show(k)));
    }
    const B = this.batch;
    const inputs = new Int32Array(steps * B);
    const targets = new Int32Array(steps * B);
    for (let b = 0; b < B; b++) {
      const start = b * this.length + from;
      for (let t = 0; t < steps; t++) {
        inputs[t * B + b] = this.ids[start + t]!;
        targets[t * B + b] = this.ids[start + t + 1]!;
      }
    }
    return { inputs, targets, steps, batch: B };
  }
}
