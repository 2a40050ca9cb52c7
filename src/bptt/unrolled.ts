import type { Variable } from '../autograd/index.js';

/** What a model returns for steps [from, to) of a batch. */
export interface Unrolled<S> {
  /** the state after step to - 1 */
  state: S;
  /** the summed loss over these steps' targets (null when not asked for, or no targets) */
  loss: Variable | null;
  /** how many targets the summed loss counts */
  terms: number;
}

/**
 * A model the engine can unroll: it runs any stretch of a batch from a given
 * state. The engine decides where stretches start and end and where the tape
 * is cut; the model never loops over windows itself.
 */
export interface Unrollable<B, S> {
  steps(batch: B): number;
  /**
   * Runs steps [from, to) from `state` (null: the model's zero state). Must be deterministic for the
   * checkpointed strategy.
   */
  unroll(batch: B, from: number, to: number, state: S | null, wantLoss: boolean): Unrolled<S>;
}
