/** Messages between the page (main.ts) and the training worker (worker.ts). */

export type StrategySpec = { kind: 'full' } | { kind: 'truncated'; k1: number; k2: number };

export interface LmSettings {
  task: 'lm';
  text: string;
  cell: 'rnn' | 'lstm' | 'gru';
  hidden: number;
  layers: number;
  strategy: StrategySpec;
  seqLen: number;
  batch: number;
  lr: number;
  seed: number;
}

export interface AddingSettings {
  task: 'adding';
  /** sequence length */
  steps: number;
  hidden: number;
  batch: number;
  lr: number;
  seed: number;
}

export type ToWorker = { type: 'start'; settings: LmSettings | AddingSettings } | { type: 'stop' };

/** One model's progress since the last message: losses per update and the gradient flow of its last update. */
export interface ModelProgress {
  /** 'lm', or the adding problem's cell: 'rnn', 'lstm' */
  model: string;
  updates: number[];
  losses: number[];
  gradNorm: number;
  clipped: number;
  /** log10 ||dL/dh_t|| per layer for the last update (null: not reached) */
  flow: Record<string, Array<number | null>>;
  flowUpdate: number;
}

export type FromWorker =
  | { type: 'ready'; backend: string }
  | { type: 'started'; description: string }
  | { type: 'progress'; models: ModelProgress[]; tokensPerSecond: number }
  | { type: 'sample'; update: number; text: string }
  | { type: 'stopped' }
  | { type: 'error'; message: string };
