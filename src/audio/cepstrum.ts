/** DCT-II, deltas and per-utterance normalisation on [frames × dim] row-major features. */

/** Orthonormal DCT-II (as scipy.fft.dct(norm='ortho')), keeping the first `keep` coefficients. */
export function dct2(x: ArrayLike<number>, keep = x.length): Float64Array {
  const n = x.length;
  const out = new Float64Array(keep);
  for (let k = 0; k < keep; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i]! * Math.cos((Math.PI * k * (2 * i + 1)) / (2 * n));
    out[k] = s * Math.sqrt((k === 0 ? 1 : 2) / n);
  }
  return out;
}

/**
 * Regression deltas over ±N frames, edges replicated (HTK, python_speech_features):
 * d_t = Σ_{n=1..N} n·(c_{t+n} − c_{t−n}) / (2·Σ n²).
 */
export function deltas(data: Float32Array, frames: number, dim: number, N = 2): Float32Array {
  const out = new Float32Array(frames * dim);
  const denom = 2 * Array.from({ length: N }, (_, i) => (i + 1) ** 2).reduce((a, b) => a + b, 0);
  const at = (t: number, j: number) => data[Math.min(frames - 1, Math.max(0, t)) * dim + j]!;
  for (let t = 0; t < frames; t++) {
    for (let j = 0; j < dim; j++) {
      let s = 0;
      for (let n = 1; n <= N; n++) s += n * (at(t + n, j) - at(t - n, j));
      out[t * dim + j] = s / denom;
    }
  }
  return out;
}

/** Per-dimension mean 0 and variance 1 over the frames, in place; a constant dimension becomes 0. */
export function normalise(data: Float32Array, frames: number, dim: number): Float32Array {
  for (let j = 0; j < dim; j++) {
    let mean = 0;
    for (let t = 0; t < frames; t++) mean += data[t * dim + j]!;
    mean /= frames;
    let v = 0;
    for (let t = 0; t < frames; t++) v += (data[t * dim + j]! - mean) ** 2;
    const sd = Math.sqrt(v / frames);
    const scale = sd > 1e-8 ? 1 / sd : 1;
    for (let t = 0; t < frames; t++) data[t * dim + j] = (data[t * dim + j]! - mean) * scale;
  }
  return data;
}

/** Concatenates [frames × a] and [frames × b] row-wise into [frames × (a + b)]. */
export function concatColumns(parts: { data: Float32Array; dim: number }[], frames: number): Float32Array {
  const dim = parts.reduce((s, p) => s + p.dim, 0);
  const out = new Float32Array(frames * dim);
  let off = 0;
  for (const p of parts) {
    for (let t = 0; t < frames; t++) out.set(p.data.subarray(t * p.dim, (t + 1) * p.dim), t * dim + off);
    off += p.dim;
  }
  return out;
}
