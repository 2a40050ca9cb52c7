/** `bptt train speech`: a bidirectional LSTM/GRU + CTC digit recogniser on a directory of WAVs with manifests, scored by digit error rate. */
import { appendFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ensureWritableDir } from '../io/checkpoint-files.js';
import type { Example } from '../tasks/speech/batches.js';
import { saveSpeechModel, type SpeechMeta } from '../tasks/speech/checkpoint.js';
import { checkDataDir, loadExamples, readManifest, type ManifestEntry, type SplitName } from '../tasks/speech/corpus.js';
import { digitErrors, transcribe } from '../tasks/speech/decode.js';
import { inputSize, validateFeatureConfig, type SpeechFeatureConfig } from '../tasks/speech/features.js';
import { SpeechModel, validateSpeechConfig, type SpeechModelConfig } from '../tasks/speech/model.js';
import { SpeechTrainer, type SpeechTrainingOptions } from '../tasks/speech/trainer.js';
import { ConfigError, expected } from '../tensor/index.js';
import { ensureWritableLog } from './log-file.js';
import { openReport } from '../report/write.js';
import { duration, formatDuration, integer, real, realOrNone } from './options.js';
import { Progress, RateMeter, formatCount } from './progress.js';
import { StopSignals } from './stop-signals.js';
import { VERSION } from './version.js';

interface TrainSpeechOptions {
  data: string;
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
  time?: number;
  evalEvery?: number;
  beam: number;
  seed: number;
  out: string;
  log?: string;
  report?: string;
  quiet?: boolean;
}

export function trainSpeechCommand(): Command {
  return new Command('speech')
    .description('train a bidirectional LSTM/GRU with CTC to recognise spoken digit strings (data: tools/make_speech_data.sh); scored by digit error rate on the test split')
    .requiredOption('--data <dir>', 'a directory with train.tsv (and optionally dev.tsv, test.tsv): lines path<TAB>digits, paths relative to it')
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
    .option('--time <duration>', 'stop earlier after this much training time, e.g. 90s, 40m', duration)
    .option('--eval-every <updates>', 'validate on dev.tsv (keeping the best weights) and save checkpoints this often (default: once per epoch)', integer(1))
    .option('--beam <n>', 'prefix beam width for the final test score (greedy is scored too)', integer(2, 256), 8)
    .option('--seed <n>', 'seed of the initialisation and the batch order', integer(0, 2 ** 32 - 1), 1)
    .option('--out <dir>', 'checkpoint directory (best.json, last.json and their .safetensors)', 'runs/speech')
    .option('--log <file>', 'append one JSON object per update, validation and at the end to this file')
    .option('--report <file>', 'write an HTML report (loss, learning rate, gradient norm and clipping, gradient flow, gate saturation, validation DER) at each validation and at the end')
    .option('-q, --quiet', 'no progress line; only the summary')
    .action((o: TrainSpeechOptions) => trainSpeech(o));
}

interface Loaded {
  train: Example[];
  dev: Example[] | null;
  test: Example[] | null;
}

