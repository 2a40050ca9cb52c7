/**
 * Speech recogniser checkpoints (Node only), in the format of
 * `io/checkpoint-files.ts`: the weights under PyTorch's names, and in the
 * manifest's metadata the model and feature settings, the training
 * settings, progress and the digit error rates measured.
 */
import { loadCheckpoint, saveCheckpoint } from '../../io/checkpoint-files.js';
import { BpttError, DataError, expected } from '../../tensor/index.js';
import type { DigitErrors } from './decode.js';
import { SpeechModel, validateSpeechConfig, type SpeechModelConfig } from './model.js';
import type { SpeechTrainingOptions } from './trainer.js';

export const SPEECH_TASK = 'speech';

export interface SpeechMeta {
  task: typeof SPEECH_TASK;
  writtenBy: string;
  model: SpeechModelConfig;
  /** the data directory and its split sizes */
  data: { dir: string; train: number; dev: number; test: number };
  training: SpeechTrainingOptions;
  settings: Record<string, unknown>;
  progress: { updates: number; utterances: number; elapsedMs: number; bestUpdate: number | null; validation: DigitErrors | null };
  /** greedy and beam digit error rates on the test split (with the weights saved here), or null */
  test: { greedy: DigitErrors; beam: DigitErrors; beamWidth: number } | null;
}

export function saveSpeechModel(dir: string, name: string, model: SpeechModel, meta: SpeechMeta): string {
  return saveCheckpoint(dir, name, { meta: meta as unknown as Record<string, unknown>, weights: model.stateDict(), state: null });
}

export function loadSpeechModel(path: string): { model: SpeechModel; meta: SpeechMeta; path: string } {
  const loaded = loadCheckpoint(path);
  const where = `checkpoint '${loaded.path}'`;
  const meta = loaded.meta as unknown as SpeechMeta;
  if (meta.task !== SPEECH_TASK) throw new DataError(expected(where, `a ${SPEECH_TASK} checkpoint`, `task '${String(meta.task)}'`));
  try {
    const model = new SpeechModel(validateSpeechConfig(meta.model, `${where}: model`));
    model.loadStateDict(loaded.weights);
    model.eval();
    return { model, meta, path: loaded.path };
  } catch (e) {
    if (e instanceof BpttError && !e.message.startsWith(where)) throw new DataError(`${where}: ${e.message}`);
    throw e;
  }
}
