/**
 * Language-model checkpoints (Node only): what goes into the manifest's
 * metadata and the state tensors, and how a model or a training run is
 * rebuilt from them. Format: see `io/checkpoint-files.ts` and the README.
 */
import { Variable } from '../../autograd/index.js';
import { Vocabulary, type VocabularyJSON } from '../../data/index.js';
import { loadCheckpoint, saveCheckpoint, type LoadedCheckpoint } from '../../io/checkpoint-files.js';
import type { HiddenState } from '../../nn/index.js';
import type { OptimizerStateDict } from '../../optim/index.js';
import { BpttError, DataError, Tensor, expected } from '../../tensor/index.js';
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
  optimizer: Omit<OptimizerStateDict, 'state'> & { state: Array<{ step: number; buffers: string[] } | null> };
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
  const names = model.namedParameters().map(([n]) => n);
  const state = new Map<string, Tensor>();
  const optState = trainer.optimizer.state.map((s, i) => {
    if (!s) return null;
    for (const [k, v] of Object.entries(s.buffers)) state.set(`optimizer.${names[i]}.${k}`, Tensor.from(v, [v.length]));
    return { step: s.step, buffers: Object.keys(s.buffers) };
  });
  trainer.carried.forEach((c, shard) => {
    if (c) for (const [k, v] of Object.entries(c)) state.set(`carried.${shard}.${k}`, (v as Variable).value);
  });
  const meta: LmMeta = {
    task: TASK, writtenBy: info.writtenBy, model: model.config, vocabulary: vocabulary.toJSON(), corpus: info.corpus,
    training: info.training, settings: info.settings ?? {}, progress: trainer.progress, rng: trainer.rng,
    optimizer: { ...trainer.optimizer, state: optState },
  };
  return saveCheckpoint(dir, name, { meta: meta as unknown as Record<string, unknown>, weights: model.stateDict(), state });
}

/** The model and vocabulary of a checkpoint, ready to sample or score. */
export function loadLanguageModel(path: string): LmCheckpoint & { loaded: LoadedCheckpoint } {
  const loaded = loadCheckpoint(path);
  const where = `checkpoint '${loaded.path}'`;
  const meta = loaded.meta as unknown as LmMeta;
  if (meta.task !== TASK) throw new DataError(expected(where, `a ${TASK} checkpoint`, `task '${String(meta.task)}'`));
  try {
    const vocabulary = Vocabulary.fromJSON(meta.vocabulary);
    const config = validateConfig(meta.model, `${where}: model`);
    if (vocabulary.size !== config.vocab) throw new DataError(expected(where, `a vocabulary of ${config.vocab} tokens, as the model's`, vocabulary.size));
    const model = new LanguageModel(config);
    model.loadStateDict(loaded.weights);
    return { model, vocabulary, meta, path: loaded.path, loaded };
  } catch (e) {
    if (e instanceof BpttError && !e.message.startsWith(where)) throw new DataError(`${where}: ${e.message}`);
    throw e;
  }
}

/** The trainer state saved with a checkpoint (for --resume). */
export function trainerStateOf(ckpt: LmCheckpoint & { loaded: LoadedCheckpoint }): TrainerState {
  const where = `checkpoint '${ckpt.path}'`;
  const tensors = ckpt.loaded.state;
  if (!tensors) throw new DataError(expected(where, 'training state (optimiser moments, carried states) to resume from', 'weights only'));
  const names = ckpt.model.namedParameters().map(([n]) => n);
  const get = (key: string): Tensor => {
    const t = tensors.get(key);
    if (!t) throw new DataError(expected(where, `a state tensor '${key}'`, 'none'));
    return t;
  };
  const m = ckpt.meta;
  const optimizer: OptimizerStateDict = {
    ...m.optimizer,
    state: m.optimizer.state.map((s, i) => s && { step: s.step, buffers: Object.fromEntries(s.buffers.map((b) => [b, Array.from(get(`optimizer.${names[i]}.${b}`).data)])) }),
  };
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
