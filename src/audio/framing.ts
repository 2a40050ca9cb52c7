/** Pre-emphasis, framing and windowing of a mono signal. */
import { ConfigError, DataError, expected } from '../tensor/index.js';

/** y[0] = x[0], y[t] = x[t] − a·x[t−1]: boosts high frequencies before the spectrum. */
export function preEmphasis(x: Float32Array, a = 0.97): Float32Array {
  const y = new Float32Array(x.length);
  for (let t = 0; t < x.length; t++) y[t] = t === 0 ? x[0]! : x[t]! - a * x[t - 1]!;
  return y;
}

export type WindowKind = 'hamming' | 'hann' | 'rectangular';

/** Symmetric window of length n (as numpy.hamming / numpy.hanning). */
export function makeWindow(kind: WindowKind, n: number): Float32Array {
  const a0 = { hamming: 0.54, hann: 0.5, rectangular: 1 }[kind];
  if (a0 === undefined) throw new ConfigError(expected('window', "'hamming', 'hann' or 'rectangular'", kind));
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = n === 1 ? 1 : a0 - (1 - a0) * Math.cos((2 * Math.PI * i) / (n - 1));
  return w;
}

export interface Frames {
  frames: number;
  length: number;
  /** [frames × length], row-major; frame f starts at sample f·hop. */
  data: Float32Array;
}

/**
 * Cuts x into frames of `length` samples every `hop` samples, multiplied by `window`.
 * Only whole frames are kept; a signal shorter than one frame is a DataError.
 */
export function frameSignal(x: Float32Array, length: number, hop: number, window?: Float32Array, where = 'frameSignal'): Frames {
  if (!Number.isInteger(length) || length < 1 || !Number.isInteger(hop) || hop < 1) {
    throw new ConfigError(expected(where, 'a positive integer frame length and hop', `${length}, ${hop}`));
  }
  if (window && window.length !== length) throw new ConfigError(expected(`${where}: window`, `length ${length}`, window.length));
  if (x.length < length) throw new DataError(expected(where, `at least one frame (${length} samples)`, `${x.length} samples`));
  const frames = 1 + Math.floor((x.length - length) / hop);
  const data = new Float32Array(frames * length);
  for (let f = 0; f < frames; f++) {
    for (let i = 0; i < length; i++) data[f * length + i] = x[f * hop + i]! * (window ? window[i]! : 1);
  }
  return { frames, length, data };
}
