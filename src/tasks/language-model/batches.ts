/**
 * A language model's training batches: the text cut into `batch` streams read
 * side by side, `seqLen` tokens a batch; stateful runs carry each stream's state
 * from batch to batch (truncated BPTT over the whole text), starting every
 * stream afresh at the top of the text and, with probability `resetProbability`,
 * anywhere else, so the model learns to start anywhere. Each batch draws the
 * seed of its dropout masks.
 */
import { TokenStreams } from '../../data/index.js';
import { ConfigError, DataError, Rng, expected, show } from '../../tensor/index.js';
import type { Batches, Drawn } from '../../training/index.js';
import type { LmBatch } from './model.js';

export interface LmBatchOptions {
  batch: number;
  seqLen: number;
  /** carry each stream's state across batches */
  stateful: boolean;
  /**
   * Stateful only: the chance that a stream starts a window from a zero state.
   * Without such restarts a stream runs from a zero state once per epoch, and
   * the model may learn latching cells that depend on how its stream began:
   * started anywhere else (sampling, another text) it can derail for thousands
   * of steps. 0 keeps the state through the epoch.
   */
  resetProbability: number;
  seed: number;
}

export class LmBatches implements Batches<LmBatch> {
  readonly streams: TokenStreams;
  private readonly rng: Rng;
  private batches = 0;

  constructor(ids: Int32Array, private readonly o: LmBatchOptions) {
    checkOptions(o);
    this.streams = new TokenStreams(ids, o.batch, o.seqLen, 'training text');
    this.rng = new Rng(o.seed).split();
  }

  get batchesPerEpoch(): number {
    return this.streams.batchesPerEpoch;
  }

  get epoch(): number {
    return this.batches / this.batchesPerEpoch;
  }

  next(): Drawn<LmBatch> {
    const k = this.batches % this.batchesPerEpoch;
    const batch: LmBatch = { ...this.streams.get(k), noiseSeed: this.rng.nextU32() };
    const reset = k > 0 ? this.restarts() : undefined;
    this.batches++;
    return { batch, items: batch.steps * batch.batch, restart: k === 0, ...(reset && { reset }) };
  }

  getState(): unknown {
    return { batches: this.batches, rng: this.rng.getState() };
  }

  setState(s: unknown): void {
    const x = s as { batches: number; rng: number[] };
    const u32 = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0 && (v as number) < 2 ** 32;
    if (!(x && Number.isSafeInteger(x.batches) && x.batches >= 0 && Array.isArray(x.rng) && x.rng.length === 4
      && x.rng.every(u32))) {
      const want = '{ batches: an integer >= 0, rng: 4 unsigned 32-bit integers }';
      throw new DataError(expected('LmBatches.setState', want, show(s)));
    }
    this.rng.setState(x.rng);
    this.batches = x.batches;
  }

  /** Which streams start this window from a zero state (drawn even when none does, so the draws stay in step). */
  private restarts(): number[] | undefined {
    const q = this.o.resetProbability;
    if (!this.o.stateful || q === 0) return undefined;
    const reset = Array.from({ length: this.o.batch }, () => (this.rng.uniform() < q ? 1 : 0));
    return reset.includes(1) ? reset : undefined;
  }
}

function checkOptions(o: LmBatchOptions): void {
  const bad = (what: string, got: unknown): never => {
    throw new ConfigError(expected('LmBatches', what, show(got)));
  };
  for (const k of ['batch', 'seqLen'] as const) {
    if (!(Number.isSafeInteger(o[k]) && o[k] >= 1)) bad(`${k} an integer >= 1`, o[k]);
  }
  if (typeof o.stateful !== 'boolean') bad('stateful true or false', o.stateful);
  const q = o.resetProbability;
  if (!(q >= 0 && q <= 1)) bad('resetProbability in [0, 1]', q);
}
