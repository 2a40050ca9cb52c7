/**
 * One run format for every task (Node). A checkpoint is the `bptt-checkpoint`
 * container of io/checkpoint-files.ts whose metadata is laid out alike for
 * every task:
 *
 *   { run: 1, task, writtenBy, model: <config>, extra: <the task's own: vocabulary, scaling, ...>,
 *     data: [{ role: '--text', name: '/abs/path' | 'moby-dick', sha256 }], settings: <the run's options>,
 *     trainer: { progress, data, optimizer } | null }
 *
 * The weights are the model's; the state tensors hold the optimiser's moments
 * (`optimizer.<parameter>.<buffer>`), the carried states (`carried.<thread>.<h|c>`)
 * and the best validated weights (`best.<parameter>`), so --resume continues
 * exactly. best.json holds the best validated weights for use, in every task.
 * Each task contributes a codec: how its config is checked, how many weights it
 * implies, how the model is built, and how its older checkpoints are read.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { Variable } from '../../autograd/index.js';
import {
  checkParameterCount, loadCheckpoint, saveCheckpoint, type LoadedCheckpoint,
} from '../../io/node/checkpoint-files.js';
import { badMeta, isObject, packOptimizer, unpackOptimizer } from '../../io/trainer-state.js';
import { BpttError, DataError, Tensor, expected, quoted } from '../../tensor/index.js';
import { RUN_FORMAT, type DataSource, type NamedModel, type RunMeta, type TaskCodec } from '../run-format.js';
import { checkProgress, type RunState } from '../state.js';

/** A data source as a run records it: a file named by `role` (its absolute path), or a bundled data set. */
export function dataSource(role: string, name: string, content: string | Uint8Array): DataSource {
  const sha256 = createHash('sha256').update(content).digest('hex');
  return { role, name: role.startsWith('--') ? resolve(name) : name, sha256 };
}

export interface RunContent<C, M extends NamedModel> {
  model: M;
  config: C;
  extra: Record<string, unknown>;
  data: DataSource[];
  settings: Record<string, unknown>;
  writtenBy: string;
  /** null: weights only (no --resume from it) */
  state: RunState<Record<string, Variable>> | null;
  bestWeights?: ReadonlyMap<string, Tensor> | null;
}

/** Saves a run as checkpoint `name` (best, last) in `dir`; returns the manifest's path. */
export function saveRun<C, M extends NamedModel>(dir: string, name: string, codec: TaskCodec<C, M>,
  c: RunContent<C, M>): string {
  const tensors = new Map<string, Tensor>();
  let trainer: RunMeta['trainer'] = null;
  if (c.state) {
    const optimizer = packOptimizer(c.state.optimizer, c.model.namedParameters(), tensors);
    c.state.carried.forEach((s, thread) => {
      if (s) for (const [k, v] of Object.entries(s)) tensors.set(`carried.${thread}.${k}`, v.value);
    });
    for (const [k, t] of c.bestWeights ?? []) tensors.set(`best.${k}`, t);
    trainer = { progress: c.state.progress, data: c.state.data, optimizer };
  }
  const meta: RunMeta<C> = {
    run: RUN_FORMAT, task: codec.task, writtenBy: c.writtenBy, model: c.config, extra: c.extra, data: c.data,
    settings: c.settings, trainer,
  };
  return saveCheckpoint(dir, name, {
    meta: meta as unknown as Record<string, unknown>, weights: c.model.stateDict(), state: c.state ? tensors : null,
  });
}

export interface LoadedRun<C, M extends NamedModel> {
  model: M;
  meta: RunMeta<C>;
  path: string;
  loaded: LoadedCheckpoint;
}

/** A run's model, ready to use (checks the task, the config, the extra and every weight). */
export function loadRun<C, M extends NamedModel>(path: string, codec: TaskCodec<C, M>): LoadedRun<C, M> {
  let meta: RunMeta<C> | null = null;
  const count = (raw: Record<string, unknown>): number | undefined => {
    meta = metaOf(raw, codec, `checkpoint '${path}'`);
    return codec.parameterCount(meta.model, meta.extra);
  };
  const loaded = loadCheckpoint(path, { parameterCount: count });
  const where = `checkpoint '${loaded.path}'`;
  try {
    meta ??= metaOf(loaded.meta, codec, where);
    // counted before the model is built: a hand-edited size must not allocate gigabytes first
    checkParameterCount(where, codec.parameterCount(meta.model, meta.extra), loaded.weights);
    const model = codec.build(meta.model, meta.extra, where);
    model.loadStateDict(loaded.weights);
    return { model, meta, path: loaded.path, loaded };
  } catch (e) {
    if (e instanceof BpttError && !e.message.startsWith(where)) throw new DataError(`${where}: ${e.message}`);
    throw e;
  }
}

