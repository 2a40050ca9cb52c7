/**
 * Training the recogniser: batches of similar length, one full-BPTT update
 * per batch through the engine (CTC loss per target digit, NaN guard,
 * gradient-norm clipping), Adam with warm-up and cosine decay over the
 * budget, and validation by digit error rate that keeps the best weights.
 * Everything that decides the next update is in `SpeechTrainerState`, so a
 * run restored from it continues exactly. Browser-safe.
 */
import { Bptt, type FlowRecorder } from '../../bptt/index.js';
import { Adam, type OptimizerStateDict } from '../../optim/index.js';
import { Budgeted, type UpdateStats } from '../budget.js';
import { ConfigError, Rng, expected, show, type Tensor } from '../../tensor/index.js';
import { learningRate, validateSchedule, type Schedule } from '../../optim/index.js';
import { Batches, type BatchesState, type Example } from './batches.js';
import { digitErrors, transcribe, type DigitErrors } from './decode.js';
import type { SpeechBatch, SpeechModel } from './model.js';

export interface SpeechTrainingOptions {
  batch: number;
  schedule: Schedule;
  clip: number | null;
  /** the budget: whichever is reached first (at least one is set) */
  maxUpdates: number | null;
  maxSeconds: number | null;
  /** validate every this many updates (and at the end) */
  evalEvery: number;
  seed: number;
}

/** `loss`: the batch's CTC loss per target digit, in nats. */
export interface SpeechStep extends UpdateStats {
  /** utterances and input steps trained on so far */
  utterances: number;
  steps: number;
}

/** Where training stands: saved in every checkpoint. */
export interface SpeechProgress {
  updates: number;
  utterances: number;
  /** input steps trained on */
  steps: number;
  /** training time so far, over all sessions */
  elapsedMs: number;
  /** the update of the best validation so far, and its errors (null before any) */
  bestUpdate: number | null;
  validation: DigitErrors | null;
}

/** Everything that decides the next update, and the best weights so far. */
export interface SpeechTrainerState {
  progress: SpeechProgress;
  batches: BatchesState;
  /** the dropout masks' generator */
  dropoutRng: number[];
  optimizer: OptimizerStateDict;
  /** the best validated weights (null before any validation) */
  bestWeights: Map<string, Tensor> | null;
}

export class SpeechTrainer extends Budgeted {
  private readonly engine: Bptt<SpeechBatch, null>;
  private readonly optimizer: Adam;
  private readonly batches: Batches;
  utterances = 0;
  steps = 0;
  best: { errors: DigitErrors; updates: number; weights: Map<string, Tensor> } | null = null;
  last: DigitErrors | null = null;

  /** `recorder`: gradient-flow diagnostics (e.g. a report's FlowSampler), attached to the recurrent layers. */
  constructor(readonly model: SpeechModel, train: readonly Example[], private readonly dev: readonly Example[], readonly options: SpeechTrainingOptions, recorder: FlowRecorder | null = null) {
    super(options);
    validateSpeechTraining(options);
    this.optimizer = new Adam(model.parameters(), { lr: options.schedule.lr });
    recorder?.attach([model.rnn]);
    this.engine = new Bptt({ model, parameters: model.parameters(), optimizer: this.optimizer, strategy: { kind: 'full' }, clipNorm: options.clip, recorder });
    const rng = new Rng(options.seed);
    this.batches = new Batches(train, options.batch, rng.split());
    model.rnn.dropoutRng.setState(rng.split().getState());
    model.train();
  }

  get epoch(): number {
    return this.batches.epoch;
  }

  /** One update on the next batch. */
  step(): SpeechStep {
    const b = this.batches.next();
    const lr = learningRate(this.options.schedule, this.updates + 1, this.done);
    this.optimizer.lr = lr;
    const [r] = this.engine.trainBatch(b);
    this.updates++;
    this.utterances += b.batch;
    this.steps += b.lengths.reduce((s, n) => s + n, 0);
    return {
      updates: this.updates, epoch: this.batches.epoch, loss: r!.loss, gradNorm: r!.gradNorm, clipped: r!.clipped, skipped: r!.skipped,
      lr, utterances: this.utterances, steps: this.steps, elapsedMs: this.elapsedMs,
    };
  }

