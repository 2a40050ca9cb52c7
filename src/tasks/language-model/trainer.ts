/**
 * Training a language model on a token stream, Node only (it trains over
 * worker threads with DataParallel): stateful streams, the BPTT strategy of
 * the engine, Adam with warm-up and cosine decay over the budget, clipping,
 * periodic validation. Everything that decides the next update lives in
 * `TrainerState`, so a run resumed from it continues exactly.
 */
import { DataParallel } from '../../bptt/node/parallel.js';
import type { FlowRecorder, Strategy, UpdateReport } from '../../bptt/index.js';
import { TokenStreams } from '../../data/index.js';
import type { HiddenState } from '../../nn/index.js';
import { Adam, AdamW, type OptimizerStateDict } from '../../optim/index.js';
import { ConfigError, Rng, expected, show } from '../../tensor/index.js';
import { scoreTokens, type LmScore } from './evaluate.js';
import type { LanguageModel, LmBatch } from './model.js';
import { learningRate, validateSchedule, type Schedule } from '../../optim/index.js';

export interface LmTrainingOptions {
  batch: number;
  /** steps per batch: the stretch the error goes back through */
  seqLen: number;
  strategy: Strategy;
  /** carry each stream's state across batches (truncated BPTT over the whole text) */
  stateful: boolean;
  /**
   * Stateful only: the chance that a stream starts a window from a zero state.
   * Without such restarts a stream runs from a zero state once per epoch, and
   * the model may learn latching cells that depend on how its stream began:
   * started anywhere else (sampling, another text) it can derail for thousands
   * of steps. 0 keeps the state through the epoch.
   */
  resetProbability: number;
  schedule: Schedule;
  clip: number | null;
  /** decoupled weight decay (AdamW) when > 0 */
  weightDecay: number;
  /**
   * Adam's (β1, β2); default (0.9, 0.99). The shorter second-moment memory than
   * PyTorch's 0.999 measured better on short character-level runs (README).
   */
  betas?: readonly [number, number];
  /** the budget: whichever of these is reached first (at least one is set) */
  maxUpdates: number | null;
  maxSeconds: number | null;
  /** validate every this many updates (and at the end) */
  evalEvery: number;
  /** worker threads besides the main one */
  workers: number;
  seed: number;
}

/** Where training stands: saved in every checkpoint. */
export interface TrainerProgress {
  updates: number;
  /** batches trained since the start (epoch = ⌊batches / batchesPerEpoch⌋) */
  batches: number;
  tokens: number;
  /** training time so far, over all sessions */
  elapsedMs: number;
  bestValLoss: number | null;
  lastValLoss: number | null;
}

export interface TrainerState {
  progress: TrainerProgress;
  /** draws each batch's dropout seed */
  rng: number[];
  optimizer: OptimizerStateDict;
  /** each shard's carried state, main thread first */
  carried: Array<HiddenState | null>;
}

export interface StepReport extends TrainerProgress {
  epoch: number;
  lr: number;
  loss: number;
  gradNorm: number;
  clipped: boolean;
  skipped: string | null;
}

const REPLICA = new URL('./replica.js', import.meta.url);
export const DEFAULT_BETAS: readonly [number, number] = [0.9, 0.99];

export class LmTrainer {
  readonly streams: TokenStreams;
  private readonly rng: Rng;
  private sessionStart = performance.now();
  private progress: TrainerProgress = { updates: 0, batches: 0, tokens: 0, elapsedMs: 0, bestValLoss: null, lastValLoss: null };

  private constructor(
    readonly model: LanguageModel,
    readonly options: LmTrainingOptions,
    private readonly valIds: Int32Array,
    private readonly dp: DataParallel<LmBatch, HiddenState>,
    private readonly optimizer: Adam | AdamW,
    trainIds: Int32Array,
  ) {
    this.streams = new TokenStreams(trainIds, options.batch, options.seqLen, 'training text');
    this.rng = new Rng(options.seed).split();
  }

  /** `recorder`: gradient-flow diagnostics of the main thread's shard (e.g. a report's FlowSampler), attached to the model's recurrent layers. */
  static async start(model: LanguageModel, trainIds: Int32Array, valIds: Int32Array, options: LmTrainingOptions, resume: TrainerState | null = null, recorder: FlowRecorder | null = null): Promise<LmTrainer> {
    validateOptions(options);
    const workers = Math.min(options.workers, options.batch - 1);
    model.train();
    recorder?.attach([model.rnn]);
    const dp = await DataParallel.start<LmBatch, HiddenState>({
      model, parameters: model.parameters(), optimizer: { step: () => optimizer.step() },
      strategy: options.strategy, stateful: options.stateful, clipNorm: options.clip, recorder,
      module: REPLICA, config: model.config, workers,
    });
    // Created after start: the parameters now live in shared memory.
    const adam = { lr: options.schedule.lr, weightDecay: options.weightDecay, betas: options.betas ?? DEFAULT_BETAS };
    const optimizer = options.weightDecay > 0 ? new AdamW(model.parameters(), adam) : new Adam(model.parameters(), adam);
    try {
      const trainer = new LmTrainer(model, options, valIds, dp, optimizer, trainIds);
      if (resume) trainer.restore(resume);
      return trainer;
    } catch (e) {
      await dp.close(); // no worker threads left behind
      throw e;
    }
  }

