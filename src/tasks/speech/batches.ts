/** Padded batches of utterances of similar length. Browser-safe. */
import { checkRngState, isCount, isObject } from '../../io/trainer-state.js';
import { ConfigError, DataError, Rng, expected, show } from '../../tensor/index.js';
import type { Batches as RunBatches, Drawn } from '../../training/index.js';
import type { Utterance } from './features.js';
import type { SpeechBatch } from './model.js';

/** batches in a pool sorted by length */
const POOL = 32;

/** A transcribed utterance: its cached model input and its digits (0..9). */
export interface Example {
  input: Utterance;
  digits: number[];
}

/** Utterances `ids` as one time-major batch [T, B, dim], zero-padded to the longest. */
export function makeBatch(inputs: readonly Utterance[], digits: readonly (readonly number[])[] | null): SpeechBatch {
  if (inputs.length === 0) throw new ConfigError(expected('makeBatch', 'at least one utterance', 0));
  const dim = inputs[0]!.dim;
  const B = inputs.length;
  const T = Math.max(...inputs.map((u) => u.steps));
  const data = new Float32Array(T * B * dim);
  inputs.forEach((u, b) => {
    if (u.dim !== dim) {
      const want = `${dim} inputs per step in every utterance`;
      throw new ConfigError(expected('makeBatch', want, `${u.dim} in utterance ${b}`));
    }
    for (let t = 0; t < u.steps; t++) data.set(u.data.subarray(t * dim, (t + 1) * dim), (t * B + b) * dim);
  });
  const targets = digits ? digits.map((d) => [...d]) : null;
  return { steps: T, batch: B, dim, inputs: data, lengths: inputs.map((u) => u.steps), targets };
}

/**
 * Where the batch order stands, for a checkpoint: the generator as it was
 * before the current epoch was drawn (so the epoch's order is drawn again on
 * resume rather than stored), and the epochs and batches handed out.
 */
export interface BatchesState {
  rng: number[];
  epochs: number;
  /** batches handed out in the current epoch (0: none drawn yet) */
  at: number;
}

/**
 * Endless shuffled batches of similar length (little padding): every epoch
 * the examples are shuffled, cut into pools of 32 batches, each pool sorted
 * by length and cut into batches, and the batches shuffled. Each batch carries
 * the seed of its dropout masks, drawn with the epoch's order (so a resumed run
 * and every data-parallel shard draw the same masks).
 */
export class Batches implements RunBatches<SpeechBatch> {
  private queue: number[][] = [];
  private epochs = 0;
  /** batches handed out in the current epoch */
  private at = 0;
  private noise = 0;
  readonly batchesPerEpoch: number;
  /** the generator before the current epoch's order was drawn (null before the first) */
  private epochStart: number[] | null = null;

  constructor(private readonly examples: readonly Example[], private readonly size: number, private readonly rng: Rng) {
    if (examples.length === 0) throw new ConfigError(expected('Batches', 'at least one training utterance', 0));
    if (!(Number.isInteger(size) && size >= 1)) {
      throw new ConfigError(expected('Batches', 'a batch size >= 1', show(size)));
    }
    const pool = size * POOL;
    this.batchesPerEpoch = Math.floor(examples.length / pool) * POOL + Math.ceil((examples.length % pool) / size);
  }

  /** Epochs so far, with the fraction of the current one. */
  get epoch(): number {
    return this.epochs + this.at / this.batchesPerEpoch;
  }

  next(): Drawn<SpeechBatch> {
    if (this.queue.length === 0) {
      if (this.epochStart) this.epochs++;
      this.refill();
    }
    const ids = this.queue.pop()!;
    const noiseSeed = (this.noise + this.at++ * 0x9e3779b1) >>> 0;
    const batch = makeBatch(ids.map((i) => this.examples[i]!.input), ids.map((i) => this.examples[i]!.digits));
    return { batch: { ...batch, noiseSeed }, items: ids.length };
  }

  /** Where the order stands (see BatchesState). */
  getState(): BatchesState {
    return { rng: this.epochStart ?? this.rng.getState(), epochs: this.epochs, at: this.at };
  }

  /** Continues from `getState()` of batches over the same examples: the epoch's order drawn again, `at` dropped. */
  setState(state: unknown): void {
    const where = 'speech batches: setState';
    const s = state as BatchesState;
    if (!isObject(s) || !isCount(s.epochs) || !isCount(s.at)) {
      throw new DataError(expected(where, 'the batch order: { rng, epochs, at }', show(state)));
    }
    if (s.at === 0 && s.epochs > 0) {
      throw new DataError(expected(where, 'no epochs done before the first batch', `${s.epochs} epochs`));
    }
    if (s.at > this.batchesPerEpoch) {
      const most = `at most ${this.batchesPerEpoch} batches handed out in an epoch`;
      throw new DataError(expected(where, most, show(s.at)));
    }
    this.rng.setState(checkRngState(where, 'rng', s.rng));
    this.epochs = s.epochs;
    this.queue = [];
    this.at = 0;
    this.epochStart = null;
    if (s.at === 0) return;
    this.refill();
    this.queue.length -= s.at; // next() pops from the end
    this.at = s.at;
  }

  private refill(): void {
    this.epochStart = this.rng.getState();
    const order = this.rng.shuffle(Array.from(this.examples, (_, i) => i));
    const pool = this.size * POOL;
    const batches: number[][] = [];
    for (let p = 0; p < order.length; p += pool) {
      const steps = (i: number): number => this.examples[i]!.input.steps;
      const part = order.slice(p, p + pool).sort((a, b) => steps(a) - steps(b));
      for (let i = 0; i < part.length; i += this.size) batches.push(part.slice(i, i + this.size));
    }
    this.queue = this.rng.shuffle(batches);
    this.noise = this.rng.nextU32();
    this.at = 0;
  }
}

/** Indices of examples in groups of at most `size`, sorted by length (evaluation: little padding, no randomness). */
export function lengthGroups(inputs: readonly Utterance[], size: number): number[][] {
  const order = Array.from(inputs, (_, i) => i).sort((a, b) => inputs[a]!.steps - inputs[b]!.steps);
  const groups: number[][] = [];
  for (let i = 0; i < order.length; i += size) groups.push(order.slice(i, i + size));
  return groups;
}
