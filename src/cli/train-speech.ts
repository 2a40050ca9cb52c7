/** `bptt train speech`: a bidirectional LSTM/GRU + CTC digit recogniser on a directory of WAVs with manifests, scored by digit error rate. */
import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { FlowRecorder } from '../bptt/index.js';
import { ensureWritableDir } from '../io/node/checkpoint-files.js';
import { lockRunFolder, lockRunFolderIfExists } from '../io/node/run-lock.js';
import type { Example } from '../tasks/speech/batches.js';
import { loadSpeechModel, saveSpeechModel, speechTrainerStateOf, type SpeechCheckpoint, type SpeechMeta } from '../tasks/speech/checkpoint.js';
import { checkDataDir, loadExamples, readManifest, type ManifestEntry, type SplitName } from '../tasks/speech/node/corpus.js';
import { digitErrors, transcribe } from '../tasks/speech/decode.js';
import { inputSize, validateFeatureConfig, type SpeechFeatureConfig } from '../tasks/speech/features.js';
import { SpeechModel, validateSpeechConfig, type SpeechModelConfig } from '../tasks/speech/model.js';
import { SpeechTrainer, type SpeechStep, type SpeechTrainerState, type SpeechTrainingOptions } from '../tasks/speech/trainer.js';
import { BpttError, ConfigError, DataError, expected, textOf } from '../tensor/index.js';
import { appendLog, ensureWritableLog } from '../training/node/json-log.js';
import { openReport } from '../report/node/write.js';
import { checkSaved, duration, formatDuration, integer, kebab, real, realOrNone, savedAt } from './options.js';
import { fileNotGiven } from './resume-files.js';
import { Progress, RateMeter, formatCount } from './progress.js';
import { StopSignals } from './stop-signals.js';
import { VERSION } from './version.js';

/**
 * Options a resumed run takes from its checkpoint (giving one anew must repeat
 * the saved value), each where the manifest's metadata records it.
 */
const FIXED = {
  features: 'model.features.kind',
  coeffs: 'model.features.size',
  deltas: 'model.features.deltas',
  stack: 'model.features.stack',
  stride: 'model.features.stride',
  cell: 'model.cell',
  hidden: 'model.hidden',
  layers: 'model.layers',
  dropout: 'model.dropout',
  seed: 'model.seed',
  batch: 'training.batch',
  lr: 'training.schedule.lr',
  schedule: 'training.schedule.kind',
  warmup: 'training.schedule.warmup',
  clip: 'training.clip',
} satisfies Partial<Record<keyof TrainSpeechOptions, string>>;

interface TrainSpeechOptions {
  data?: string;
  features: 'mfcc' | 'logmel';
  coeffs?: number;
  deltas: boolean;
  stack: number;
  stride?: number;
  cell: 'lstm' | 'gru';
  hidden: number;
  layers: number;
  dropout?: number;
  batch: number;
  lr: number;
  schedule: 'cosine' | 'constant';
  warmup: number;
  clip: number | null;
  epochs: number;
  steps?: number;
  time?: number;
  evalEvery?: number;
  beam: number;
  seed: number;
  out: string;
  resume?: string | true;
  log?: string;
  report?: string;
  quiet?: boolean;
}

