/**
 * The forecaster's training batches: the training windows shuffled anew each
 * epoch by a seeded generator and cut into batches (the last one of an epoch
 * may be smaller). Its position is saved with a run, so --resume draws the
 * same windows.
 */
import { checkRngState, isCount } from '../../io/trainer-state.js';
import { DataError, Rng, expected, show } from '../../tensor/index.js';
import type { Batches, Drawn } from '../../training/index.js';
import type { ScaledSeries } from './scaling.js';
import { makeBatch, type ForecastBatch } from './windows.js';

interface Position {
  rng: number[];
  order: number[];
  at: number;
  epochs: number;
}

export class ForecastBatches implements Batches<ForecastBatch> {
  private readonly rng: Rng;
  private order: number[] = [];
  private at = 0;
  private epochs = 0;

  constructor(private readonly series: ScaledSeries, private readonly origins: readonly number[],
    private readonly size: number, private readonly window: { lookback: number; horizon: number }, seed: number) {
    this.rng = new Rng(seed).split();
  }

  get batchesPerEpoch(): number {
    return Math.ceil(this.origins.length / this.size);
  }

  get epoch(): number {
    return this.epochs + (this.order.length ? this.at / this.order.length : 0);
  }

  /** the next windows; `items` counts the values they forecast */
  next(): Drawn<ForecastBatch> {
    if (this.at >= this.order.length) {
      if (this.order.length) this.epochs++;
      this.order = this.rng.shuffle([...this.origins]);
      this.at = 0;
    }
    const part = this.order.slice(this.at, this.at + this.size);
    this.at += part.length;
    const { lookback, horizon } = this.window;
    return { batch: makeBatch(this.series, part, lookback, horizon), items: part.length * horizon };
  }

  getState(): Position {
    return { rng: this.rng.getState(), order: [...this.order], at: this.at, epochs: this.epochs };
  }

  /** a saved position, whose window order must be of this data's training windows */
  setState(s: unknown): void {
    const where = 'ForecastBatches.setState';
    const x = s as Position;
    const sorted = (a: readonly number[]): string => [...a].sort((p, q) => p - q).join();
    const fits = x !== null && typeof x === 'object' && Array.isArray(x.order)
      && (x.order.length === 0 || sorted(x.order) === sorted(this.origins)) && isCount(x.at)
      && x.at <= x.order.length && isCount(x.epochs);
    if (!fits) {
      throw new DataError(expected(where, `a position in an order of this data's ${this.origins.length} training `
        + 'windows', show(s)));
    }
    this.rng.setState(checkRngState(where, 'rng', x.rng));
    this.order = [...x.order];
    this.at = x.at;
    this.epochs = x.epochs;
  }
}
