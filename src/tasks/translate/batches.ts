/**
 * The encoder–decoder's training batches for the runner: length-bucketed
 * shuffled pairs (`PairSampler`), each batch with its own noise seed (dropout
 * masks, sampling draws) and its scheduled-sampling probability, ramped up
 * linearly over the budget. One batch is one update; it counts its target tokens.
 */
import { checkRngState, isCount, isObject } from '../../io/trainer-state.js';
import { ConfigError, DataError, Rng, expected, show } from '../../tensor/index.js';
import type { Batches, Drawn } from '../../training/index.js';
import { PairSampler, type PairCorpus, type PairSamplerState } from './data.js';
import type { PairBatch } from './model.js';

export class PairBatches implements Batches<PairBatch> {
  private readonly sampler: PairSampler;
  private readonly noise: Rng;

  /** `scheduledSampling`: the probability of feeding the model's own prediction reached at the end of the budget. */
  constructor(corpus: PairCorpus, batch: number, seed: number, private readonly scheduledSampling = 0) {
    if (!(scheduledSampling >= 0 && scheduledSampling <= 1)) {
      throw new ConfigError(expected('PairBatches', 'scheduledSampling in [0, 1]', show(scheduledSampling)));
    }
    const rng = new Rng(seed);
    this.sampler = new PairSampler(corpus, batch, rng.split());
    this.noise = rng.split();
    this.batchesPerEpoch = Math.ceil(corpus.size / batch);
  }

  readonly batchesPerEpoch: number;

  get epoch(): number {
    return this.sampler.epoch;
  }

  next(progress: number): Drawn<PairBatch> {
    const samplingP = this.scheduledSampling * Math.min(1, progress);
    const batch: PairBatch = { ...this.sampler.next(), noiseSeed: this.noise.nextU32(), samplingP };
    return { batch, items: batch.terms };
  }

  getState(): { sampler: PairSamplerState; noise: number[] } {
    return { sampler: this.sampler.getState(), noise: this.noise.getState() };
  }

  setState(state: unknown): void {
    const where = 'PairBatches.setState';
    const s = isObject(state) ? state.sampler : undefined;
    const fits = isObject(s) && isCount(s.epochs) && isCount(s.taken)
      && (s.drawnFrom === null || checkRngState(where, 'sampler.drawnFrom', s.drawnFrom));
    if (!fits) throw new DataError(expected(where, '{ sampler: { drawnFrom, epochs, taken }, noise }', show(state)));
    this.noise.setState(checkRngState(where, 'noise', (state as { noise: unknown }).noise));
    this.sampler.setState(s as unknown as PairSamplerState, where);
  }
}