export function trainSpeechCommand(): Command {
  return new Command('speech')
    .description('train a bidirectional LSTM/GRU with CTC to recognise spoken digit strings (data: tools/make_speech_data.sh); scored by digit error rate on the test split')
    .option('--data <dir>', 'a directory with train.tsv (and optionally dev.tsv, test.tsv): '
      + 'lines path<TAB>digits, paths relative to it (required, also with --resume)')
    .addOption(new Option('--features <kind>', 'MFCC or log-mel features (25 ms frames every 10 ms, normalised per utterance)').choices(['mfcc', 'logmel']).default('mfcc'))
    .option('--coeffs <n>', 'MFCC coefficients or mel bands (default 13 MFCC, 40 mel bands)', integer(1, 128))
    .option('--no-deltas', 'no deltas and delta-deltas')
    .option('--stack <k>', 'frames joined into one input step', integer(1, 16), 3)
    .option('--stride <s>', 'frames between input steps (default: --stack, so each frame is read once and the network runs 1/stack of the frames)', integer(1, 16))
    .addOption(new Option('--cell <cell>', 'recurrent cell').choices(['lstm', 'gru']).default('gru'))
    .option('--hidden <n>', 'hidden units per layer and direction', integer(1, 4096), 128)
    .option('--layers <n>', 'stacked bidirectional layers', integer(1, 16), 2)
    .option('--dropout <p>', 'dropout between stacked layers (default 0.2 with 2 or more layers)', real(0, 0.99))
    .option('--batch <n>', 'utterances per update (of similar length)', integer(1, 100_000), 32)
    .option('--lr <rate>', 'peak learning rate (Adam, after a linear warm-up)', real(0, 10, true), 3e-3)
    .addOption(new Option('--schedule <kind>', 'learning rate after warm-up: cosine decay to 0 over the budget, or constant').choices(['cosine', 'constant']).default('cosine'))
    .option('--warmup <updates>', 'linear learning-rate warm-up', integer(0), 100)
    .option('--clip <norm>', "clip the gradient norm ('none' to turn off)", realOrNone(0), 5)
    .option('--epochs <n>', 'passes over the training utterances', integer(1), 30)
    .option('--steps <n>', 'stop after n updates (instead of --epochs; with both, whichever comes first)', integer(1))
    .option('--time <duration>', 'stop earlier after this much training time, e.g. 90s, 40m', duration)
    .option('--eval-every <updates>', 'validate on dev.tsv (keeping the best weights) and save checkpoints this often (default: once per epoch)', integer(1))
    .option('--beam <n>', 'prefix beam width for the final test score (greedy is scored too)', integer(2, 256), 8)
    .option('--seed <n>', 'seed of the initialisation and the batch order', integer(0, 2 ** 32 - 1), 1)
    .option('--out <dir>', 'checkpoint directory (best.json, last.json and their .safetensors)', 'runs/speech')
    .option('--resume [checkpoint]', 'continue from a checkpoint (default: --out/last.json) '
      + 'with its model, features and settings on --data given again; '
      + 'its best weights are those of best.json beside it')
    .option('--log <file>', 'append one JSON object per update, validation and at the end to this file')
    .option('--report <file>', 'write an HTML report (loss, learning rate, gradient norm and clipping, gradient flow, gate saturation, validation DER) at each validation and at the end')
    .option('-q, --quiet', 'no progress line; only the summary')
    .action((o: TrainSpeechOptions, cmd: Command) => trainSpeech(o, cmd));
}

interface Loaded {
  train: Example[];
  dev: Example[] | null;
  test: Example[] | null;
}

/** The checkpoint a run continues from, and the trainer state it restores. */
interface Resumed {
  ckpt: SpeechCheckpoint;
  state: SpeechTrainerState;
}

