import { concat, constant, dropout, noGrad, reshape, slice, tanh, type Variable } from '../../autograd/index.js';
import type { Unrolled } from '../../bptt/index.js';
import { crossEntropy } from '../../losses/index.js';
import {
  Attention, Dropout, Embedding, GRU, LSTM, Linear, Module, rejectUnknownOptions, requirePositiveInt,
  type AttentionKind, type AttentionMemory, type Recurrent,
} from '../../nn/index.js';
import {
  ConfigError, Rng, expected, quoted, requireBoolean, requireDType, show, textOf, type DType,
} from '../../tensor/index.js';

/** Everything needed to rebuild the model (saved with every checkpoint). */
export interface Seq2SeqConfig {
  cell: 'lstm' | 'gru';
  sourceVocab: number;
  targetVocab: number;
  embed: number;
  /** the decoder's state size; a bidirectional encoder has hidden/2 per direction, so its outputs are `hidden` wide too */
  hidden: number;
  /** encoder and decoder layers (the encoder's final state of layer l starts the decoder's layer l) */
  layers: number;
  bidirectional: boolean;
  attention: AttentionKind;
  /**
   * feed the previous attentional state h̃_{t-1} into the decoder's first layer with the previous token
   * (Luong et al. 2015). Without it, teacher-forced training runs the decoder over the whole target as
   * one fused sequence op (about twice as fast); with it, the decoder must go step by step.
   */
  inputFeeding: boolean;
  /** on embeddings, between layers and before the generator */
  dropout: number;
  /** one embedding table for source and target (the vocabularies must be the same) */
  shareEmbeddings: boolean;
  seed: number;
}

const KNOWN: readonly (keyof Seq2SeqConfig)[] = [
  'cell', 'sourceVocab', 'targetVocab', 'embed', 'hidden', 'layers', 'bidirectional', 'attention', 'inputFeeding', 'dropout', 'shareEmbeddings', 'seed',
];

export function validateSeq2SeqConfig(c: Seq2SeqConfig, where = 'Seq2Seq'): Seq2SeqConfig {
  if (!c || typeof c !== 'object') throw new ConfigError(expected(where, 'a config object', textOf(c)));
  rejectUnknownOptions(where, c, KNOWN);
  for (const k of KNOWN) if (c[k] === undefined) throw new ConfigError(expected(where, `a value for '${k}'`, 'none'));
  if (c.cell !== 'lstm' && c.cell !== 'gru') {
    throw new ConfigError(expected(where, "cell 'lstm' or 'gru'", quoted(c.cell)));
  }
  for (const k of ['sourceVocab', 'targetVocab', 'embed', 'hidden', 'layers'] as const) requirePositiveInt(where, k, c[k]);
  for (const k of ['bidirectional', 'inputFeeding', 'shareEmbeddings'] as const) requireBoolean(where, k, c[k]);
  if (c.bidirectional && c.hidden % 2 !== 0) {
    throw new ConfigError(expected(where, 'an even hidden size with a bidirectional encoder (hidden/2 per direction)',
      show(c.hidden)));
  }
  if (!['dot', 'general', 'additive'].includes(c.attention)) {
    throw new ConfigError(expected(where, "attention 'dot', 'general' or 'additive'", quoted(c.attention)));
  }
  if (!(typeof c.dropout === 'number' && c.dropout >= 0 && c.dropout < 1)) {
    throw new ConfigError(expected(where, 'dropout in [0, 1)', show(c.dropout)));
  }
  if (c.shareEmbeddings && c.sourceVocab !== c.targetVocab) {
    throw new ConfigError(expected(where, 'the same source and target vocabulary to share embeddings', `${c.sourceVocab} and ${c.targetVocab}`));
  }
  if (!Number.isInteger(c.seed)) throw new ConfigError(expected(where, 'an integer seed', show(c.seed)));
  return c;
}

/** One decoder layer's state, [B, H] each. */
export interface LayerState {
  h: Variable;
  c?: Variable;
}

