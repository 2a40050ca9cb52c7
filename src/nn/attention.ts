import {
  addAtEveryStep, batchedDot, concat, dotAttentionAll, linear, maskedSoftmax, reshape, slice, tanh, transpose01,
  weightedSum, type Variable,
} from '../autograd/index.js';
import {
  ConfigError, Rng, ShapeError, expected, quoted, rejectUnknownOptions, requireDType, requirePositiveInt, show,
  type DType,
} from '../tensor/index.js';
import { Linear } from './linear.js';
import { Module } from './module.js';

export type AttentionKind = 'dot' | 'general' | 'additive';

export interface AttentionConfig {
  kind: AttentionKind;
  /** size of the decoder state that asks (Dq) */
  queryDim: number;
  /** size of each encoder output attended to (Dk) */
  keyDim: number;
  /** hidden size of the additive scorer (default keyDim); only for 'additive' */
  attnDim?: number;
  seed?: number;
  dtype?: DType;
}

/** The encoder outputs with whatever can be computed once per source sequence. */
export interface AttentionMemory {
  /** [S, B, Dk] */
  keys: Variable;
  /** W_k k [S, B, attnDim] for 'additive', otherwise null */
  projectedKeys: Variable | null;
}

export interface AttentionResult {
  /** Σ_s weights[b, s]·keys[s, b, :], [B, Dk] */
  context: Variable;
  /** softmax over source steps, [B, S]; exactly 0 at padded steps */
  weights: Variable;
}

const KINDS: readonly AttentionKind[] = ['dot', 'general', 'additive'];

/**
 * Global attention over time-major encoder outputs, scored as
 * - dot (Luong):      score = q·k                              (Dq = Dk)
 * - general (Luong):  score = (W_in q)·k                       `linear_in.weight` [Dk, Dq], no bias
 * - additive (Bahdanau): score = v·tanh(W_q q + b_q + W_k k)   `query_proj.weight` [A, Dq], `query_proj.bias` [A],
 *                                                              `key_proj.weight` [A, Dk], `v.weight` [1, A]
 * Names and layout follow OpenNMT-py's GlobalAttention (renamed for additive).
 * Initialisation is PyTorch's Linear default, U(±1/√in).
 */
export class Attention extends Module {
  readonly kind: AttentionKind;
  readonly queryDim: number;
  readonly keyDim: number;
  readonly attnDim: number | null;
  private readonly linearIn: Linear | null = null;
  private readonly queryProj: Linear | null = null;
  private readonly keyProj: Linear | null = null;
  private readonly v: Linear | null = null;

  constructor(config: AttentionConfig) {
    super();
    rejectUnknownOptions('Attention', config, ['kind', 'queryDim', 'keyDim', 'attnDim', 'seed', 'dtype']);
    if (!KINDS.includes(config.kind)) {
      throw new ConfigError(expected('Attention', `kind among ${KINDS.join(', ')}`, quoted(config.kind)));
    }
    this.kind = config.kind;
    this.queryDim = requirePositiveInt('Attention', 'queryDim', config.queryDim);
    this.keyDim = requirePositiveInt('Attention', 'keyDim', config.keyDim);
    if (this.kind === 'dot' && this.queryDim !== this.keyDim) {
      throw new ConfigError(expected('Attention', "queryDim = keyDim for kind 'dot'", `${this.queryDim} and ${this.keyDim}`, "use 'general' to score different sizes"));
    }
    if (this.kind !== 'additive' && config.attnDim !== undefined) {
      throw new ConfigError(expected('Attention', "attnDim only with kind 'additive'",
        `attnDim ${show(config.attnDim)} with '${this.kind}'`));
    }
    const rng = new Rng(config.seed ?? 0);
    const dtype = requireDType('Attention', config.dtype, 'float32');
    this.attnDim = this.kind === 'additive' ? requirePositiveInt('Attention', 'attnDim', config.attnDim ?? this.keyDim) : null;
    if (this.kind === 'general') {
      this.linearIn = this.addModule('linear_in', new Linear(this.queryDim, this.keyDim, { bias: false, rng, dtype }));
    }
    if (this.attnDim !== null) {
      this.queryProj = this.addModule('query_proj', new Linear(this.queryDim, this.attnDim, { rng, dtype }));
      this.keyProj = this.addModule('key_proj', new Linear(this.keyDim, this.attnDim, { bias: false, rng, dtype }));
      this.v = this.addModule('v', new Linear(this.attnDim, 1, { bias: false, rng, dtype }));
    }
  }