async function trainSpeech(o: TrainSpeechOptions, cmd: Command): Promise<void> {
  const given = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli';
  // Inputs first (the checkpoint, every manifest read, every WAV decoded), then the output: bad input leaves no directory or file behind.
  if (o.resume) lockRunFolderIfExists(o.out); // before the checkpoint there is read
  const resumed = o.resume ? resumeFrom(o, cmd, given) : null;
  const { config, training } = resumed ? { config: resumed.ckpt.meta.model, training: { ...resumed.ckpt.meta.training } } : setup(o);
  const dir = o.data;
  if (resumed && dir === undefined) {
    const { data } = resumed.ckpt.meta;
    throw fileNotGiven(`--resume ${resumed.ckpt.path}`, '--data',
      `${data.dir} (manifests' sha256 ${data.sha256!.slice(0, 16)})`);
  }
  if (dir === undefined) throw new ConfigError(expected('bptt train speech', '--data <dir>, or --resume to continue a run', 'neither'));
  checkDataDir(dir);
  const manifests = (['train', 'dev', 'test'] as const).map((s) => readManifest(dir, s, s !== 'train'));
  const sha256 = manifestHash(dir, manifests);
  if (resumed) checkSameData(resumed.ckpt, sha256, o.data);
  const say = (line: string): void => {
    if (!o.quiet) console.log(line);
  };
  const started = performance.now();
  const data = load(manifests, config.features, o.quiet === true);
  if (o.log) ensureWritableLog(o.log);
  const perEpoch = Math.ceil(data.train.length / training.batch);
  Object.assign(training, budgetOf(o, given, perEpoch, resumed ? training : null));
  const report = o.report ? openReport(o.report, `bptt train speech: ${dir}`, { ...config.features, cell: config.cell, hidden: config.hidden, layers: config.layers, dropout: config.dropout, batch: training.batch, lr: training.schedule.lr, clip: training.clip, seed: config.seed, resumed: !!resumed, version: VERSION }) : null;
  report?.recorder.chart('loss', { unit: 'CTC loss per digit' });
  if (report && training.clip) report.recorder.chart('grad-norm', { threshold: { label: `clip ${training.clip}`, y: training.clip } });
  const model = resumed?.ckpt.model ?? new SpeechModel(config);
  const trainer = startTrainer(model, data, training, report?.flow ?? null, resumed);
  ensureWritableDir(o.out);
  lockRunFolder(o.out);
  const c = config;
  const steps = data.train.reduce((s, e) => s + e.input.steps, 0);
  say(`bptt ${VERSION}: digits from '${dir}': ${data.train.length} training, ${data.dev?.length ?? 0} validation, ${data.test?.length ?? 0} test utterances; `
    + `features computed in ${formatDuration((performance.now() - started) / 1000)} (${c.features.kind} ${c.features.size}${c.features.deltas ? ' + deltas' : ''}, stack ${c.features.stack}, stride ${c.features.stride}: `
    + `${inputSize(c.features)} inputs per step, ${(steps / data.train.length).toFixed(0)} steps per utterance on average)`);
  const budget = [training.maxUpdates && `${training.maxUpdates} updates (${formatEpochs(training.maxUpdates / perEpoch)} epochs)`, training.maxSeconds && formatDuration(training.maxSeconds)].filter(Boolean).join(' or ');
  say(`bidirectional ${c.cell.toUpperCase()} ${c.layers}×${c.hidden} + CTC (blank + 10 digits); batch ${training.batch}, Adam lr ${training.schedule.lr} (${training.schedule.kind}), clip ${training.clip ?? 'none'}, `
    + `${budget}${resumed ? `; resuming at update ${trainer.updates}` : ''}`);

  const log = (record: object): void => {
    appendLog(o.log, record);
  };
  const progress = new Progress(o.quiet ? 'quiet' : process.stderr.isTTY ? 'tty' : 'plain', '% DER', 30, 'utt/s');
  const meta = (test: SpeechMeta['test']): SpeechMeta => ({
    task: 'speech', writtenBy: `bptt ${VERSION}`, model: config, training, settings: { ...o, quiet: undefined, log: undefined },
    data: { dir: resolve(dir), train: data.train.length, dev: data.dev?.length ?? 0, test: data.test?.length ?? 0, sha256 },
    progress: trainer.progress, test,
  });
  let savedAt = -1;
  /** last.json with what --resume needs; best.json with the model's weights only. */
  const save = (name: 'last' | 'best', test: SpeechMeta['test'] = null): string => {
    if (name === 'best') return saveSpeechModel(o.out, 'best', model, meta(test));
    savedAt = trainer.updates;
    return saveSpeechModel(o.out, 'last', model, meta(test), trainer.snapshot());
  };
  // The last.json files this run writes need a best.json beside them with the best weights so far: --out may be another directory, or the run was killed before it wrote best.json.
  if (resumed && trainer.best) saveBestSoFar();

  const signals = new StopSignals();
  try {
    let val: number | null = null;
    const rate = new RateMeter(trainer.utterances);
    while (!trainer.finished && !signals.reason) {
      const r = trainer.step();
      log({ type: 'update', update: r.updates, epoch: r.epoch, loss: r.loss, gradNorm: r.gradNorm, clipped: r.clipped, lr: r.lr, elapsedMs: Math.round(r.elapsedMs), skipped: r.skipped });
      if (r.skipped) progress.note(`skipped: ${r.skipped}`);
      report?.recorder.step(r.updates, { loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, clipped: r.clipped });
      rate.update(r.utterances);
      // not right after a skipped update: those weights may be diverging, and last.json must stay the good one
      if ((r.updates % training.evalEvery === 0 || trainer.finished) && !r.skipped) val = validateAndSave(r) ?? val;
      progress.update({ step: r.updates, epoch: r.epoch, loss: r.loss, val, tokensPerSecond: rate.value, gradNorm: r.gradNorm, lr: r.lr, done: trainer.done, elapsedSeconds: r.elapsedMs / 1000 });
      await new Promise((resolve) => setImmediate(resolve)); // lets signals and the progress timer in
    }
    if (signals.reason && !trainer.finished) {
      // No validation here: the resumed run validates where an uninterrupted one would, so it ends the same.
      const path = save('last');
      report?.write();
      progress.stop();
      console.error(`bptt: ${signals.reason}: saved ${path} at update ${trainer.updates}; continue with --resume`);
      process.exitCode = 130;
      return;
    }
    progress.stop();
  } finally {
    signals.release();
  }
  if (savedAt !== trainer.updates) save('last'); // resumed with nothing left to train
  // last.json keeps the last weights; best.json the best validated ones (the last without dev.tsv), scored on the test split.
  trainer.restoreBest();
  let test: SpeechMeta['test'] = null;
  if (data.test) {
    const inputs = data.test.map((e) => e.input), refs = data.test.map((e) => e.digits);
    const greedy = digitErrors(transcribe(model, inputs, { beam: 1 }), refs);
    const beam = digitErrors(transcribe(model, inputs, { beam: o.beam }), refs);
    test = { greedy, beam, beamWidth: o.beam };
  }
  const path = save('best', test);
  if (report && test) report.recorder.meta({ 'test DER greedy %': 100 * test.greedy.der, [`test DER beam ${o.beam} %`]: 100 * test.beam.der });
  report?.write();
  log({ type: 'done', updates: trainer.updates, elapsedMs: Math.round(trainer.elapsedMs), bestUpdate: trainer.best?.updates ?? null, test });
  console.log(`done: ${trainer.updates} updates (${trainer.epoch.toFixed(1)} epochs, ${formatCount(trainer.utterances)} utterances) in ${formatDuration(trainer.elapsedMs / 1000)}`
    + `${trainer.best ? `; best validation DER ${pct(trainer.best.errors.der)} at update ${trainer.best.updates}` : ''}; checkpoint ${path}`);
  if (test) {
    console.log(`test: ${test.greedy.utterances} utterances, ${test.greedy.digits} digits; digit error rate greedy ${pct(test.greedy.der)} (${test.greedy.edits} edits, ${pct(test.greedy.ser)} of utterances wrong), `
      + `beam ${o.beam} ${pct(test.beam.der)} (${test.beam.edits} edits, ${pct(test.beam.ser)} wrong)`);
  }

  /** Validates (with dev.tsv) and saves the checkpoints; returns the validation DER in %. */
  function validateAndSave(r: SpeechStep): number | null {
    const v = data.dev ? trainer.validate() : null;
    if (v) {
      log({ type: 'validation', update: r.updates, ...v });
      progress.note(`update ${r.updates} (epoch ${r.epoch.toFixed(1)}, ${formatDuration(r.elapsedMs / 1000)}): loss ${r.loss.toFixed(3)}, validation DER ${pct(v.der)} (${v.edits}/${v.digits}), utterances wrong ${pct(v.ser)}${v.best ? ' (best)' : ''}`);
      report?.recorder.validation(r.updates, { 'DER %': 100 * v.der });
    }
    save('last'); // first: killed before best.json is written, last.json is itself at the best update and holds the best weights
    if (v?.best) save('best');
    report?.write();
    return v && 100 * v.der;
  }

  /** best.json with the best weights so far; the model keeps its own. */
  function saveBestSoFar(): void {
    const own = new Map([...model.stateDict()].map(([k, t]) => [k, t.clone()]));
    trainer.restoreBest();
    save('best');
    model.loadStateDict(own);
  }
}

