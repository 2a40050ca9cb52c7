/**
 * Speech recogniser checkpoints (Node only), in the format of
 * `io/checkpoint-files.ts`: the weights under PyTorch's names, and in the
 * manifest's metadata the model and feature settings, the training
 * settings, progress and the digit error rates measured.
 */
import { checkParameterCount, loadCheckpoint, saveCheckpoint } from '../../io/checkpoint-files.js';
import { recurrentParameterCount } from '../../nn/index.js';
import { BpttError, DataError, expected, textOf } from '../../tensor/index.js';
import type { DigitErrors } from './decode.js';
import { inputSize } from './features.js';
import { CLASSES, SpeechModel, validateSpeechConfig, type SpeechModelConfig } from './model.js';
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
  if (meta.task !== SPEECH_TASK) throw new DataError(expected(where, `a ${SPEECH_TASK} checkpoint`, `task '${textOf(meta.task)}'`));
  try {
    const config = validateSpeechConfig(meta.model, `${where}: model`);
    checkParameterCount(where, parameterCount(config), loaded.weights);
    const model = new SpeechModel(config);
    model.loadStateDict(loaded.weights);
    model.eval();
    return { model, meta, path: loaded.path };
  } catch (e) {
    if (e instanceof BpttError && !e.message.startsWith(where)) throw new DataError(`${where}: ${e.message}`);
    throw e;
  }
}

/** The parameters a config implies, counted without building the model (a hand-edited size must not allocate gigabytes first). */
function parameterCount(c: SpeechModelConfig): number {
  const gates = c.cell === 'lstm' ? 4 : 3;
  return recurrentParameterCount(gates, inputSize(c.features), c.hidden, c.layers, 2) + CLASSES * (2 * c.hidden + 1);
}