  /** Once per source sequence: checks the keys and, for additive, projects them (W_k k). */
  precompute(keys: Variable): AttentionMemory {
    if (keys.shape.length !== 3 || keys.shape[2] !== this.keyDim) {
      throw new ShapeError(expected('Attention', `keys [S, B, ${this.keyDim}] (time-major encoder outputs)`, `[${keys.shape.join(', ')}]`));
    }
    return { keys, projectedKeys: this.keyProj ? this.keyProj.forward(keys) : null };
  }

  /** One decoder step: query [B, Dq] against the memory; `lengths[b]` valid source steps of row b. */
  attend(query: Variable, memory: AttentionMemory, lengths?: ArrayLike<number>): AttentionResult {
    const { keys } = memory;
    const B = keys.shape[1]!;
    if (query.shape.length !== 2 || query.shape[0] !== B || query.shape[1] !== this.queryDim) {
      throw new ShapeError(expected('Attention', `query [${B}, ${this.queryDim}] (batch of the keys, queryDim)`, `[${query.shape.join(', ')}]`));
    }
    const weights = maskedSoftmax(this.scores(query, memory), lengths);
    return { context: weightedSum(weights, keys), weights };
  }

  /**
   * Every decoder step at once, when all queries are known (teacher forcing
   * without input feeding): queries [T, B, Dq] → context [T, B, Dk] and weights
   * [T, B, S]. The same values as T calls of `attend`; dot and general scores
   * run as small GEMMs per batch row.
   */
  attendAll(queries: Variable, memory: AttentionMemory, lengths?: ArrayLike<number>): AttentionResult {
    const { keys } = memory;
    const [T, B] = queries.shape as [number, number];
    if (queries.shape.length !== 3 || B !== keys.shape[1] || queries.shape[2] !== this.queryDim) {
      throw new ShapeError(expected('Attention', `queries [T, ${keys.shape[1]}, ${this.queryDim}] (batch of the keys, queryDim)`, `[${queries.shape.join(', ')}]`));
    }
    if (this.kind === 'dot') return dotAttentionAll(queries, keys, lengths);
    if (this.linearIn) return dotAttentionAll(this.linearIn.forward(queries), keys, lengths);
    const steps = Array.from({ length: T }, (_, t) => this.attend(reshape(slice(queries, 0, t, t + 1), [B, this.queryDim]), memory, lengths));
    const S = keys.shape[0]!;
    return {
      context: concat(steps.map((r) => reshape(r.context, [1, B, this.keyDim])), 0),
      weights: concat(steps.map((r) => reshape(r.weights, [1, B, S])), 0),
    };
  }

  /** precompute + attend, for a single step or when nothing is reused. */
  forward(query: Variable, keys: Variable, lengths?: ArrayLike<number>): AttentionResult {
    return this.attend(query, this.precompute(keys), lengths);
  }

  /** Unnormalised scores [B, S]. */
  private scores(query: Variable, { keys, projectedKeys }: AttentionMemory): Variable {
    if (this.kind === 'dot') return batchedDot(query, keys);
    if (this.linearIn) return batchedDot(this.linearIn.forward(query), keys);
    const [S, B] = keys.shape as [number, number];
    const hidden = tanh(addAtEveryStep(projectedKeys!, this.queryProj!.forward(query))); // [S, B, A]
    const perStep = reshape(linear(hidden, this.v!.weight, null), [S, B]); // v·hidden
    return transpose01(perStep);
  }
}