/**
 * The checkpoint decides the model, features and training settings (each
 * checked as its command-line option would be); the data directory is named
 * again (its manifests as recorded); the budget, output and display options
 * may be given anew.
 */
function resumeFrom(o: TrainSpeechOptions, cmd: Command, given: (name: string) => boolean): Resumed {
  const ckpt = loadSpeechModel(resumePath(o));
  const state = speechTrainerStateOf(ckpt); // checks the manifest's fields first
  const where = `checkpoint '${ckpt.path}'`;
  const t = ckpt.meta.training;
  if (t.maxUpdates !== null) checkSaved(cmd, 'steps', t.maxUpdates, where, 'training.maxUpdates');
  if (t.maxSeconds !== null) checkSaved(cmd, 'time', t.maxSeconds, where, 'training.maxSeconds');
  checkSaved(cmd, 'evalEvery', t.evalEvery, where, 'training.evalEvery');
  checkSaved(cmd, 'seed', t.seed, where, 'training.seed');
  for (const [k, field] of Object.entries(FIXED) as Array<[keyof typeof FIXED, string]>) {
    const saved = savedAt(ckpt.meta, field), mine = o[k];
    checkSaved(cmd, k, saved, where, field);
    if (given(k) && JSON.stringify(saved) !== JSON.stringify(mine)) {
      throw new ConfigError(expected(`--resume ${ckpt.path}`, `${optionText(k, saved)} as saved, or no ${k === 'deltas' ? '--no-deltas' : `--${kebab(k)}`}`, optionText(k, mine)));
    }
  }
  return { ckpt, state };
}

