/**
 * Language-model checkpoints (Node only): a run of the `lm` codec, or a
 * language-model checkpoint written before the run format.
 */
import type { Vocabulary } from '../../../data/index.js';
import type { RunMeta } from '../../../training/index.js';
import { loadRun, type LoadedRun } from '../../../training/node/run-files.js';
import { lmCodec, vocabularyOf } from '../codec.js';
import type { LanguageModel, LanguageModelConfig } from '../model.js';

/** The tasks a language-model checkpoint names: the run format's, and the one before it. */
export const LM_TASKS: readonly string[] = ['lm', 'language-model'];

export interface LmCheckpoint extends LoadedRun<LanguageModelConfig, LanguageModel> {
  vocabulary: Vocabulary;
  meta: RunMeta<LanguageModelConfig>;
}

/** The model and vocabulary of a checkpoint, ready to sample or score. */
export function loadLanguageModel(path: string): LmCheckpoint {
  const run = loadRun(path, lmCodec);
  return { ...run, vocabulary: vocabularyOf(run.meta.extra, `checkpoint '${run.path}'`) };
}
