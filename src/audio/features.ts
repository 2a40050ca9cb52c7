/** The speech front end: samples → log-mel or MFCC (+ deltas) features, [frames × dim]. */
import { ConfigError, DataError, expected } from '../tensor/index.js';
import { concatColumns, dct2, deltas, normalise } from './cepstrum.js';
import { nextPowerOfTwo, powerSpectrum } from './fft.js';
import { frameSignal, makeWindow, preEmphasis, type WindowKind } from './framing.js';
import { melFilterbank } from './mel.js';
import { MAX_SIGNAL_SAMPLES, resample, toMono } from './resample.js';

export interface FeatureOptions {
  /** 'mfcc' (default) or 'logmel'. */
  kind: 'mfcc' | 'logmel';
  /** Rate the audio is resampled to before analysis (default 16000). */
  targetRate: number;
  /** Pre-emphasis coefficient (default 0.97; 0 disables). */
  preEmphasis: number;
  frameMs: number; // default 25
  hopMs: number; // default 10
  window: WindowKind; // default 'hamming'
  nMels: number; // default 40
  lowHz: number; // default 0
  /** Default targetRate / 2. */
  highHz?: number;
  /** Floor applied before the log, so silence stays finite (default 1e-10). */
  logFloor: number;
  /** MFCC coefficients kept (default 13; 'mfcc' only). */
  nCoeffs: number;
  /** Append deltas and delta-deltas, ±2-frame regression (default true). */
  deltas: boolean;
  /** Per-utterance mean/variance normalisation of every dimension (default true). */
  normalise: boolean;
}

export const defaultFeatureOptions: Readonly<FeatureOptions> = {
  kind: 'mfcc', targetRate: 16000, preEmphasis: 0.97, frameMs: 25, hopMs: 10, window: 'hamming',
  nMels: 40, lowHz: 0, logFloor: 1e-10, nCoeffs: 13, deltas: true, normalise: true,
};

export interface Features {
  frames: number;
  dim: number;
  /** [frames × dim], row-major. */
  data: Float32Array;
}

const KNOWN = new Set([...Object.keys(defaultFeatureOptions), 'highHz']);

function resolve(options: Partial<FeatureOptions>): FeatureOptions {
  const where = 'audioFeatures';
  for (const key of Object.keys(options)) {
    if (!KNOWN.has(key)) throw new ConfigError(expected(`${where}: options`, [...KNOWN].join(', '), `'${key}'`));
  }
  const o = { ...defaultFeatureOptions, ...options };
  if (o.kind !== 'mfcc' && o.kind !== 'logmel') throw new ConfigError(expected(`${where}: kind`, "'mfcc' or 'logmel'", o.kind));
  if (!(o.logFloor > 0)) throw new ConfigError(expected(`${where}: logFloor`, 'a positive number', o.logFloor));
  if (!(o.preEmphasis >= 0 && o.preEmphasis < 1)) throw new ConfigError(expected(`${where}: preEmphasis`, 'a number in [0, 1)', o.preEmphasis));
  if (o.kind === 'mfcc' && !(Number.isInteger(o.nCoeffs) && o.nCoeffs >= 1 && o.nCoeffs <= o.nMels)) {
    throw new ConfigError(expected(`${where}: nCoeffs`, `an integer in 1..nMels (${o.nMels})`, o.nCoeffs));
  }
  if (o.kind === 'logmel' && options.nCoeffs !== undefined) throw new ConfigError(expected(`${where}: nCoeffs`, "no nCoeffs with kind 'logmel'", o.nCoeffs));
  return o;
}

/** Log mel energies of windowed frames: log(max(floor, Σ_k w_mk·|X_k|²/nfft)). */
export function logMel(frames: Float32Array, count: number, length: number, bank: Float32Array[], nfft: number, floor: number): Float32Array {
  const out = new Float32Array(count * bank.length);
  for (let f = 0; f < count; f++) {
    const p = powerSpectrum(frames.subarray(f * length, (f + 1) * length), nfft);
    bank.forEach((w, m) => {
      let e = 0;
      for (let k = 0; k < p.length; k++) e += w[k]! * p[k]!;
      out[f * bank.length + m] = Math.log(Math.max(floor, e));
    });
  }
  return out;
}

/** MFCC: the first nCoeffs of the orthonormal DCT-II of each frame's log-mel vector. */
export function mfccFromLogMel(logmel: Float32Array, frames: number, nMels: number, nCoeffs: number): Float32Array {
  const out = new Float32Array(frames * nCoeffs);
  for (let f = 0; f < frames; f++) out.set(dct2(logmel.subarray(f * nMels, (f + 1) * nMels), nCoeffs), f * nCoeffs);
  return out;
}

/**
 * Features of one utterance. `samples` is mono or per-channel (averaged to mono), at
 * `sampleRate`; it is resampled to `targetRate` first when the rates differ.
 */
export function audioFeatures(samples: Float32Array | Float32Array[], sampleRate: number, options: Partial<FeatureOptions> = {}): Features {
  const o = resolve(options);
  const mono = Array.isArray(samples) ? toMono(samples) : samples;
  const x0 = sampleRate === o.targetRate ? mono : resample(mono, sampleRate, o.targetRate);
  if (x0.length > MAX_SIGNAL_SAMPLES) { // resample refuses longer; its frames would outgrow typed arrays
    throw new DataError(expected('audioFeatures', `at most ${MAX_SIGNAL_SAMPLES} samples`, x0.length));
  }
  const x = o.preEmphasis > 0 ? preEmphasis(x0, o.preEmphasis) : x0;
  const length = Math.round((o.frameMs * o.targetRate) / 1000);
  const hop = Math.round((o.hopMs * o.targetRate) / 1000);
  const framed = frameSignal(x, length, hop, makeWindow(o.window, length), 'audioFeatures');
  const nfft = nextPowerOfTwo(length);
  const bank = melFilterbank({ nMels: o.nMels, nfft, sampleRate: o.targetRate, lowHz: o.lowHz, highHz: o.highHz ?? o.targetRate / 2 }).weights;
  const frames = framed.frames;
  const lm = logMel(framed.data, frames, length, bank, nfft, o.logFloor);
  let dim = o.kind === 'mfcc' ? o.nCoeffs : o.nMels;
  let data = o.kind === 'mfcc' ? mfccFromLogMel(lm, frames, o.nMels, o.nCoeffs) : lm;
  if (o.deltas) {
    const d1 = deltas(data, frames, dim);
    const d2 = deltas(d1, frames, dim);
    data = concatColumns([{ data, dim }, { data: d1, dim }, { data: d2, dim }], frames);
    dim *= 3;
  }
  if (o.normalise) normalise(data, frames, dim);
  return { frames, dim, data };
}
