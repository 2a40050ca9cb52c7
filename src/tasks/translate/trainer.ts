/**
 * Training an encoder–decoder: length-bucketed shuffled batches, one full
 * BPTT update per batch through the engine (the error of every output step
 * goes back through the decoder, the attention and every encoder step), Adam
 * with warm-up and cosine decay over the budget, clipping, scheduled sampling
 * ramped up linearly over the budget, and the best validated weights kept.
 */
import { Bptt, type Unrollable } from '../../bptt/index.js';
import { Adam } from '../../optim/index.js';
import { ConfigError, Rng, expected, type Tensor } from '../../tensor/index.js';
import { learningRate, validateSchedule, type Schedule } from '../language-model/schedule.js';
import { PairSampler, type PairCorpus } from './data.js';
import type { PairBatch, Seq2Seq } from './model.js';

export interface Seq2SeqTrainingOptions {
  batch: number;
  schedule: Schedule;
  clip: number | null;
  /** the probability of feeding the model's own prediction, reached at the end of the budget (0: teacher forcing only) */
  scheduledSampling: number;
  /** the budget: whichever is reached first (at least one is set) */
  maxUpdates: number | null;
  maxSeconds: number | null;
  seed: number;
}

export interface Seq2SeqStep {
  updates: number;
  epoch: number;
  /** mean cross-entropy per target token (nats) */
  loss: number;
  gradNorm: number;
  clipped: boolean;
  skipped: string | null;
  lr: number;
  /** target tokens trained on so far */
  tokens: number;
  elapsedMs: number;
}

export class Seq2SeqTrainer {
  private readonly engine: Bptt<PairBatch, null>;
  private readonly optimizer: Adam;
  private readonly sampler: PairSampler;
  private readonly samplingRng: Rng;
  private readonly started = performance.now();
  updates = 0;
  tokens = 0;
  best: { score: number; updates: number; weights: Map<string, Tensor> } | null = null;

  constructor(readonly model: Seq2Seq, train: PairCorpus, readonly options: Seq2SeqTrainingOptions) {
    validateOptions(options);
    const rng = new Rng(options.seed);
    this.sampler = new PairSampler(train, options.batch, rng.split());
    this.samplingRng = rng.split();
    this.optimizer = new Adam(model.parameters(), { lr: options.schedule.lr });
    const unrollable: Unrollable<PairBatch, null> = {
      steps: () => 1, // the whole pair is one stretch: encoder and decoder are unrolled together
      unroll: (b) => ({ state: null, loss: model.loss(b, this.sampling()), terms: b.terms }),
    };
    this.engine = new Bptt({ model: unrollable, parameters: model.parameters(), optimizer: this.optimizer, strategy: { kind: 'full' }, clipNorm: options.clip });
  }

  get elapsedMs(): number {
    return performance.now() - this.started;
  }

  /** The fraction of the budget spent. */
  get done(): number {
    const { maxUpdates, maxSeconds } = this.options;
    return Math.max(maxUpdates ? this.updates / maxUpdates : 0, maxSeconds ? this.elapsedMs / 1000 / maxSeconds : 0);
  }

  get finished(): boolean {
    return this.done >= 1;
  }

  step(): Seq2SeqStep {
    const lr = learningRate(this.options.schedule, this.updates + 1, this.done);
    this.optimizer.lr = lr;
    this.model.train();
    const batch = this.sampler.next();
    const [r] = this.engine.trainBatch(batch);
    this.updates++;
    this.tokens += batch.terms;
    return {
      updates: this.updates, epoch: this.sampler.epoch, loss: r!.loss, gradNorm: r!.gradNorm, clipped: r!.clipped,
      skipped: r!.skipped, lr, tokens: this.tokens, elapsedMs: this.elapsedMs,
    };
  }

  /** Records a validation score (lower is better); keeps a copy of the weights when it is the best so far. */
  remember(score: number): boolean {
    const better = !this.best || score < this.best.score;
    if (better) this.best = { score, updates: this.updates, weights: new Map([...this.model.stateDict()].map(([k, t]) => [k, t.clone()])) };
    return better;
  }

  restoreBest(): void {
    if (this.best) this.model.loadStateDict(this.best.weights);
  }

  private sampling(): { p: number; rng: Rng } | null {
    const p = this.options.scheduledSampling * Math.min(1, this.done);
    return p > 0 ? { p, rng: this.samplingRng } : null;
  }
}

function validateOptions(o: Seq2SeqTrainingOptions): void {
  const where = 'Seq2SeqTrainer';
  const posInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  if (!posInt(o.batch)) throw new ConfigError(expected(where, 'batch a positive integer', o.batch));
  if (o.maxUpdates === null && o.maxSeconds === null) throw new ConfigError(expected(where, 'a budget (maxUpdates or maxSeconds)', 'neither'));
  if (o.maxUpdates !== null && !posInt(o.maxUpdates)) throw new ConfigError(expected(where, 'maxUpdates a positive integer', o.maxUpdates));
  if (o.maxSeconds !== null && !(o.maxSeconds > 0)) throw new ConfigError(expected(where, 'maxSeconds > 0', o.maxSeconds));
  if (o.clip !== null && !(o.clip > 0)) throw new ConfigError(expected(where, 'clip > 0 or null', o.clip));
  if (!(o.scheduledSampling >= 0 && o.scheduledSampling <= 1)) throw new ConfigError(expected(where, 'scheduledSampling in [0, 1]', o.scheduledSampling));
  validateSchedule(o.schedule, `${where}: schedule`);
}