/** The decoder between steps: a state per layer and the attentional state h̃ fed to the next step. */
export interface DecoderState {
  layers: LayerState[];
  /** h̃_{t-1} [B, H] */
  feed: Variable;
}

/** What the decoder attends to: the encoder outputs and each row's source length. */
export interface Encoded {
  memory: AttentionMemory;
  lengths: Int32Array;
  initial: DecoderState;
}

/** A padded batch of pairs, time-major. */
export interface PairBatch {
  batch: number;
  /** [S·B] source ids (padding: any id, masked by lengths) */
  source: Int32Array;
  sourceSteps: number;
  sourceLengths: Int32Array;
  /** [T·B] decoder inputs: <s> then the target; [T·B] outputs: the target then </s>, padding -100 */
  decoderInputs: Int32Array;
  decoderTargets: Int32Array;
  targetSteps: number;
  /** target tokens counted by the loss */
  terms: number;
  /** seed of this batch's dropout masks and sampling draws (training) */
  noiseSeed?: number;
  /** scheduled sampling: the probability of feeding the model's own previous output */
  samplingP?: number;
}

export interface StepResult {
  state: DecoderState;
  /** [B, V] */
  logits: Variable;
  /** [B, S] */
  attention: Variable;
}

/**
 * Encoder–decoder with global attention (Luong et al. 2015; Bahdanau et al.
 * 2015's additive scorer as an option), in OpenNMT-py's arrangement:
 *
 *   encoder:  (bi)LSTM/GRU over the source embeddings, outputs m_s [S, B, H]
 *   decoder:  h_t = cell(h_{t-1}, [emb(y_{t-1}); h̃_{t-1}])   (input feeding)
 *             c_t = Σ_s softmax_s(score(h_t, m_s))·m_s
 *             h̃_t = tanh(W_out [c_t; h_t])
 *             p(y_t | y_<t, x) = softmax(W_gen h̃_t + b_gen)
 *
 * The decoder's layer l starts from the encoder's final state of layer l
 * (both directions joined). Training sends the error of every output step back
 * through the generator, h̃, the attention and the decoder steps into every
 * encoder step. Encoder and decoder are `nn.LSTM`/`nn.GRU` stacks with
 * PyTorch's parameter names (`encoder.weight_ih_l0_reverse`, `decoder.weight_hh_l1`, …).
 */
export class Seq2Seq extends Module {
  readonly config: Seq2SeqConfig;
  readonly sourceEmbedding: Embedding;
  readonly targetEmbedding: Embedding;
  readonly encoder: Recurrent;
  readonly decoder: Recurrent;
  readonly attention: Attention;
  readonly linearOut: Linear;
  readonly generator: Linear;
  readonly drop: Dropout;

  constructor(config: Seq2SeqConfig, dtype: DType = 'float32') {
    super();
    const c = (this.config = validateSeq2SeqConfig({ ...config }));
    requireDType('Seq2Seq', dtype);
    const rng = new Rng(c.seed);
    const H = c.hidden;
    this.sourceEmbedding = this.addModule('source_embedding', new Embedding(c.sourceVocab, c.embed, { rng: rng.split(), dtype }));
    this.targetEmbedding = c.shareEmbeddings ? this.sourceEmbedding : this.addModule('target_embedding', new Embedding(c.targetVocab, c.embed, { rng: rng.split(), dtype }));
    const enc = {
      inputSize: c.embed, hiddenSize: c.bidirectional ? H / 2 : H, numLayers: c.layers, bidirectional: c.bidirectional,
      dropout: c.layers > 1 ? c.dropout : 0, rng: rng.split(), dtype,
    };
    this.encoder = this.addModule('encoder', c.cell === 'lstm' ? new LSTM(enc) : new GRU(enc));
    const dec = { inputSize: c.embed + (c.inputFeeding ? H : 0), hiddenSize: H, numLayers: c.layers, dropout: c.layers > 1 ? c.dropout : 0, rng: rng.split(), dtype };
    this.decoder = this.addModule('decoder', c.cell === 'lstm' ? new LSTM(dec) : new GRU(dec));
    this.attention = this.addModule('attention', new Attention({ kind: c.attention, queryDim: H, keyDim: H, seed: rng.int(2 ** 31), dtype }));
    this.linearOut = this.addModule('linear_out', new Linear(2 * H, H, { bias: false, rng: rng.split(), dtype }));
    this.generator = this.addModule('generator', new Linear(H, c.targetVocab, { rng: rng.split(), dtype }));
    this.drop = this.addModule('drop', new Dropout(c.dropout, rng.split()));
  }

