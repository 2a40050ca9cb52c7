/**
 * The run format's types (browser-safe): the metadata every task's checkpoint
 * lays out alike, and the codec through which a task takes part in it. Files
 * are written and read by training/node/run-files.ts.
 */
import type { Variable } from '../autograd/index.js';
import type { PackedOptimizer } from '../io/trainer-state.js';
import type { Trainable } from './runner.js';
import type { RunProgress } from './state.js';

export const RUN_FORMAT = 1;

/** A data source of a run: the flag that named it (or 'bundled'), its name, and its content's hash. */
export interface DataSource {
  role: string;
  name: string;
  sha256: string;
}

export interface RunMeta<C = Record<string, unknown>> {
  run: typeof RUN_FORMAT;
  task: string;
  writtenBy: string;
  model: C;
  extra: Record<string, unknown>;
  data: DataSource[];
  settings: Record<string, unknown>;
  trainer: { progress: RunProgress; data: unknown; optimizer: PackedOptimizer } | null;
}

export interface NamedModel extends Trainable {
  namedParameters(): Array<[string, Variable]>;
}

/** What a task contributes to the run format. */
export interface TaskCodec<C, M extends NamedModel> {
  task: string;
  /** checks a saved config (throwing a BpttError) */
  config(saved: unknown, where: string): C;
  /** the weights a config implies, counted without building the model */
  parameterCount(config: C, extra: Record<string, unknown>): number;
  /** the model of a config and the task's extra (vocabulary, scaling): checks the extra */
  build(config: C, extra: Record<string, unknown>, where: string): M;
  /** a checkpoint of this task written before the run format, as one (or null if `meta` is not one) */
  legacy?(meta: Record<string, unknown>, where: string): Omit<RunMeta<C>, 'run'> | null;
}