/** --resume's checkpoint: the one named, last.json in a directory named, or --out/last.json. */
function resumePath(o: TrainSpeechOptions): string {
  const path = o.resume === true ? join(o.out, 'last.json') : o.resume!;
  try {
    if (statSync(path).isDirectory()) return join(path, 'last.json');
  } catch {
    // loadSpeechModel names what is wrong with it
  }
  return path;
}

/** A trainer for the run, the resumed one restored (whose settings come from its checkpoint, so their errors name it). */
function startTrainer(model: SpeechModel, data: Loaded, training: SpeechTrainingOptions, recorder: FlowRecorder | null, resumed: Resumed | null): SpeechTrainer {
  try {
    const trainer = new SpeechTrainer(model, data.train, data.dev ?? [], training, recorder);
    if (resumed) trainer.restore(resumed.state);
    return trainer;
  } catch (e) {
    if (resumed && e instanceof BpttError) throw new DataError(`checkpoint '${resumed.ckpt.path}': ${e.message}`);
    throw e;
  }
}

/** The budget and validation interval: as given, else as saved (--resume), else the defaults. */
function budgetOf(o: TrainSpeechOptions, given: (name: string) => boolean, perEpoch: number, saved: SpeechTrainingOptions | null): Pick<SpeechTrainingOptions, 'maxUpdates' | 'maxSeconds' | 'evalEvery'> {
  const evalEvery = saved && !given('evalEvery') ? saved.evalEvery : o.evalEvery ?? perEpoch;
  if (saved && !['epochs', 'steps', 'time'].some(given)) return { maxUpdates: saved.maxUpdates, maxSeconds: saved.maxSeconds, evalEvery };
  const byEpochs = o.steps === undefined || given('epochs') ? o.epochs * perEpoch : Infinity;
  return { maxUpdates: Math.min(byEpochs, o.steps ?? Infinity), maxSeconds: o.time ?? null, evalEvery };
}