  /** Runs the encoder over source ids [S·B] (time-major) and prepares the decoder's start. */
  encode(source: ArrayLike<number>, steps: number, lengths: Int32Array): Encoded {
    const B = lengths.length;
    const x = this.drop.forward(this.sourceEmbedding.forward(source, [steps, B]));
    const { output, state } = this.encoder.forward(x, undefined, { lengths });
    const join = (v: Variable): Variable[] => {
      const D = this.config.bidirectional ? 2 : 1;
      const Hd = v.shape[2]!;
      return Array.from({ length: this.config.layers }, (_, l) => {
        const parts = Array.from({ length: D }, (_, d) => reshape(slice(v, 0, l * D + d, l * D + d + 1), [B, Hd]));
        return parts.length === 1 ? parts[0]! : concat(parts, 1);
      });
    };
    const hs = join(state.h);
    const cs = 'c' in state ? join(state.c as Variable) : null;
    const layers = hs.map((h, l) => (cs ? { h, c: cs[l]! } : { h }));
    const feed = constant(new Float32Array(B * this.config.hidden), [B, this.config.hidden], output);
    return { memory: this.attention.precompute(output), lengths, initial: { layers, feed } };
  }

  /** One decoder step from the previous tokens [B]: the next state, h̃ and the attention weights. */
  step(tokens: ArrayLike<number>, state: DecoderState, enc: Encoded): { state: DecoderState; attention: Variable } {
    const B = tokens.length;
    const emb = this.drop.forward(this.targetEmbedding.forward(tokens, [B]));
    let input = this.config.inputFeeding ? concat([emb, state.feed], 1) : emb;
    const layers: LayerState[] = [];
    for (let l = 0; l < this.config.layers; l++) {
      const prev = state.layers[l]!;
      const next = this.decoder.stepLayer(l, input, prev.h, prev.c ?? null);
      layers.push(next.c ? { h: next.h, c: next.c } : { h: next.h });
      input = l < this.config.layers - 1 ? this.betweenLayers(next.h) : next.h;
    }
    const top = input;
    const { context, weights } = this.attention.attend(top, enc.memory, enc.lengths);
    const feed = tanh(this.linearOut.forward(concat([context, top], 1)));
    return { state: { layers, feed }, attention: weights };
  }

  /** Restarts every dropout mask stream from `rng` (a batch's own masks, whichever thread trains it). */
  reseed(rng: Rng): void {
    this.drop.rng.setState(rng.split().getState());
    this.encoder.dropoutRng.setState(rng.split().getState());
    this.decoder.dropoutRng.setState(rng.split().getState());
  }

  /** The engine's view (`Unrollable`): a pair is one stretch, encoder and decoder unrolled together. */
  steps(): number {
    return 1;
  }

  unroll(b: PairBatch): Unrolled<null> {
    // Dropout masks and sampling draws from the batch's seed: each shard draws its own, reproducibly.
    const rng = new Rng(b.noiseSeed ?? 0);
    this.reseed(rng.split());
    const p = b.samplingP ?? 0;
    return { state: null, loss: this.loss(b, p > 0 ? { p, rng } : null), terms: b.terms };
  }

  /** Log-probability logits [.., V] of h̃. */
  logits(feed: Variable): Variable {
    return this.generator.forward(this.drop.forward(feed));
  }