async function trainSpeech(o: TrainSpeechOptions): Promise<void> {
  // Inputs first (every manifest read, every WAV decoded), then the output: bad input leaves no directory or file behind.
  const { config, training } = setup(o);
  checkDataDir(o.data);
  const manifests = (['train', 'dev', 'test'] as const).map((s) => readManifest(o.data, s, s !== 'train'));
  const say = (line: string): void => {
    if (!o.quiet) console.log(line);
  };
  const started = performance.now();
  const data = load(manifests, config.features, o.quiet === true);
  if (o.log) ensureWritableLog(o.log);
  const report = o.report ? openReport(o.report, `bptt train speech: ${o.data}`, { ...config.features, cell: config.cell, hidden: config.hidden, layers: config.layers, dropout: config.dropout, batch: training.batch, lr: training.schedule.lr, clip: training.clip, seed: o.seed, version: VERSION }) : null;
  report?.recorder.chart('loss', { unit: 'CTC loss per digit' });
  if (report && training.clip) report.recorder.chart('grad-norm', { threshold: { label: `clip ${training.clip}`, y: training.clip } });
  ensureWritableDir(o.out);
  const perEpoch = Math.ceil(data.train.length / o.batch);
  training.maxUpdates = o.epochs * perEpoch;
  training.evalEvery = o.evalEvery ?? perEpoch;
  const c = config;
  const steps = data.train.reduce((s, e) => s + e.input.steps, 0);
  say(`bptt ${VERSION}: digits from '${o.data}': ${data.train.length} training, ${data.dev?.length ?? 0} validation, ${data.test?.length ?? 0} test utterances; `
    + `features computed in ${formatDuration((performance.now() - started) / 1000)} (${c.features.kind} ${c.features.size}${c.features.deltas ? ' + deltas' : ''}, stack ${c.features.stack}, stride ${c.features.stride}: `
    + `${inputSize(c.features)} inputs per step, ${(steps / data.train.length).toFixed(0)} steps per utterance on average)`);
  say(`bidirectional ${c.cell.toUpperCase()} ${c.layers}×${c.hidden} + CTC (blank + 10 digits); batch ${training.batch}, Adam lr ${training.schedule.lr} (${training.schedule.kind}), clip ${training.clip ?? 'none'}, `
    + `${o.epochs} epochs (${training.maxUpdates} updates)${training.maxSeconds ? ` or ${formatDuration(training.maxSeconds)}` : ''}`);

  const model = new SpeechModel(config);
  const trainer = new SpeechTrainer(model, data.train, data.dev ?? [], training, report?.flow ?? null);
  const log = (record: object): void => {
    if (o.log) appendFileSync(o.log, JSON.stringify(record) + '\n');
  };
  const progress = new Progress(o.quiet ? 'quiet' : process.stderr.isTTY ? 'tty' : 'plain', '% DER', 30, 'utt/s');
  const meta = (test: SpeechMeta['test']): SpeechMeta => ({
    task: 'speech', writtenBy: `bptt ${VERSION}`, model: config, training, settings: { ...o, quiet: undefined, log: undefined },
    data: { dir: o.data, train: data.train.length, dev: data.dev?.length ?? 0, test: data.test?.length ?? 0 },
    progress: { updates: trainer.updates, utterances: trainer.utterances, elapsedMs: Math.round(trainer.elapsedMs), bestUpdate: trainer.best?.updates ?? null, validation: trainer.best?.errors ?? null },
    test,
  });
  const signals = new StopSignals();
  try {
    let val: number | null = null;
    const rate = new RateMeter();
    while (!trainer.finished && !signals.reason) {
      const r = trainer.step();
      log({ type: 'update', update: r.updates, epoch: r.epoch, loss: r.loss, gradNorm: r.gradNorm, clipped: r.clipped, lr: r.lr, elapsedMs: Math.round(r.elapsedMs), skipped: r.skipped });
      if (r.skipped) progress.note(`skipped: ${r.skipped}`);
      report?.recorder.step(r.updates, { loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, clipped: r.clipped });
      rate.update(r.utterances);
      if (r.updates % training.evalEvery === 0 || trainer.finished || signals.reason) {
        if (data.dev) {
          const v = trainer.validate();
          val = 100 * v.der;
          log({ type: 'validation', update: r.updates, ...v });
          progress.note(`update ${r.updates} (epoch ${r.epoch.toFixed(1)}, ${formatDuration(r.elapsedMs / 1000)}): loss ${r.loss.toFixed(3)}, validation DER ${pct(v.der)} (${v.edits}/${v.digits}), utterances wrong ${pct(v.ser)}${v.best ? ' (best)' : ''}`);
          if (v.best) saveSpeechModel(o.out, 'best', model, meta(null));
          report?.recorder.validation(r.updates, { 'DER %': 100 * v.der });
        }
        saveSpeechModel(o.out, 'last', model, meta(null));
        report?.write();
      }
      progress.update({ step: r.updates, epoch: r.epoch, loss: r.loss, val, tokensPerSecond: rate.value, gradNorm: r.gradNorm, lr: r.lr, done: trainer.done, elapsedSeconds: r.elapsedMs / 1000 });
      await new Promise((resolve) => setImmediate(resolve)); // lets signals and the progress timer in
    }
    progress.stop();
  } finally {
    signals.release();
  }
  // last.json keeps the last weights; best.json the best validated ones (the last without dev.tsv), scored on the test split.
  saveSpeechModel(o.out, 'last', model, meta(null));
  trainer.restoreBest();
  let test: SpeechMeta['test'] = null;
  if (data.test) {
    const inputs = data.test.map((e) => e.input), refs = data.test.map((e) => e.digits);
    const greedy = digitErrors(transcribe(model, inputs, { beam: 1 }), refs);
    const beam = digitErrors(transcribe(model, inputs, { beam: o.beam }), refs);
    test = { greedy, beam, beamWidth: o.beam };
  }
  const path = saveSpeechModel(o.out, 'best', model, meta(test));
  if (report && test) report.recorder.meta({ 'test DER greedy %': 100 * test.greedy.der, [`test DER beam ${o.beam} %`]: 100 * test.beam.der });
  report?.write();
  log({ type: 'done', updates: trainer.updates, elapsedMs: Math.round(trainer.elapsedMs), bestUpdate: trainer.best?.updates ?? null, test });
  console.log(`done: ${trainer.updates} updates (${trainer.epoch.toFixed(1)} epochs, ${formatCount(trainer.utterances)} utterances) in ${formatDuration(trainer.elapsedMs / 1000)}`
    + `${trainer.best ? `; best validation DER ${pct(trainer.best.errors.der)} at update ${trainer.best.updates}` : ''}; checkpoint ${path}`);
  if (test) {
    console.log(`test: ${test.greedy.utterances} utterances, ${test.greedy.digits} digits; digit error rate greedy ${pct(test.greedy.der)} (${test.greedy.edits} edits, ${pct(test.greedy.ser)} of utterances wrong), `
      + `beam ${o.beam} ${pct(test.beam.der)} (${test.beam.edits} edits, ${pct(test.beam.ser)} wrong)`);
  }
  if (signals.reason) {
    console.error(`bptt: ${signals.reason}: training stopped early at update ${trainer.updates}`);
    process.exitCode = 130;
  }
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