/** A hash of the training and validation manifests, paths relative to the data directory (so a moved copy is the same data). */
function manifestHash(dir: string, manifests: Array<ManifestEntry[] | null>): string {
  const text = manifests.slice(0, 2).map((m) => (m ?? []).map((e) => `${relative(dir, e.path)}\t${e.digits.join('')}\n`).join('')).join('--\n');
  return createHash('sha256').update(text).digest('hex');
}

/** A resumed run trains on the data it was trained on: the same train.tsv and dev.tsv (the directory may have moved). */
function checkSameData(ckpt: SpeechCheckpoint, sha256: string, data: string | undefined): void {
  if (ckpt.meta.data.sha256 === sha256) return;
  throw new DataError(expected(`--resume ${ckpt.path}`, `the data it was trained on (train.tsv and dev.tsv as in ${textOf(ckpt.meta.data.dir)})`, `${data !== undefined ? `--data ${data}` : 'that directory'} with other manifests`));
}

function optionText(k: keyof typeof FIXED, v: unknown): string {
  if (k === 'deltas') return v ? 'deltas' : '--no-deltas';
  return `--${kebab(k)} ${v === null ? 'none' : textOf(v)}`;
}

function formatEpochs(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

function setup(o: TrainSpeechOptions): { config: SpeechModelConfig; training: SpeechTrainingOptions } {
  const features: SpeechFeatureConfig = { kind: o.features, size: o.coeffs ?? (o.features === 'mfcc' ? 13 : 40), deltas: o.deltas, stack: o.stack, stride: o.stride ?? o.stack };
  if (features.stride > features.stack) throw new ConfigError(expected('bptt train speech', `--stride at most --stack (${o.stack})`, features.stride, 'a larger stride would skip frames'));
  validateFeatureConfig(features, 'bptt train speech');
  const config: SpeechModelConfig = { features, cell: o.cell, hidden: o.hidden, layers: o.layers, dropout: o.dropout ?? (o.layers > 1 ? 0.2 : 0), seed: o.seed };
  validateSpeechConfig(config, 'bptt train speech');
  const training: SpeechTrainingOptions = {
    batch: o.batch, schedule: { kind: o.schedule, lr: o.lr, warmup: o.warmup, floor: 0 }, clip: o.clip,
    maxUpdates: null, maxSeconds: o.time ?? null, evalEvery: 1, seed: o.seed,
  };
  return { config, training };
}

function load(manifests: Array<ManifestEntry[] | null>, features: SpeechFeatureConfig, quiet: boolean): Loaded {
  const total = manifests.reduce((s, m) => s + (m?.length ?? 0), 0);
  let before = 0;
  const sets = manifests.map((m, i) => {
    if (!m) return null;
    const name: SplitName = (['train', 'dev', 'test'] as const)[i]!;
    const examples = loadExamples(m, features, (done) => {
      if (!quiet && process.stderr.isTTY) process.stderr.write(`\rcomputing features: ${before + done}/${total} (${name})`);
    });
    before += m.length;
    return examples;
  });
  if (!quiet && process.stderr.isTTY) process.stderr.write('\r\x1b[K');
  return { train: sets[0]!, dev: sets[1] ?? null, test: sets[2] ?? null };
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}