/** The metadata of a run of `codec`'s task, or of one of its older checkpoints, read as a run. */
function metaOf<C, M extends NamedModel>(raw: Record<string, unknown>, codec: TaskCodec<C, M>, where: string):
  RunMeta<C> {
  if (raw.run === undefined) {
    const old = codec.legacy?.(raw, where);
    if (!old) throw wrongTask(where, codec.task, raw.task);
    return { run: RUN_FORMAT, ...old, model: codec.config(old.model, `${where}: meta.model`) };
  }
  if (raw.run !== RUN_FORMAT) badMeta(where, 'run', `run format ${RUN_FORMAT}`, raw.run);
  if (raw.task !== codec.task) {
    throw wrongTask(where, codec.task, raw.task);
  }
  for (const k of ['extra', 'settings'] as const) if (!isObject(raw[k])) badMeta(where, k, 'an object', raw[k]);
  if (!Array.isArray(raw.data) || !raw.data.every(isSource)) {
    badMeta(where, 'data', 'a list of { role, name, sha256 }', raw.data);
  }
  const meta = raw as unknown as RunMeta<C>;
  return { ...meta, model: codec.config(raw.model, `${where}: meta.model`) };
}

function isSource(x: unknown): x is DataSource {
  return isObject(x) && typeof x.role === 'string' && typeof x.name === 'string' && typeof x.sha256 === 'string';
}

/** The trainer state of a loaded run and its best weights (for `Trainer.restore`). */
export function runStateOf<C, M extends NamedModel>(run: LoadedRun<C, M>): {
  state: RunState<Record<string, Variable>>; bestWeights: Map<string, Tensor> | null; } {
  const where = `checkpoint '${run.path}'`;
  const tensors = run.loaded.state;
  const t = run.meta.trainer;
  if (!tensors || !t) {
    const legacy = run.loaded.meta.run === undefined;
    throw new DataError(expected(where, 'a training state to resume from (written by this version of bptt)',
      legacy ? 'a checkpoint of the format before it (it loads for use, not to resume)' : 'weights only'));
  }
  if (!isObject(t)) badMeta(where, 'trainer', 'an object', t);
  const progress = checkProgress(`${where}: meta.trainer`, t.progress);
  const named = run.model.namedParameters();
  const optimizer = unpackOptimizer(where, t.optimizer, tensors, named, 'trainer.optimizer');
  const threads = new Map<number, Record<string, Variable>>();
  for (const [key, value] of tensors) {
    const hit = /^carried\.(\d+)\.(\w+)$/.exec(key);
    if (hit) threads.set(Number(hit[1]), { ...threads.get(Number(hit[1])), [hit[2]!]: new Variable(value, false) });
  }
  const carried = Array.from({ length: threads.size }, (_, i) => threads.get(i) ?? null);
  if (carried.some((s) => s === null)) {
    badMeta(where, 'state', 'carried states numbered 0, 1, ...', [...threads.keys()]);
  }
  const best = new Map(named.flatMap(([k]) => (tensors.has(`best.${k}`) ? [[k, tensors.get(`best.${k}`)!]] : [])));
  if (!progress.best !== (best.size === 0) || (best.size && best.size !== named.length)) {
    badMeta(where, 'trainer.progress.best', `a best validation exactly when the ${named.length} best weights are saved`,
      progress.best);
  }
  return { state: { progress, data: t.data, optimizer, carried }, bestWeights: best.size ? best : null };
}

/** A checkpoint of another task: 'expected an lm checkpoint', 'a forecast checkpoint'. */
function wrongTask(where: string, task: string, got: unknown): DataError {
  const article = /^([aeiou]|lm)/.test(task) ? 'an' : 'a';
  return new DataError(expected(where, `${article} ${task} checkpoint`, `task ${quoted(String(got))}`));
}