  get workers(): number {
    return this.dp.workers;
  }

  get state(): Readonly<TrainerProgress> {
    return { ...this.progress, elapsedMs: this.elapsed() };
  }

  /** The fraction of the budget spent. */
  get done(): number {
    const { maxUpdates, maxSeconds } = this.options;
    return Math.max(maxUpdates ? this.progress.updates / maxUpdates : 0, maxSeconds ? this.elapsed() / 1000 / maxSeconds : 0);
  }

  get finished(): boolean {
    return this.done >= 1;
  }

  get epoch(): number {
    return this.progress.batches / this.streams.batchesPerEpoch;
  }

  /** Trains on the next batch of the streams: one update per window of the strategy. */
  step(): StepReport {
    const perEpoch = this.streams.batchesPerEpoch;
    const k = this.progress.batches % perEpoch;
    if (k === 0) this.dp.resetState(); // the streams start again at the top of the text
    const lr = learningRate(this.options.schedule, this.progress.updates + 1, this.done);
    this.optimizer.lr = lr;
    const batch: LmBatch = { ...this.streams.get(k), noiseSeed: this.rng.nextU32() };
    const reports: UpdateReport[] = this.dp.trainBatch(batch, k > 0 ? this.restarts() : {});
    this.progress.updates += reports.length;
    this.progress.batches++;
    this.progress.tokens += batch.steps * batch.batch;
    const last = reports[reports.length - 1]!;
    const counted = reports.filter((r) => r.terms > 0 && !r.skipped);
    const loss = counted.reduce((a, r) => a + r.loss * r.terms, 0) / Math.max(1, counted.reduce((a, r) => a + r.terms, 0));
    return {
      ...this.state, epoch: this.epoch, lr, loss: counted.length ? loss : NaN,
      gradNorm: last.gradNorm, clipped: reports.some((r) => r.clipped), skipped: reports.find((r) => r.skipped)?.skipped ?? null,
    };
  }

  /** Which streams start this window from a zero state (drawn even when none does, so the draws stay in step). */
  private restarts(): { reset?: number[] } {
    const q = this.options.resetProbability;
    if (!this.options.stateful || q === 0) return {};
    const reset = Array.from({ length: this.options.batch }, () => (this.rng.uniform() < q ? 1 : 0));
    return reset.includes(1) ? { reset } : {};
  }

  /** Scores the validation text and remembers the best loss. */
  validate(): LmScore & { best: boolean } {
    const score = scoreTokens(this.model, this.valIds, { batch: 32, steps: this.options.seqLen });
    const best = this.progress.bestValLoss === null || score.loss < this.progress.bestValLoss;
    if (best) this.progress.bestValLoss = score.loss;
    this.progress.lastValLoss = score.loss;
    return { ...score, best };
  }

  /** Everything a checkpoint needs to continue exactly from here. */
  async snapshot(): Promise<TrainerState> {
    return {
      progress: this.state,
      rng: this.rng.getState(),
      optimizer: this.optimizer.stateDict(),
      carried: await this.dp.carriedStates(),
    };
  }

  async close(): Promise<void> {
    await this.dp.close();
  }

  private restore(s: TrainerState): void {
    this.optimizer.loadStateDict(s.optimizer);
    this.rng.setState(s.rng);
    this.progress = { ...s.progress };
    this.dp.continueFrom(s.progress.updates); // an engine update per update counted here: numbered alike
    this.sessionStart = performance.now();
    if (s.carried.length !== this.dp.workers + 1) {
      throw new ConfigError(expected('resume', `a checkpoint trained on ${this.dp.workers + 1} threads (one carried state per thread)`, `${s.carried.length}`, 'resume with the same --workers'));
    }
    this.dp.setCarriedStates(s.carried);
  }

  private elapsed(): number {
    return this.progress.elapsedMs + (performance.now() - this.sessionStart);
  }
}

function validateOptions(o: LmTrainingOptions): void {
  const where = 'LmTrainer';
  const posInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  for (const k of ['batch', 'seqLen', 'evalEvery'] as const) {
    if (!posInt(o[k])) throw new ConfigError(expected(where, `${k} a positive integer`, show(o[k])));
  }
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
  if (!(o.resetProbability >= 0 && o.resetProbability <= 1)) {
    throw new ConfigError(expected(where, 'resetProbability in [0, 1]', show(o.resetProbability)));
  }
  if (!(o.weightDecay >= 0)) throw new ConfigError(expected(where, 'weightDecay >= 0', show(o.weightDecay)));
  if (o.betas !== undefined && !(Array.isArray(o.betas) && o.betas.length === 2 && o.betas.every((b) => b >= 0 && b < 1))) {
    throw new ConfigError(expected(where, 'betas two numbers in [0, 1)', show(o.betas)));
  }
  validateSchedule(o.schedule, `${where}: schedule`);
}