  /**
   * Summed cross-entropy over the batch's target tokens with teacher forcing.
   * With `sampling` (scheduled sampling, Bengio et al. 2015), each row's input at
   * step t > 0 is, with probability `sampling.p`, the model's own greedy choice
   * at t - 1 instead of the reference token.
   */
  loss(b: PairBatch, sampling: { p: number; rng: Rng } | null = null): Variable {
    const fused = !this.config.inputFeeding && !(sampling && sampling.p > 0);
    return fused ? this.fusedLoss(b) : this.steppedLoss(b, sampling);
  }

  /** The loss computed step by step (what input feeding and scheduled sampling need; otherwise equal to the fused one). */
  steppedLoss(b: PairBatch, sampling: { p: number; rng: Rng } | null = null): Variable {
    const B = b.batch;
    const enc = this.encode(b.source, b.sourceSteps, b.sourceLengths);
    let state = enc.initial;
    const feeds: Variable[] = [];
    let tokens = b.decoderInputs.subarray(0, B);
    for (let t = 0; t < b.targetSteps; t++) {
      if (t > 0) tokens = sampling && sampling.p > 0 ? this.mixInputs(b, t, state.feed, sampling) : b.decoderInputs.subarray(t * B, (t + 1) * B);
      state = this.step(tokens, state, enc).state;
      feeds.push(reshape(state.feed, [1, B, this.config.hidden]));
    }
    return crossEntropy(this.logits(concat(feeds, 0)), b.decoderTargets, { reduction: 'sum' });
  }

  /**
   * Teacher forcing without input feeding: the decoder's inputs are all known,
   * so it runs over the whole target as one sequence op; attention and h̃ follow.
   * The same function as stepping, computed faster.
   */
  fusedLoss(b: PairBatch): Variable {
    if (this.config.inputFeeding) throw new ConfigError(expected('Seq2Seq.fusedLoss', 'a model without input feeding', 'inputFeeding true'));
    const B = b.batch, T = b.targetSteps, H = this.config.hidden;
    const enc = this.encode(b.source, b.sourceSteps, b.sourceLengths);
    const x = this.drop.forward(this.targetEmbedding.forward(b.decoderInputs, [T, B]));
    const stack = (vs: Variable[]) => concat(vs.map((v) => reshape(v, [1, B, H])), 0);
    const layers = enc.initial.layers;
    const initial = layers[0]!.c ? { h: stack(layers.map((l) => l.h)), c: stack(layers.map((l) => l.c!)) } : { h: stack(layers.map((l) => l.h)) };
    const { output } = this.decoder.forward(x, initial);
    const { context } = this.attention.attendAll(output, enc.memory, enc.lengths);
    const feeds = tanh(this.linearOut.forward(concat([context, output], 2)));
    return crossEntropy(this.logits(feeds), b.decoderTargets, { reduction: 'sum' });
  }

  /** Dropout between stacked decoder layers, as the sequence op applies it. */
  private betweenLayers(h: Variable): Variable {
    return this.decoder.training && this.config.dropout > 0 ? dropout(h, this.config.dropout, this.decoder.dropoutRng) : h;
  }

  /** Step t's inputs under scheduled sampling: the reference or, with probability p, the argmax of the last step. */
  private mixInputs(b: PairBatch, t: number, feed: Variable, { p, rng }: { p: number; rng: Rng }): Int32Array {
    const B = b.batch, V = this.config.targetVocab;
    const gold = b.decoderInputs.subarray(t * B, (t + 1) * B);
    const out = Int32Array.from(gold);
    const scores = noGrad(() => this.generator.forward(feed)).data;
    for (let r = 0; r < B; r++) {
      if (rng.uniform() >= p) continue;
      let best = 0;
      for (let v = 1; v < V; v++) if (scores[r * V + v]! > scores[r * V + best]!) best = v;
      out[r] = best;
    }
    return out;
  }
}
