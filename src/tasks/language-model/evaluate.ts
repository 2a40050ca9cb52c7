import { noGrad } from '../../autograd/index.js';
import { TokenStreams } from '../../data/index.js';
import type { HiddenState } from '../../nn/index.js';
import type { LanguageModel } from './model.js';

export interface LmScore {
  /** mean negative log-likelihood per predicted token, in nats */
  loss: number;
  /** the same in bits (bits per character for a character model) */
  bits: number;
  perplexity: number;
  /** tokens predicted */
  tokens: number;
}

/**
 * Scores a token sequence the way the model is trained to read it: cut into
 * `batch` contiguous streams read `steps` tokens at a time, the state carried
 * from one stretch to the next, so every prediction but the first of each
 * stream sees all the text before it in its stream. Dropout is off.
 */
export function scoreTokens(model: LanguageModel, ids: Int32Array, options: { batch?: number; steps?: number } = {}): LmScore {
  const batch = Math.max(1, Math.min(options.batch ?? 32, Math.floor((ids.length - 1) / 64)));
  const streams = new TokenStreams(ids, batch, options.steps ?? 128, 'scoreTokens');
  const wasTraining = model.training;
  model.eval();
  try {
    let sum = 0;
    let tokens = 0;
    let state: HiddenState | null = null;
    noGrad(() => {
      for (let k = 0; k < streams.batchesPerEpoch; k++) {
        const b = streams.get(k);
        const r = model.unroll({ ...b, noiseSeed: 0 }, 0, b.steps, state, true);
        sum += r.loss!.item();
        tokens += r.terms;
        state = r.state;
      }
    });
    const loss = sum / tokens;
    return { loss, bits: loss / Math.LN2, perplexity: Math.exp(loss), tokens };
  } finally {
    model.train(wasTraining);
  }
}
