/**
 * Speech recogniser checkpoints (Node only), in the format of
 * `io/checkpoint-files.ts`: the weights under PyTorch's names, and in the
 * manifest's metadata the model and feature settings, the training
 * settings, progress and the digit error rates measured. A checkpoint saved
 * with the trainer's state (last.json) can be resumed: the optimiser's
 * moments are its state tensors, the rest is in the metadata, and the best
 * weights so far are those of best.json beside it.
 */
import { dirname, join } from 'node:path';
import {
  checkParameterCount, loadCheckpoint, saveCheckpoint, type LoadedCheckpoint,
} from '../../io/node/checkpoint-files.js';
import {
  badMeta as fail, checkRngState, isCount, isObject, packOptimizer, unpackOptimizer, type PackedOptimizer,
} from '../../io/trainer-state.js';
import { recurrentParameterCount } from '../../nn/index.js';
import { BpttError, DataError, expected, jsonOf, quoted, show, type Tensor } from '../../tensor/index.js';
import type { BatchesState } from './batches.js';
import type { DigitErrors } from './decode.js';
import { inputSize } from './features.js';
import { CLASSES, SpeechModel, validateSpeechConfig, type SpeechModelConfig } from './model.js';
import {
  validateSpeechTraining, type SpeechProgress, type SpeechTrainerState, type SpeechTrainingOptions,
} from './trainer.js';

export const SPEECH_TASK = 'speech';

export interface SpeechMeta {
  task: typeof SPEECH_TASK;
  writtenBy: string;
  model: SpeechModelConfig;
  /** the data directory, its split sizes and a hash of the training and validation manifests (a resumed run checks it has the same data) */
  data: { dir: string; train: number; dev: number; test: number; sha256?: string };
  training: SpeechTrainingOptions;
  settings: Record<string, unknown>;
  progress: SpeechProgress;
  /** greedy and beam digit error rates on the test split (with the weights saved here), or null */
  test: { greedy: DigitErrors; beam: DigitErrors; beamWidth: number } | null;
  /** with the trainer's state only: the batch order, the dropout generator, the optimiser's settings and step counts */
  batches?: BatchesState;
  dropoutRng?: number[];
  optimizer?: PackedOptimizer;
}

export interface SpeechCheckpoint {
  model: SpeechModel;
  meta: SpeechMeta;
  path: string;
  loaded: LoadedCheckpoint;
}

/** Saves the model as checkpoint `name` in `dir`; with `trainer`, also what --resume needs (its progress replaces meta.progress). The best weights are not part of it: they are saved as best.json. */
export function saveSpeechModel(dir: string, name: string, model: SpeechModel, meta: SpeechMeta, trainer: SpeechTrainerState | null = null): string {
  if (!trainer) return saveCheckpoint(dir, name, { meta: meta as unknown as Record<string, unknown>, weights: model.stateDict(), state: null });
  const state = new Map<string, Tensor>();
  const full: SpeechMeta = {
    ...meta, progress: trainer.progress, batches: trainer.batches, dropoutRng: trainer.dropoutRng, optimizer: packOptimizer(trainer.optimizer, model.namedParameters(), state),
  };
  return saveCheckpoint(dir, name, { meta: full as unknown as Record<string, unknown>, weights: model.stateDict(), state });
}

