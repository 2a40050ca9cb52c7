/** HTK mel scale and triangular mel filterbanks. */
import { ConfigError, expected } from '../tensor/index.js';

export const hzToMel = (hz: number): number => 2595 * Math.log10(1 + hz / 700);
export const melToHz = (mel: number): number => 700 * (10 ** (mel / 2595) - 1);

export interface MelOptions {
  nMels: number;
  nfft: number;
  sampleRate: number;
  lowHz: number;
  highHz: number;
}

export interface MelFilterbank {
  /** Filter centres in Hz, increasing and evenly spaced in mel. */
  centresHz: number[];
  /** nMels rows of nfft/2 + 1 weights, one per FFT bin. */
  weights: Float32Array[];
}

/**
 * Triangular filters evenly spaced in mel between lowHz and highHz. Each triangle rises
 * from its left neighbour's centre to 1 at its own centre and falls to its right
 * neighbour's centre, evaluated at each bin's exact frequency (not snapped to bins, so
 * narrow low filters never vanish and adjacent filters sum to 1 between the outer centres).
 */
export function melFilterbank(o: MelOptions): MelFilterbank {
  const where = 'melFilterbank';
  if (!Number.isInteger(o.nMels) || o.nMels < 1) {
    throw new ConfigError(expected(`${where}: nMels`, 'a positive integer', o.nMels));
  }
  if (!(o.lowHz >= 0 && o.lowHz < o.highHz && o.highHz <= o.sampleRate / 2)) {
    throw new ConfigError(expected(`${where}: lowHz, highHz`,
      `0 ≤ lowHz < highHz ≤ sampleRate/2 = ${o.sampleRate / 2}`, `${o.lowHz}, ${o.highHz}`));
  }
  const lo = hzToMel(o.lowHz), hi = hzToMel(o.highHz);
  const edges = Array.from({ length: o.nMels + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (o.nMels + 1)));
  const bins = o.nfft / 2 + 1;
  const weights = Array.from({ length: o.nMels }, (_, m) => {
    const [l, c, r] = [edges[m]!, edges[m + 1]!, edges[m + 2]!];
    const w = new Float32Array(bins);
    for (let k = 0; k < bins; k++) {
      const f = (k * o.sampleRate) / o.nfft;
      w[k] = Math.max(0, Math.min((f - l) / (c - l), (r - f) / (r - c)));
    }
    return w;
  });
  return { centresHz: edges.slice(1, -1), weights };
}