  /** Greedy digit error rate on the validation utterances; remembers the weights when they are the best so far. */
  validate(): DigitErrors & { best: boolean } {
    const hyps = transcribe(this.model, this.dev.map((e) => e.input), { beam: 1 });
    const errors = digitErrors(hyps, this.dev.map((e) => e.digits));
    const best = !this.best || errors.der < this.best.errors.der;
    if (best) this.best = { errors, updates: this.updates, weights: new Map([...this.model.stateDict()].map(([k, t]) => [k, t.clone()])) };
    this.last = errors;
    return { ...errors, best };
  }

  get progress(): SpeechProgress {
    return {
      updates: this.updates, utterances: this.utterances, steps: this.steps, elapsedMs: this.elapsedMs,
      bestUpdate: this.best?.updates ?? null, validation: this.best?.errors ?? null,
    };
  }

  /** Everything a checkpoint needs to continue exactly from here. */
  snapshot(): SpeechTrainerState {
    return {
      progress: this.progress,
      batches: this.batches.state(),
      dropoutRng: this.model.rnn.dropoutRng.getState(),
      optimizer: this.optimizer.stateDict(),
      bestWeights: this.best?.weights ?? null,
    };
  }

  /** Continues from a `snapshot()` of a run with the same model, data and options (before the first step). The model's weights are the caller's to load. */
  restore(s: SpeechTrainerState): void {
    const { progress: p } = s;
    if ((p.bestUpdate === null) !== (s.bestWeights === null) || (p.bestUpdate === null) !== (p.validation === null)) {
      throw new ConfigError(expected('SpeechTrainer.restore', 'the best update, its errors and weights all given or all null', `${p.bestUpdate}, ${p.validation && 'errors'}, ${s.bestWeights && 'weights'}`));
    }
    this.optimizer.loadStateDict(s.optimizer);
    this.batches.restore(s.batches);
    this.model.rnn.dropoutRng.setState(s.dropoutRng);
    this.continueFrom(p.updates, p.elapsedMs);
    this.engine.continueFrom(p.updates); // numbers the NaN guard's messages as in an uninterrupted run
    this.utterances = p.utterances;
    this.steps = p.steps;
    this.best = p.bestUpdate === null ? null : { errors: p.validation!, updates: p.bestUpdate, weights: s.bestWeights! };
  }

  /** Puts the best validated weights back into the model. */
  restoreBest(): void {
    if (this.best) this.model.loadStateDict(this.best.weights);
  }
}

export function validateSpeechTraining(o: SpeechTrainingOptions, where = 'SpeechTrainer'): void {
  if (o === null || typeof o !== 'object') throw new ConfigError(expected(where, 'training options', show(o)));
  const posInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 1;
  for (const k of ['batch', 'evalEvery'] as const) {
    if (!posInt(o[k])) throw new ConfigError(expected(where, `${k} a positive integer`, show(o[k])));
  }
  if (o.maxUpdates === null && o.maxSeconds === null) throw new ConfigError(expected(where, 'a budget (maxUpdates or maxSeconds)', 'neither'));
  if (o.maxUpdates !== null && !posInt(o.maxUpdates)) {
    throw new ConfigError(expected(where, 'maxUpdates a positive integer', show(o.maxUpdates)));
  }
  if (o.maxSeconds !== null && !(o.maxSeconds > 0)) {
    throw new ConfigError(expected(where, 'maxSeconds > 0', show(o.maxSeconds)));
  }
  if (o.clip !== null && !(o.clip > 0)) throw new ConfigError(expected(where, 'clip > 0 or null', show(o.clip)));
  if (!(Number.isSafeInteger(o.seed) && o.seed >= 0)) {
    throw new ConfigError(expected(where, 'seed an integer >= 0', show(o.seed)));
  }
  if (o.schedule === null || typeof o.schedule !== 'object') throw new ConfigError(expected(where, 'a schedule { kind, lr, warmup, floor }', show(o.schedule)));
  validateSchedule(o.schedule, `${where}: schedule`);
}