export function loadSpeechModel(path: string): SpeechCheckpoint {
  // Files no larger than the model the metadata describes are read (a bad description is reported below).
  const count = (meta: Record<string, unknown>): number | undefined =>
    (meta.task === SPEECH_TASK
      ? parameterCount(validateSpeechConfig(meta.model as SpeechModelConfig, 'model'))
      : undefined);
  const loaded = loadCheckpoint(path, { parameterCount: count });
  const where = `checkpoint '${loaded.path}'`;
  const meta = loaded.meta as unknown as SpeechMeta;
  if (meta.task !== SPEECH_TASK) {
    throw new DataError(expected(where, `a ${SPEECH_TASK} checkpoint`, `task ${quoted(meta.task)}`));
  }
  try {
    const config = validateSpeechConfig(meta.model, `${where}: model`);
    checkParameterCount(where, parameterCount(config), loaded.weights);
    const model = new SpeechModel(config);
    model.loadStateDict(loaded.weights);
    model.eval();
    return { model, meta, path: loaded.path, loaded };
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

/** The trainer state a checkpoint was saved with (for --resume), the best weights so far taken from best.json beside it; the training options and data a resumed run reads are checked too. */
export function speechTrainerStateOf(ckpt: SpeechCheckpoint): SpeechTrainerState {
  const where = `checkpoint '${ckpt.path}'`;
  const m = ckpt.meta;
  const tensors = ckpt.loaded.state;
  if (!tensors || m.optimizer === undefined) {
    throw new DataError(expected(where, 'training state (optimiser moments, batch order, generators) to resume from', 'weights only', 'resume from a last.json written by this version'));
  }
  try {
    validateSpeechTraining(m.training, `${where}: meta.training`);
  } catch (e) {
    throw e instanceof BpttError ? new DataError(e.message) : e;
  }
  if (!isObject(m.data) || typeof m.data.dir !== 'string' || typeof m.data.sha256 !== 'string') fail(where, 'data', 'the data directory and the SHA-256 of its manifests', m.data);
  const progress = checkProgress(where, m.progress);
  const b = m.batches;
  if (!isObject(b) || !isCount(b.epochs) || !isCount(b.at)) fail(where, 'batches', 'the batch order: { rng, epochs, at }', b);
  const batches: BatchesState = { rng: checkRngState(where, 'batches.rng', b.rng), epochs: b.epochs, at: b.at };
  const dropoutRng = checkRngState(where, 'dropoutRng', m.dropoutRng);
  const optimizer = unpackOptimizer(where, m.optimizer, tensors, ckpt.model.namedParameters());
  return { progress, batches, dropoutRng, optimizer, bestWeights: bestWeightsOf(ckpt, progress) };
}

/** The best weights so far: the checkpoint's own when it was saved at the best update, else best.json's, which must be of that update and model. */
function bestWeightsOf(ckpt: SpeechCheckpoint, p: SpeechProgress): Map<string, Tensor> | null {
  if (p.bestUpdate === null) return null;
  if (p.bestUpdate === p.updates) return new Map([...ckpt.model.stateDict()].map(([k, t]) => [k, t.clone()]));
  const path = join(dirname(ckpt.path), 'best.json');
  const want = `the best weights of update ${p.bestUpdate}, which checkpoint '${ckpt.path}' records`;
  let best: SpeechCheckpoint;
  try {
    best = loadSpeechModel(path);
  } catch (e) {
    if (e instanceof BpttError) throw new DataError(`${e.message} (${want})`);
    throw e;
  }
  const bp = best.meta.progress as Partial<SpeechProgress> | undefined;
  if (!isObject(bp) || bp.bestUpdate !== p.bestUpdate || jsonOf(bp.validation) !== jsonOf(p.validation)) {
    throw new DataError(expected(`checkpoint '${best.path}'`, want, `those of update ${show(isObject(bp) ? bp.bestUpdate : bp)}`));
  }
  if (jsonOf(best.meta.model) !== jsonOf(ckpt.meta.model)) {
    throw new DataError(expected(`checkpoint '${best.path}'`, `${want}, of the same model`, 'another model'));
  }
  return best.model.stateDict();
}

/** meta.progress of a resumable checkpoint, checked so that a hand-edited manifest is a DataError, never a crash. */
function checkProgress(where: string, p: SpeechProgress): SpeechProgress {
  if (!isObject(p) || !(['updates', 'utterances', 'steps'] as const).every((k) => isCount(p[k])) || !(Number.isFinite(p.elapsedMs) && p.elapsedMs >= 0)) {
    fail(where, 'progress', 'counts of updates, utterances and steps and the elapsed time', p);
  }
  if (p.bestUpdate !== null && !(isCount(p.bestUpdate) && p.bestUpdate <= p.updates)) fail(where, 'progress.bestUpdate', `null or an update up to ${p.updates}`, p.bestUpdate);
  const errors = p.validation as unknown as Record<string, unknown> | null;
  const valid = errors === null ? p.bestUpdate === null : p.bestUpdate !== null && isObject(errors) && ['der', 'edits', 'digits', 'utterances', 'ser'].every((k) => Number.isFinite(errors[k]));
  if (!valid) fail(where, 'progress.validation', 'the digit errors of the best update (null with no best update)', p.validation);
  return p;
}

