/**
 * Language-model checkpoints (Node only): what goes into the manifest's
 * metadata and the state tensors, and how a model or a training run is
 * rebuilt from them. Format: see `io/checkpoint-files.ts` and the README.
 */
import { Variable } from '../../autograd/index.js';
import { Vocabulary, type VocabularyJSON } from '../../data/index.js';
import {
  checkParameterCount, loadCheckpoint, saveCheckpoint, type LoadedCheckpoint,
} from '../../io/node/checkpoint-files.js';
import {
  badMeta, checkRngState, isCount, isObject, packOptimizer, unpackOptimizer, type PackedOptimizer,
} from '../../io/trainer-state.js';
import { recurrentParameterCount, type HiddenState } from '../../nn/index.js';
import { BpttError, DataError, Tensor, expected, quoted } from '../../tensor/index.js';
import { LanguageModel, validateConfig, type LanguageModelConfig } from './model.js';
import type { LmTrainingOptions, TrainerProgress, TrainerState } from './trainer.js';

export const TASK = 'language-model';

export interface LmMeta {
  task: typeof TASK;
  /** the bptt version that wrote it */
  writtenBy: string;
  model: LanguageModelConfig;
  vocabulary: VocabularyJSON;
  /** the text the model was trained on (a path, or 'moby-dick') */
  corpus: string;
  training: LmTrainingOptions;
  /** the command-line settings of the run (the CLI checks a resumed run against them) */
  settings: Record<string, unknown>;
  progress: TrainerProgress;
  rng: number[];
  /** the optimiser's settings and step counts; its moments are in the state tensors */
  optimizer: PackedOptimizer;
}

export interface LmCheckpoint {
  model: LanguageModel;
  vocabulary: Vocabulary;
  meta: LmMeta;
  path: string;
}

/** Saves model, vocabulary and trainer state as checkpoint `name` in `dir`. */
export function saveLmCheckpoint(dir: string, name: string, model: LanguageModel, vocabulary: Vocabulary, trainer: TrainerState,
  info: { corpus: string; training: LmTrainingOptions; writtenBy: string; settings?: Record<string, unknown> }): string {
  const state = new Map<string, Tensor>();
  const optimizer = packOptimizer(trainer.optimizer, model.namedParameters(), state);
  trainer.carried.forEach((c, shard) => {
    if (c) for (const [k, v] of Object.entries(c)) state.set(`carried.${shard}.${k}`, (v as Variable).value);
  });
  const meta: LmMeta = {
    task: TASK, writtenBy: info.writtenBy, model: model.config, vocabulary: vocabulary.toJSON(), corpus: info.corpus,
    training: info.training, settings: info.settings ?? {}, progress: trainer.progress, rng: trainer.rng,
    optimizer,
  };
  return saveCheckpoint(dir, name, { meta: meta as unknown as Record<string, unknown>, weights: model.stateDict(), state });
}

/** The model and vocabulary of a checkpoint, ready to sample or score. */
export function loadLanguageModel(path: string): LmCheckpoint & { loaded: LoadedCheckpoint } {
  // Files no larger than the model the metadata describes are read (a bad description is reported below).
  const count = (meta: Record<string, unknown>): number | undefined =>
    (meta.task === TASK ? parameterCount(validateConfig(meta.model as LanguageModelConfig, 'model')) : undefined);
  const loaded = loadCheckpoint(path, { parameterCount: count });
  const where = `checkpoint '${loaded.path}'`;
  const meta = loaded.meta as unknown as LmMeta;
  if (meta.task !== TASK) throw new DataError(expected(where, `a ${TASK} checkpoint`, `task ${quoted(meta.task)}`));
  try {
    const vocabulary = Vocabulary.fromJSON(meta.vocabulary);
    const config = validateConfig(meta.model, `${where}: model`);
    if (vocabulary.size !== config.vocab) throw new DataError(expected(where, `a vocabulary of ${config.vocab} tokens, as the model's`, vocabulary.size));
    checkParameterCount(where, parameterCount(config), loaded.weights);
    const model = new LanguageModel(config);
    model.loadStateDict(loaded.weights);
    return { model, vocabulary, meta, path: loaded.path, loaded };
  } catch (e) {
    if (e instanceof BpttError && !e.message.startsWith(where)) throw new DataError(`${where}: ${e.message}`);
    throw e;
  }
}

/** The parameters a config implies, counted without building the model (a hand-edited size must not allocate gigabytes first). */
function parameterCount(c: LanguageModelConfig): number {
  const gates = c.cell === 'lstm' ? 4 : c.cell === 'gru' ? 3 : 1;
  return c.vocab * c.embed + recurrentParameterCount(gates, c.embed, c.hidden, c.layers) + c.vocab * (c.hidden + 1);
}

/** The trainer state saved with a checkpoint (for --resume). */
export function trainerStateOf(ckpt: LmCheckpoint & { loaded: LoadedCheckpoint }): TrainerState {
  const where = `checkpoint '${ckpt.path}'`;
  const tensors = ckpt.loaded.state;
  if (!tensors) throw new DataError(expected(where, 'training state (optimiser moments, carried states) to resume from', 'weights only'));
  const m = ckpt.meta;
  checkTrainerMeta(where, m);
  const optimizer = unpackOptimizer(where, m.optimizer, tensors, ckpt.model.namedParameters());
  const shards = new Map<number, Record<string, Variable>>();
  for (const [key, t] of tensors) {
    const hit = /^carried\.(\d+)\.(\w+)$/.exec(key);
    if (!hit) continue;
    const s = Number(hit[1]);
    shards.set(s, { ...shards.get(s), [hit[2]!]: new Variable(t, false) });
  }
  const count = m.training.workers !== undefined ? Math.min(m.training.workers, m.training.batch - 1) + 1 : shards.size;
  const carried = Array.from({ length: count }, (_, s) => (shards.get(s) as HiddenState | undefined) ?? null);
  return { progress: m.progress, rng: m.rng, optimizer, carried };
}

/** The parts of the metadata trainerStateOf reads, so a hand-edited manifest is a DataError rather than a crash (or a huge allocation). */
function checkTrainerMeta(where: string, m: LmMeta): void {
  const fail = (what: string, want: string, got: unknown): never => badMeta(where, what, want, got);
  if (!isObject(m.progress) || !(['updates', 'batches', 'tokens'] as const).every((k) => isCount(m.progress[k])) || !Number.isFinite(m.progress.elapsedMs)) {
    fail('progress', 'counts of updates, batches and tokens and the elapsed time', m.progress);
  }
  for (const k of ['bestValLoss', 'lastValLoss'] as const) {
    const loss = m.progress[k];
    if (loss != null && !Number.isFinite(loss)) fail(`progress.${k}`, 'a loss or null', loss);
  }
  checkRngState(where, 'rng', m.rng);
  if (typeof m.corpus !== 'string') fail('corpus', 'the name of the text trained on', m.corpus);
  if (!isObject(m.settings)) fail('settings', 'the settings of the run', m.settings);
  if (!isObject(m.training)) fail('training', 'the training options', m.training);
  if (!Number.isSafeInteger(m.training.batch) || m.training.batch < 1) {
    fail('training.batch', 'a positive integer', m.training.batch);
  }
  if (m.training.workers !== undefined && !(Number.isInteger(m.training.workers) && m.training.workers >= 0 && m.training.workers <= 64)) fail('training.workers', 'an integer from 0 to 64', m.training.workers);
}
