/**
 * Training an encoder–decoder: length-bucketed shuffled batches, one full
 * BPTT update per batch through the engine (the error of every output step
 * goes back through the decoder, the attention and every encoder step), Adam
 * with warm-up and cosine decay over the budget, clipping, scheduled sampling
 * ramped up linearly over the budget, and the best validated weights kept.
 */
import type { FlowRecorder } from '../../bptt/index.js';
import { DataParallel } from '../../bptt/node/parallel.js';
import { Adam, type OptimizerStateDict } from '../../optim/index.js';
import { Budgeted, type UpdateStats } from '../budget.js';
import { ConfigError, Rng, expected, show, type Tensor } from '../../tensor/index.js';
import { learningRate, validateSchedule, type Schedule } from '../../optim/index.js';
import { PairSampler, type PairCorpus, type PairSamplerState } from './data.js';
import type { PairBatch, Seq2Seq } from './model.js';
import { unrollable } from './replica.js';

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
  /** worker threads besides the main one, each training its share of every batch's rows (0: the main thread alone) */
  workers: number;
}

const REPLICA = new URL('./replica.js', import.meta.url);

/** `loss`: mean cross-entropy per target token (nats). */
export interface Seq2SeqStep extends UpdateStats {
  /** target tokens trained on so far */
  tokens: number;
}

/** Everything `step()` depends on besides the weights: what a checkpoint keeps so that --resume continues exactly. */
export interface Seq2SeqTrainerState {
  updates: number;
  tokens: number;
  elapsedMs: number;
  sampler: PairSamplerState;
  noise: number[];
  optimizer: OptimizerStateDict;
  /** the best validation so far (its weights are in the best checkpoint) */
  best: { score: number; updates: number } | null;
}

export class Seq2SeqTrainer extends Budgeted {
  private readonly sampler: PairSampler;
  private readonly noise: Rng;
  tokens = 0;
  best: { score: number; updates: number; weights: Map<string, Tensor> } | null = null;

  private constructor(readonly model: Seq2Seq, train: PairCorpus, readonly options: Seq2SeqTrainingOptions, private readonly dp: DataParallel<PairBatch, null>, private readonly optimizer: Adam) {
    super(options);
    const rng = new Rng(options.seed);
    this.sampler = new PairSampler(train, options.batch, rng.split());
    this.noise = rng.split();
  }

  /** Starts the worker threads (if any); `close()` them at the end. */
  /** `recorder`: gradient-flow diagnostics (e.g. a report's FlowSampler) of the main thread's rows, attached to the encoder and decoder. */
  static async start(model: Seq2Seq, train: PairCorpus, options: Seq2SeqTrainingOptions, recorder: FlowRecorder | null = null): Promise<Seq2SeqTrainer> {
    validateOptions(options);
    model.train();
    recorder?.attach([model.encoder, model.decoder]);
    const dp = await DataParallel.start<PairBatch, null>({
      model: unrollable(model), parameters: model.parameters(), optimizer: { step: () => optimizer.step() }, strategy: { kind: 'full' }, clipNorm: options.clip, recorder,
      module: REPLICA, config: model.config, workers: Math.min(options.workers, options.batch - 1),
    });
    const optimizer = new Adam(model.parameters(), { lr: options.schedule.lr }); // after start: the parameters now live in shared memory
    return new Seq2SeqTrainer(model, train, options, dp, optimizer);
  }

  /** Completed epochs plus the fraction of the current one handed out. */
  get epoch(): number {
    return this.sampler.epoch;
  }

  get workers(): number {
    return this.dp.workers;
  }

  async close(): Promise<void> {
    await this.dp.close();
  }

  step(): Seq2SeqStep {
    const lr = learningRate(this.options.schedule, this.updates + 1, this.done);
    this.optimizer.lr = lr;
    this.model.train();
    const batch: PairBatch = { ...this.sampler.next(), noiseSeed: this.noise.nextU32(), samplingP: this.options.scheduledSampling * Math.min(1, this.done) };
    const [r] = this.dp.trainBatch(batch);
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

  get state(): Seq2SeqTrainerState {
    return {
      updates: this.updates, tokens: this.tokens, elapsedMs: this.elapsedMs, sampler: this.sampler.getState(), noise: this.noise.getState(),
      optimizer: this.optimizer.stateDict(), best: this.best && { score: this.best.score, updates: this.best.updates },
    };
  }

  /** Continues a saved run: `bestWeights` are the weights of `s.best` (null when there is none). */
  restore(s: Seq2SeqTrainerState, bestWeights: Map<string, Tensor> | null): void {
    this.optimizer.loadStateDict(s.optimizer);
    this.sampler.setState(s.sampler);
    this.noise.setState(s.noise);
    this.continueFrom(s.updates, s.elapsedMs);
    this.dp.continueFrom(s.updates); // numbers the NaN guard's messages as in an uninterrupted run
    this.tokens = s.tokens;
    if (!s.best !== !bestWeights) throw new ConfigError(expected('Seq2SeqTrainer.restore', 'the best weights exactly when there is a best validation', s.best ? 'none' : 'weights'));
    this.best = s.best && { ...s.best, weights: bestWeights! };
  }
}

function validateOptions(o: Seq2SeqTrainingOptions): void {
  const where = 'Seq2SeqTrainer';
  const posInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  if (!posInt(o.batch)) throw new ConfigError(expected(where, 'batch a positive integer', show(o.batch)));
  if (!(Number.isInteger(o.workers) && o.workers >= 0)) {
    throw new ConfigError(expected(where, 'workers an integer >= 0', show(o.workers)));
  }
  if (o.maxUpdates === null && o.maxSeconds === null) throw new ConfigError(expected(where, 'a budget (maxUpdates or maxSeconds)', 'neither'));
  if (o.maxUpdates !== null && !posInt(o.maxUpdates)) {
    throw new ConfigError(expected(where, 'maxUpdates a positive integer', show(o.maxUpdates)));
  }
  if (o.maxSeconds !== null && !(o.maxSeconds > 0)) {
    throw new ConfigError(expected(where, 'maxSeconds > 0', show(o.maxSeconds)));
  }
  if (o.clip !== null && !(o.clip > 0)) throw new ConfigError(expected(where, 'clip > 0 or null', show(o.clip)));
  if (!(o.scheduledSampling >= 0 && o.scheduledSampling <= 1)) {
    throw new ConfigError(expected(where, 'scheduledSampling in [0, 1]', show(o.scheduledSampling)));
  }
  validateSchedule(o.schedule, `${where}: schedule`);
}
