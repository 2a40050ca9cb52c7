/**
 * Encoder–decoder checkpoints (Node only), in the format of
 * `io/checkpoint-files.ts`: the weights under their module names, and in the
 * manifest the model config, both vocabularies, the training settings and
 * the scores measured with these weights. A `last` checkpoint also keeps the
 * trainer's state (optimiser moments as state tensors, the rest in the
 * manifest), which `--resume` continues from.
 */
import { Vocabulary, type VocabularyJSON } from '../../data/index.js';
import { checkParameterCount, loadCheckpoint, saveCheckpoint } from '../../io/node/checkpoint-files.js';
import {
  badMeta, checkRngState, isCount, isObject, packOptimizer, unpackOptimizer, type PackedOptimizer,
} from '../../io/trainer-state.js';
import { recurrentParameterCount } from '../../nn/index.js';
import { BpttError, DataError, expected, quoted, type Tensor } from '../../tensor/index.js';
import { Seq2Seq, validateSeq2SeqConfig, type Seq2SeqConfig } from './model.js';
import type { Vocabularies } from './texts.js';
import type { Seq2SeqTrainerState, Seq2SeqTrainingOptions } from './trainer.js';

export const TRANSLATE_TASK = 'translate';

export interface TranslateMeta {
  task: typeof TRANSLATE_TASK;
  /** g2p: spelling → phonemes (CMUdict); text: line-aligned parallel files */
  kind: 'g2p' | 'text';
  writtenBy: string;
  model: Seq2SeqConfig;
  vocab: { source: VocabularyJSON; target: VocabularyJSON };
  data: Record<string, unknown>;
  training: Seq2SeqTrainingOptions;
  settings: Record<string, unknown>;
  progress: { updates: number; tokens: number; elapsedMs: number; bestUpdate: number | null; validation: Record<string, number> | null };
  /** scores on the test split with these weights, or null */
  test: Record<string, unknown> | null;
  /** the trainer's state besides the optimiser moments (in the state tensors); only in checkpoints saved to resume from */
  trainer?: Omit<Seq2SeqTrainerState, 'optimizer' | 'updates' | 'tokens' | 'elapsedMs'> & { optimizer: PackedOptimizer };
}

/** Saves the weights and `meta`; with `trainer`, also what --resume needs. */
export function saveTranslator(dir: string, name: string, model: Seq2Seq, meta: TranslateMeta, trainer: Seq2SeqTrainerState | null = null): string {
  if (!trainer) return saveCheckpoint(dir, name, { meta: meta as unknown as Record<string, unknown>, weights: model.stateDict(), state: null });
  const state = new Map<string, Tensor>();
  const { sampler, noise, best } = trainer;
  const optimizer = packOptimizer(trainer.optimizer, model.namedParameters(), state);
  return saveCheckpoint(dir, name, { meta: { ...meta, trainer: { sampler, noise, best, optimizer } } as unknown as Record<string, unknown>, weights: model.stateDict(), state });
}

