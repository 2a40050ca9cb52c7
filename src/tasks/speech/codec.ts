/**
 * The speech recogniser's part of the run format (browser-safe): its config
 * is the model's (features included), the extra holds the split sizes, and a
 * checkpoint written before the run format (meta.task 'speech', the model,
 * training settings and progress of its own layout) still loads for use.
 */
import { recurrentParameterCount } from '../../nn/index.js';
import { ConfigError, DataError } from '../../tensor/index.js';
import type { DataSource, RunMeta, TaskCodec } from '../../training/index.js';
import { inputSize } from './features.js';
import { CLASSES, SpeechModel, validateSpeechConfig, type SpeechModelConfig } from './model.js';

export const SPEECH_TASK = 'speech';

export const speechCodec: TaskCodec<SpeechModelConfig, SpeechModel> = {
  task: SPEECH_TASK,
  config: (saved, where) => asDataError(() => validateSpeechConfig(saved as SpeechModelConfig, where)),
  parameterCount: (c) => {
    const gates = c.cell === 'lstm' ? 4 : 3;
    return recurrentParameterCount(gates, inputSize(c.features), c.hidden, c.layers, 2) + CLASSES * (2 * c.hidden + 1);
  },
  build: (c) => {
    const model = new SpeechModel(c);
    model.eval();
    return model;
  },
  legacy: (meta, where) => {
    if (meta.task !== SPEECH_TASK) return null;
    const old = meta.data as { dir?: unknown; sha256?: unknown } | undefined;
    const data: DataSource[] = typeof old?.dir === 'string' && typeof old.sha256 === 'string'
      ? [{ role: '--data', name: old.dir, sha256: old.sha256 }] : [];
    const run: Omit<RunMeta<SpeechModelConfig>, 'run'> = {
      task: SPEECH_TASK, writtenBy: String(meta.writtenBy),
      model: speechCodec.config(meta.model, `${where}: meta.model`),
      extra: { legacy: true }, data, settings: {}, trainer: null,
    };
    return run;
  },
};

/** A saved config's error is the checkpoint's (DataError), never the caller's. */
function asDataError<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw e instanceof ConfigError ? new DataError(e.message) : e;
  }
}
