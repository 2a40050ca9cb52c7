/**
 * The encoder–decoder in the run format: its config, its parameter count
 * (checked before a model is built), its extra (`kind`: text or g2p, and both
 * vocabularies), and the checkpoints `train translate` / `g2p` wrote before
 * the run format (read for use; they hold no runner state to resume from).
 */
import { Vocabulary } from '../../data/index.js';
import { badMeta, isObject } from '../../io/trainer-state.js';
import { recurrentParameterCount } from '../../nn/index.js';
import { DataError, expected, show } from '../../tensor/index.js';
import type { DataSource, RunMeta, TaskCodec } from '../../training/index.js';
import { Seq2Seq, validateSeq2SeqConfig, type Seq2SeqConfig } from './model.js';
import type { Vocabularies } from './texts.js';

/** What a translate run keeps besides the model config: g2p (spelling → phonemes) or text, and the vocabularies. */
export interface TranslateExtra {
  kind: 'g2p' | 'text';
  vocab: { source: unknown; target: unknown };
}

export const translateCodec: TaskCodec<Seq2SeqConfig, Seq2Seq> = {
  task: 'translate',
  config: (saved, where) => validateSeq2SeqConfig(saved as Seq2SeqConfig, where),
  parameterCount: (config) => parameterCount(config),
  build(config, extra, where) {
    vocabulariesOf(config, extra, where);
    return new Seq2Seq(config);
  },
  legacy(meta, where) {
    if (meta.task !== 'translate') return null;
    if (!isObject(meta.vocab)) badMeta(where, 'vocab', 'the source and target vocabularies', meta.vocab);
    return {
      task: 'translate', writtenBy: String(meta.writtenBy), model: validateSeq2SeqConfig(meta.model as Seq2SeqConfig,
        `${where}: meta.model`), extra: { kind: meta.kind === 'g2p' ? 'g2p' : 'text', vocab: meta.vocab },
      data: [], settings: isObject(meta.settings) ? meta.settings : {}, trainer: null,
    } satisfies Omit<RunMeta<Seq2SeqConfig>, 'run'>;
  },
};

/**
 * The model a run trains: a new one, or the resumed one, whose saved config the settings and data must give
 * again (with other data, the runner's data check refuses the run).
 */
export function modelFor(config: Seq2SeqConfig, resumed: { path: string; model: Seq2Seq;
  meta: { model: Seq2SeqConfig; data: DataSource[] }; } | null, sources: DataSource[]): Seq2Seq {
  if (!resumed) return new Seq2Seq(config);
  const saved = resumed.meta.model;
  const hashes = (d: DataSource[]): string => d.map((x) => x.sha256).join();
  const differs = (Object.keys(config) as Array<keyof Seq2SeqConfig>).find((k) => saved[k] !== config[k]);
  if (differs && hashes(resumed.meta.data) === hashes(sources)) {
    throw new DataError(expected(`checkpoint '${resumed.path}'`, `the model of meta.model (${differs} `
      + `${show(saved[differs])})`, show(config[differs]), 'its settings or the data changed'));
  }
  return resumed.model;
}

/** The vocabularies a run's extra holds, checked against the model's sizes. */
export function vocabulariesOf(config: Seq2SeqConfig, extra: Record<string, unknown>, where: string): Vocabularies {
  const v = extra.vocab as TranslateExtra['vocab'] | undefined;
  if (!isObject(v)) badMeta(where, 'extra.vocab', 'the source and target vocabularies', v);
  const vocab = { source: Vocabulary.fromJSON(v.source as never), target: Vocabulary.fromJSON(v.target as never) };
  if (vocab.source.size !== config.sourceVocab || vocab.target.size !== config.targetVocab) {
    throw new DataError(expected(where, `vocabularies of ${config.sourceVocab} and ${config.targetVocab} tokens, `
      + 'as the model', `${vocab.source.size} and ${vocab.target.size}`));
  }
  return vocab;
}

/** The parameters a config implies, counted without building the model (a hand-edited size must not allocate). */
export function parameterCount(c: Seq2SeqConfig): number {
  const gates = c.cell === 'lstm' ? 4 : 3;
  const H = c.hidden, D = c.bidirectional ? 2 : 1, Hd = H / D;
  const embeddings = (c.sourceVocab + (c.shareEmbeddings ? 0 : c.targetVocab)) * c.embed;
  const encoder = recurrentParameterCount(gates, c.embed, Hd, c.layers, D);
  const decoder = recurrentParameterCount(gates, c.embed + (c.inputFeeding ? H : 0), H, c.layers);
  const attention = c.attention === 'general' ? H * H : c.attention === 'additive' ? 2 * H * H + 2 * H : 0;
  return embeddings + encoder + decoder + attention + 2 * H * H + c.targetVocab * (H + 1);
}
