/**
 * Where a runner's training batches come from. A task's sampler implements
 * `Batches` (its position is part of a checkpoint, so a resumed run draws the
 * same batches); a plain array of batches is shuffled each epoch by a seeded
 * generator (`ShuffledBatches`).
 */
import { ConfigError, DataError, Rng, expected, show } from '../tensor/index.js';

/** One training batch and how the engine takes it. */
export interface Drawn<B> {
  batch: B;
  /** what the batch counts for the rate: tokens, windows, utterances (default 1) */
  items?: number;
  /** stateful training: rows whose carried state starts from zero */
  reset?: ArrayLike<number | boolean>;
  /** stateful training: every row starts from zero (a new pass over the streams) */
  restart?: boolean;
}

export interface Batches<B> {
  /** The next batch; `progress` is the share of the budget spent (e.g. for scheduled sampling). */
  next(progress: number): Drawn<B>;
  /** completed epochs plus the share of the current one handed out */
  readonly epoch: number;
  /** batches in an epoch (for validation cadences given in epochs) */
  readonly batchesPerEpoch: number;
  /** a JSON-able position, so a resumed run draws the same batches */
  getState(): unknown;
  setState(state: unknown): void;
}

/** An array of batches, shuffled anew each epoch. */
export class ShuffledBatches<B> implements Batches<B> {
  private order: number[] = [];
  private at = 0;
  private epochs = 0;
  private readonly rng: Rng;

  constructor(private readonly all: readonly B[], seed: number, private readonly items: (b: B) => number = () => 1) {
    if (!Array.isArray(all) || all.length === 0) {
      throw new ConfigError(expected('ShuffledBatches', 'a non-empty array of batches', show(all)));
    }
    this.rng = new Rng(seed);
  }

  get batchesPerEpoch(): number {
    return this.all.length;
  }

  get epoch(): number {
    return this.epochs + this.at / this.all.length;
  }

  next(): Drawn<B> {
    if (this.at >= this.order.length) {
      if (this.order.length) this.epochs++;
      this.order = this.rng.shuffle(this.all.map((_, i) => i));
      this.at = 0;
    }
    const batch = this.all[this.order[this.at++]!]!;
    return { batch, items: this.items(batch) };
  }

  getState(): unknown {
    return { rng: this.rng.getState(), order: this.order, at: this.at, epochs: this.epochs };
  }

  setState(s: unknown): void {
    const x = s as { rng: number[]; order: number[]; at: number; epochs: number };
    const n = this.all.length;
    const fits = x && Array.isArray(x.order) && (x.order.length === 0 || x.order.length === n)
      && x.order.every((i) => Number.isInteger(i) && i >= 0 && i < n) && Number.isInteger(x.at)
      && x.at >= 0 && x.at <= x.order.length && Number.isInteger(x.epochs) && x.epochs >= 0;
    if (!fits) throw new DataError(expected('ShuffledBatches.setState', `a position among ${n} batches`, show(s)));
    this.rng.setState(x.rng);
    this.order = [...x.order];
    this.at = x.at;
    this.epochs = x.epochs;
  }
}
