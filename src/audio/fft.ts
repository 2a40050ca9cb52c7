/** Radix-2 FFT and the power spectrum of real frames. */
import { ConfigError, expected } from '../tensor/index.js';

export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** In-place iterative Cooley–Tukey FFT of (re, im); the length must be a power of two. */
export function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  if (im.length !== n || (n & (n - 1)) !== 0 || n === 0) {
    throw new ConfigError(expected('fft', 'real and imaginary parts of one power-of-two length', `${n} and ${im.length}`));
  }
  for (let i = 1, j = 0; i < n; i++) { // bit-reversal permutation
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len *= 2) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang), wi = Math.sin(ang);
    for (let s = 0; s < n; s += len) {
      let cr = 1, ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = s + k, b = a + len / 2;
        const tr = re[b]! * cr - im[b]! * ci;
        const ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr; im[b] = im[a]! - ti;
        re[a]! += tr; im[a]! += ti;
        [cr, ci] = [cr * wr - ci * wi, cr * wi + ci * wr];
      }
    }
  }
}

/**
 * Power spectrum |X_k|² / nfft for k = 0..nfft/2 of a real frame, zero-padded to `nfft`
 * (a power of two, default the next one ≥ the frame length), as python_speech_features.
 */
export function powerSpectrum(frame: ArrayLike<number>, nfft = nextPowerOfTwo(frame.length)): Float64Array {
  if (nfft < frame.length) throw new ConfigError(expected('powerSpectrum: nfft', `at least the frame length ${frame.length}`, nfft));
  const re = new Float64Array(nfft), im = new Float64Array(nfft);
  for (let i = 0; i < frame.length; i++) re[i] = frame[i]!;
  fft(re, im);
  const out = new Float64Array(nfft / 2 + 1);
  for (let k = 0; k < out.length; k++) out[k] = (re[k]! * re[k]! + im[k]! * im[k]!) / nfft;
  return out;
}
