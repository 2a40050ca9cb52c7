/** `bptt train speech`: a bidirectional LSTM/GRU + CTC digit recogniser on WAVs with manifests, scored by DER. */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { speechCodec } from '../tasks/speech/codec.js';
import { loadCorpus } from '../tasks/speech/node/corpus.js';
import { Batches } from '../tasks/speech/batches.js';
import { scoreDigits, testScore } from '../tasks/speech/decode.js';
import { inputSize, validateFeatureConfig, type SpeechFeatureConfig } from '../tasks/speech/features.js';
import { SpeechModel, validateSpeechConfig, type SpeechBatch, type SpeechModelConfig } from '../tasks/speech/model.js';
import { ConfigError, Rng, expected } from '../tensor/index.js';
import { dataParallel } from '../training/node/data-parallel.js';
import { describeStrategy, formatDuration, integer, real } from './options.js';
import { trainingCommand, type TrainingTask } from './run-training.js';
import type { TrainingDefaults, TrainingFlags } from './training-options.js';

const DEFAULTS: TrainingDefaults = { lr: 3e-3, warmup: 100, clip: 5, out: 'runs/speech', budget: { epochs: 30 } };
const WHERE = 'bptt train speech';
const REPLICA = '../tasks/speech/node/replica.js';

interface TrainSpeechOptions extends TrainingFlags {
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
  beam: number;
}

const task: TrainingTask<TrainSpeechOptions, SpeechBatch, SpeechModelConfig, SpeechModel> = {
  codec: speechCodec,
  defaults: DEFAULTS,
  dataFlags: ['data'],
  displayFlags: ['beam'],
  prepare: (o, resumed) => {
    if (o.bptt.kind !== 'full') {
      throw new ConfigError(expected(`${WHERE}: --bptt`, 'full', describeStrategy(o.bptt),
        'a bidirectional layer reads each utterance from both ends, and CTC scores it whole'));
    }
    const config = resumed ? resumed.meta.model : configOf(o);
    if (o.data === undefined) {
      throw new ConfigError(expected(WHERE, '--data <dir>, or --resume to continue a run', 'neither'));
    }
    const tty = !o.quiet && process.stderr.isTTY;
    const started = performance.now();
    const { train, dev, test, sha256 } = loadCorpus(o.data, config.features, tty ? (done, total) => {
      process.stderr.write(done < total ? `\rcomputing features: ${done}/${total}` : '\r\x1b[K');
    } : undefined);
    const model = resumed?.model ?? new SpeechModel(config);
    const c = config.features;
    const steps = train.reduce((s, e) => s + e.input.steps, 0) / train.length;
    const heldOut = dev ?? train;
    return {
      model, config, extra: { utterances: { train: train.length, dev: dev?.length ?? 0, test: test?.length ?? 0 } },
      data: [{ role: '--data', name: resolve(o.data), sha256 }],
      batches: new Batches(train, o.batch, new Rng(o.seed).split()),
      validate: () => {
        const v = scoreDigits(model, heldOut);
        return { score: 100 * v.der, metrics: { SER: 100 * v.ser } };
      },
      units: { score: dev ? '% DER' : '% DER (training set)', loss: 'CTC loss per digit', rate: 'utt/s' },
      header: `digits from '${o.data}': ${train.length} training, ${dev?.length ?? 0} validation, ${test?.length ?? 0} `
        + `test utterances; features in ${formatDuration((performance.now() - started) / 1000)} (${c.kind} ${c.size}`
        + `${c.deltas ? ' + deltas' : ''}, stack ${c.stack}, stride ${c.stride}: ${inputSize(c)} inputs per step, `
        + `${steps.toFixed(0)} steps per utterance on average)\nbidirectional ${config.cell.toUpperCase()} `
        + `${config.layers}×${config.hidden} + CTC (blank + 10 digits); batch ${o.batch}`
        + (dev ? '' : '; no dev.tsv: validated on the training utterances'),
      recurrent: [model.rnn],
      engine: o.workers > 0 ? dataParallel({ module: new URL(REPLICA, import.meta.url), config, workers: o.workers })
        : undefined,
      test: test ? (deadline) => testScore(model, test, o.beam, deadline) : undefined,
      testCost: ((1 + o.beam) * (test?.length ?? 0)) / heldOut.length, // greedy and beam, against one greedy pass
    };
  },
};

export function trainSpeechCommand(): Command {
  const cmd = new Command('speech')
    .description('train a bidirectional LSTM/GRU with CTC to recognise spoken digit strings (data: '
      + 'tools/make_speech_data.sh); scored by digit error rate on the test split')
    .option('--data <dir>', 'a directory with train.tsv (and optionally dev.tsv, test.tsv): lines path<TAB>digits, '
      + 'paths relative to it (required, also with --resume)')
    .addOption(new Option('--features <kind>', 'MFCC or log-mel features (25 ms frames every 10 ms, normalised per '
      + 'utterance)').choices(['mfcc', 'logmel']).default('mfcc'))
    .option('--coeffs <n>', 'MFCC coefficients or mel bands (default 13 MFCC, 40 mel bands)', integer(1, 128))
    .option('--no-deltas', 'no deltas and delta-deltas')
    .option('--stack <k>', 'frames joined into one input step', integer(1, 16), 3)
    .option('--stride <s>', 'frames between input steps (default: --stack, each frame read once)', integer(1, 16))
    .addOption(new Option('--cell <cell>', 'recurrent cell').choices(['lstm', 'gru']).default('gru'))
    .option('--hidden <n>', 'hidden units per layer and direction', integer(1, 4096), 128)
    .option('--layers <n>', 'stacked bidirectional layers', integer(1, 16), 2)
    .option('--dropout <p>', 'dropout between stacked layers (default 0.2 with 2 or more layers)', real(0, 0.99))
    .option('--batch <n>', 'utterances per update (of similar length)', integer(1, 100_000), 32)
    .option('--beam <n>', 'prefix beam width for the final test score (greedy is scored too)', integer(2, 256), 8);
  return trainingCommand(cmd, task);
}

/** The model config the flags give; the defaults that depend on other flags are filled in, so the run keeps them. */
function configOf(o: TrainSpeechOptions): SpeechModelConfig {
  o.coeffs ??= o.features === 'mfcc' ? 13 : 40;
  o.stride ??= o.stack;
  o.dropout ??= o.layers > 1 ? 0.2 : 0;
  const features: SpeechFeatureConfig = { kind: o.features, size: o.coeffs, deltas: o.deltas, stack: o.stack,
    stride: o.stride };
  if (features.stride > features.stack) {
    throw new ConfigError(expected(WHERE, `--stride at most --stack (${o.stack})`, features.stride,
      'a larger stride would skip frames'));
  }
  validateFeatureConfig(features, WHERE);
  return validateSpeechConfig({ features, cell: o.cell, hidden: o.hidden, layers: o.layers, dropout: o.dropout,
    seed: o.seed }, WHERE);
}