/** The trainer state a checkpoint saved to resume from holds, checked field by field. */
export function translateTrainerState(ckpt: ReturnType<typeof loadTranslator>): Seq2SeqTrainerState {
  const where = `checkpoint '${ckpt.path}'`;
  const { trainer: t, progress: p } = ckpt.meta;
  if (!t || !ckpt.state) throw new DataError(expected(where, 'training state (optimiser moments, batch order) to resume from', 'weights only'));
  const fail = (field: string, want: string, got: unknown): never => badMeta(where, field, want, got);
  if (!(isCount(p?.updates) && isCount(p.tokens) && Number.isFinite(p.elapsedMs) && p.elapsedMs >= 0)) fail('progress', 'counts of updates and tokens and the elapsed time', p);
  if (p.validation !== null && !isObject(p.validation)) {
    fail('progress.validation', 'the dev scores of the update or null', p.validation);
  }
  if (!isObject(ckpt.meta.settings)) fail('settings', 'the settings of the run', ckpt.meta.settings);
  if (!isObject(ckpt.meta.data)) fail('data', 'what the model was trained on', ckpt.meta.data);
  const s = t.sampler;
  if (!(s && typeof s === 'object' && isCount(s.epochs) && isCount(s.taken) && (s.drawnFrom === null || checkRngState(where, 'trainer.sampler.drawnFrom', s.drawnFrom)))) {
    fail('trainer.sampler', '{ drawnFrom, epochs, taken }', s);
  }
  if (t.best !== null && !(t.best && Number.isFinite(t.best.score) && isCount(t.best.updates) && t.best.updates <= p.updates)) fail('trainer.best', 'null or { score, updates }', t.best);
  return {
    updates: p.updates, tokens: p.tokens, elapsedMs: p.elapsedMs, sampler: s, noise: checkRngState(where, 'trainer.noise', t.noise), best: t.best,
    optimizer: unpackOptimizer(where, t.optimizer, ckpt.state, ckpt.model.namedParameters()),
  };
}

/** The model, its vocabularies and metadata, checked against each other. */
export function loadTranslator(path: string): { model: Seq2Seq; vocab: Vocabularies; meta: TranslateMeta; path: string; state: Map<string, Tensor> | null } {
  // Files no larger than the model the metadata describes are read (a bad description is reported below).
  const count = (meta: Record<string, unknown>): number | undefined =>
    (meta.task === TRANSLATE_TASK
      ? parameterCount(validateSeq2SeqConfig(meta.model as Seq2SeqConfig, 'model'))
      : undefined);
  const loaded = loadCheckpoint(path, { parameterCount: count });
  const where = `checkpoint '${loaded.path}'`;
  const meta = loaded.meta as unknown as TranslateMeta;
  if (meta.task !== TRANSLATE_TASK) {
    throw new DataError(expected(where, `a ${TRANSLATE_TASK} checkpoint (from bptt train translate or g2p)`,
      `task ${quoted(meta.task)}`));
  }
  try {
    const config = validateSeq2SeqConfig(meta.model, `${where}: model`);
    const vocab = { source: Vocabulary.fromJSON(meta.vocab?.source), target: Vocabulary.fromJSON(meta.vocab?.target) };
    if (vocab.source.size !== config.sourceVocab || vocab.target.size !== config.targetVocab) {
      throw new DataError(expected(where, `vocabularies of ${config.sourceVocab} and ${config.targetVocab} tokens, as the model`, `${vocab.source.size} and ${vocab.target.size}`));
    }
    checkParameterCount(where, parameterCount(config), loaded.weights);
    const model = new Seq2Seq(config);
    model.loadStateDict(loaded.weights);
    return { model, vocab, meta, path: loaded.path, state: loaded.state };
  } catch (e) {
    if (e instanceof BpttError && !e.message.startsWith(where)) throw new DataError(`${where}: ${e.message}`);
    throw e;
  }
}

/** The parameters a config implies, counted without building the model (a hand-edited size must not allocate gigabytes first). */
export function parameterCount(c: Seq2SeqConfig): number {
  const gates = c.cell === 'lstm' ? 4 : 3;
  const H = c.hidden, D = c.bidirectional ? 2 : 1, Hd = H / D;
  const embeddings = (c.sourceVocab + (c.shareEmbeddings ? 0 : c.targetVocab)) * c.embed;
  const encoder = recurrentParameterCount(gates, c.embed, Hd, c.layers, D);
  const decoder = recurrentParameterCount(gates, c.embed + (c.inputFeeding ? H : 0), H, c.layers);
  const attention = c.attention === 'general' ? H * H : c.attention === 'additive' ? 2 * H * H + 2 * H : 0;
  return embeddings + encoder + decoder + attention + 2 * H * H + c.targetVocab * (H + 1);
}
