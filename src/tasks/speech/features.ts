/**
 * The speech model's input: MFCC (+ deltas) or log-mel features of an
 * utterance, per-utterance normalised, then optionally stacked and
 * subsampled (frames t..t+k-1 joined into one input every `stride` frames),
 * which cuts the steps the recurrent layers run by `stride`. Browser-safe.
 */
import { audioFeatures, decodeWav, type FeatureOptions } from '../../audio/index.js';
import {
  ConfigError, DataError, expected, quoted, rejectUnknownOptions, requireBoolean, show, textOf,
} from '../../tensor/index.js';

/** What the checkpoint records about the front end: enough to compute the same features again. */
export interface SpeechFeatureConfig {
  kind: 'mfcc' | 'logmel';
  /** MFCC coefficients (mfcc) or mel bands (logmel) */
  size: number;
  deltas: boolean;
  /** frames joined into one input step */
  stack: number;
  /** frames between input steps */
  stride: number;
}

export const defaultSpeechFeatures: Readonly<SpeechFeatureConfig> = { kind: 'mfcc', size: 13, deltas: true, stack: 3, stride: 3 };

/** One utterance's model input: [steps × dim] row-major. */
export interface Utterance {
  steps: number;
  dim: number;
  data: Float32Array;
}

export function validateFeatureConfig(c: SpeechFeatureConfig, where = 'speech features'): SpeechFeatureConfig {
  if (c === null || typeof c !== 'object') throw new ConfigError(expected(where, 'a feature config object', textOf(c)));
  rejectUnknownOptions(where, c, ['kind', 'size', 'deltas', 'stack', 'stride']);
  if (c.kind !== 'mfcc' && c.kind !== 'logmel') {
    throw new ConfigError(expected(where, "kind 'mfcc' or 'logmel'", quoted(c.kind)));
  }
  if (!(Number.isInteger(c.size) && c.size >= 1 && c.size <= 128)) {
    throw new ConfigError(expected(where, 'size an integer in [1, 128]', show(c.size)));
  }
  if (c.kind === 'mfcc' && c.size > 40) {
    throw new ConfigError(expected(where, 'at most 40 MFCC coefficients (of 40 mel bands)', show(c.size)));
  }
  requireBoolean(where, 'deltas', c.deltas);
  if (!(Number.isInteger(c.stack) && c.stack >= 1 && c.stack <= 16)) {
    throw new ConfigError(expected(where, 'stack an integer in [1, 16]', show(c.stack)));
  }
  if (!(Number.isInteger(c.stride) && c.stride >= 1 && c.stride <= c.stack)) {
    throw new ConfigError(expected(where, `stride an integer in [1, stack (${c.stack})]`, show(c.stride)));
  }
  return c;
}

/** Inputs per step the model reads. */
export function inputSize(c: SpeechFeatureConfig): number {
  return c.size * (c.deltas ? 3 : 1) * c.stack;
}

function frontEnd(c: SpeechFeatureConfig): Partial<FeatureOptions> {
  return c.kind === 'mfcc' ? { kind: 'mfcc', nCoeffs: c.size, deltas: c.deltas } : { kind: 'logmel', nMels: c.size, deltas: c.deltas };
}

/**
 * Frames [frames × dim] → steps [ceil(frames / stride) × dim·stack]: step i
 * joins frames i·stride .. i·stride + stack − 1, the last frame repeated past the end.
 */
export function stackFrames(data: Float32Array, frames: number, dim: number, stack: number, stride: number): Utterance {
  const steps = Math.ceil(frames / stride);
  const out = new Float32Array(steps * dim * stack);
  for (let i = 0; i < steps; i++) {
    for (let k = 0; k < stack; k++) {
      const f = Math.min(i * stride + k, frames - 1);
      out.set(data.subarray(f * dim, (f + 1) * dim), (i * stack + k) * dim);
    }
  }
  return { steps, dim: dim * stack, data: out };
}

/** The model input of one utterance's samples (mono or per channel, any rate from 1 kHz: resampled to 16 kHz). */
export function speechInput(samples: Float32Array | Float32Array[], sampleRate: number, c: SpeechFeatureConfig, where = 'audio'): Utterance {
  const n = Array.isArray(samples) ? samples[0]?.length ?? 0 : samples.length;
  const minimum = Math.ceil((sampleRate * 25) / 1000);
  if (n < minimum) throw new DataError(expected(where, `at least one 25 ms frame (${minimum} samples at ${sampleRate} Hz)`, `${n} samples`));
  const f = audioFeatures(samples, sampleRate, frontEnd(c));
  for (let i = 0; i < f.data.length; i++) if (!Number.isFinite(f.data[i]!)) throw new DataError(expected(where, 'finite audio samples', 'NaN or Infinity'));
  return stackFrames(f.data, f.frames, f.dim, c.stack, c.stride);
}

/** The model input of a WAV file's bytes; a malformed file is a DataError naming `where`. */
export function wavInput(bytes: Uint8Array, c: SpeechFeatureConfig, where = 'WAV'): Utterance {
  const wav = decodeWav(bytes, where);
  return speechInput(wav.samples, wav.sampleRate, c, where);
}
