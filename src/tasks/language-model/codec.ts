/**
 * A language model in the run format: its config, its vocabulary (the extra),
 * and how checkpoints written before the run format are read.
 */
import { Vocabulary, type VocabularyJSON } from '../../data/index.js';
import { isObject } from '../../io/trainer-state.js';
import { recurrentParameterCount } from '../../nn/index.js';
import { DataError, expected } from '../../tensor/index.js';
import type { DataSource, RunMeta, TaskCodec } from '../../training/index.js';
import { LanguageModel, validateConfig, type LanguageModelConfig } from './model.js';

export const lmCodec: TaskCodec<LanguageModelConfig, LanguageModel> = {
  task: 'lm',
  config: (saved, where) => validateConfig(saved as LanguageModelConfig, where),
  parameterCount,
  build(config, extra, where) {
    const vocabulary = vocabularyOf(extra, where);
    if (vocabulary.size !== config.vocab) {
      throw new DataError(expected(where, `a vocabulary of ${config.vocab} tokens, as the model's`, vocabulary.size));
    }
    return new LanguageModel(config);
  },
  legacy: (meta) => (meta.task === 'language-model' ? legacyRun(meta) : null),
};

export function vocabularyOf(extra: Record<string, unknown>, where: string): Vocabulary {
  try {
    return Vocabulary.fromJSON(extra.vocabulary as VocabularyJSON);
  } catch (e) {
    throw new DataError(`${where}: meta.extra.vocabulary: ${(e as Error).message}`);
  }
}

/** The weights a config implies, counted without building the model (a hand-edited size must not allocate first). */
function parameterCount(c: LanguageModelConfig): number {
  const gates = c.cell === 'lstm' ? 4 : c.cell === 'gru' ? 3 : 1;
  return c.vocab * c.embed + recurrentParameterCount(gates, c.embed, c.hidden, c.layers) + c.vocab * (c.hidden + 1);
}

/** A 'language-model' checkpoint (before the run format): usable, not resumable. */
function legacyRun(meta: Record<string, unknown>): Omit<RunMeta<LanguageModelConfig>, 'run'> {
  const corpus = typeof meta.corpus === 'string' ? meta.corpus : '';
  const [, name = corpus, sha256 = ''] = /^(.*) \(sha256 ([0-9a-f]+)\)$/.exec(corpus) ?? [];
  const data: DataSource[] = [{ role: name === 'moby-dick' ? 'bundled' : '--text', name, sha256 }];
  return {
    task: 'lm', writtenBy: String(meta.writtenBy ?? 'bptt'), model: meta.model as LanguageModelConfig,
    extra: { vocabulary: meta.vocabulary }, data, settings: isObject(meta.settings) ? meta.settings : {},
    trainer: null,
  };
}
