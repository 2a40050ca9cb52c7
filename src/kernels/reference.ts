import type { Arr } from '../tensor/index.js';
import type { AdamStep, Kernels, PackedB } from './kernels.js';

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

/** Plain TypeScript kernels, generic over Float32Array and Float64Array: the truth other backends are tested against. */
export const reference: Kernels = {
  name: 'reference',

  gemm(transA, transB, m, n, k, a, b, c, accumulate) {
    gemmStrided(transA, transB, m, n, k, a, transA ? m : k, b, transB ? k : n, c, n, accumulate);
  },

  gemmStrided,

  packB(transB, k, n, b, ldb) {
    return new ReferencePacked(transB, k, n, b, ldb ?? (transB ? k : n));
  },

  gemmPacked(transA, m, a, lda, packed, c, ldc, accumulate) {
    if (!(packed instanceof ReferencePacked) || !packed.b) throw new Error('reference gemmPacked: expected a live PackedB from reference.packB');
    gemmStrided(transA, packed.transB, m, packed.n, packed.k, a, lda, packed.b, packed.ldb, c, ldc, accumulate);
  },

  addRowVector(c, bias, m, n) {
    for (let i = 0; i < m; i++) {
      const row = i * n;
      for (let j = 0; j < n; j++) c[row + j]! += bias[j]!;
    }
  },

  sumRows(a, m, n, out) {
    for (let i = 0; i < m; i++) {
      const row = i * n;
      for (let j = 0; j < n; j++) out[j]! += a[row + j]!;
    }
  },

  lstmForward(g, cPrev, c, h, batch, hidden) {
    const H = hidden;
    for (let b = 0; b < batch; b++) {
      const gRow = b * 4 * H;
      const sRow = b * H;
      for (let j = 0; j < H; j++) {
        const i = sigmoid(g[gRow + j]!);
        const f = sigmoid(g[gRow + H + j]!);
        const gg = Math.tanh(g[gRow + 2 * H + j]!);
        const o = sigmoid(g[gRow + 3 * H + j]!);
        const ct = f * cPrev[sRow + j]! + i * gg;
        g[gRow + j] = i;
        g[gRow + H + j] = f;
        g[gRow + 2 * H + j] = gg;
        g[gRow + 3 * H + j] = o;
        c[sRow + j] = ct;
        h[sRow + j] = o * Math.tanh(ct);
      }
    }
  },

  lstmBackward(gates, cPrev, c, dh, dc, dG, batch, hidden) {
    const H = hidden;
    for (let b = 0; b < batch; b++) {
      const gRow = b * 4 * H;
      const sRow = b * H;
      for (let j = 0; j < H; j++) {
        const i = gates[gRow + j]!;
        const f = gates[gRow + H + j]!;
        const gg = gates[gRow + 2 * H + j]!;
        const o = gates[gRow + 3 * H + j]!;
        const tc = Math.tanh(c[sRow + j]!);
        const dht = dh[sRow + j]!;
        const dct = dc[sRow + j]! + dht * o * (1 - tc * tc);
        dG[gRow + j] = dct * gg * i * (1 - i);
        dG[gRow + H + j] = dct * cPrev[sRow + j]! * f * (1 - f);
        dG[gRow + 2 * H + j] = dct * i * (1 - gg * gg);
        dG[gRow + 3 * H + j] = dht * tc * o * (1 - o);
        dc[sRow + j] = dct * f;
      }
    }
  },

  gruForward(xp, hp, hPrev, gates, h, batch, hidden) {
    const H = hidden;
    for (let b = 0; b < batch; b++) {
      const gRow = b * 3 * H;
      const sRow = b * H;
      for (let j = 0; j < H; j++) {
        const r = sigmoid(xp[gRow + j]! + hp[gRow + j]!);
        const z = sigmoid(xp[gRow + H + j]! + hp[gRow + H + j]!);
        const n = Math.tanh(xp[gRow + 2 * H + j]! + r * hp[gRow + 2 * H + j]!);
        gates[gRow + j] = r;
        gates[gRow + H + j] = z;
        gates[gRow + 2 * H + j] = n;
        h[sRow + j] = (1 - z) * n + z * hPrev[sRow + j]!;
      }
    }
  },

  gruBackward(gates, hp, hPrev, dh, dXp, dHp, dhPrev, batch, hidden) {
    const H = hidden;
    for (let b = 0; b < batch; b++) {
      const gRow = b * 3 * H;
      const sRow = b * H;
      for (let j = 0; j < H; j++) {
        const r = gates[gRow + j]!;
        const z = gates[gRow + H + j]!;
        const n = gates[gRow + 2 * H + j]!;
        const dht = dh[sRow + j]!;
        const dn = dht * (1 - z) * (1 - n * n);
        const dz = dht * (hPrev[sRow + j]! - n) * z * (1 - z);
        const dr = dn * hp[gRow + 2 * H + j]! * r * (1 - r);
        dXp[gRow + j] = dr;
        dXp[gRow + H + j] = dz;
        dXp[gRow + 2 * H + j] = dn;
        dHp[gRow + j] = dr;
        dHp[gRow + H + j] = dz;
        dHp[gRow + 2 * H + j] = dn * r;
        dhPrev[sRow + j] = dht * z;
      }
    }
  },

  gruResetGates(xp, hp, hPrev, gates, rh, batch, hidden) {
    const H = hidden;
    for (let b = 0; b < batch; b++) {
      const gRow = b * 3 * H;
      const sRow = b * H;
      for (let j = 0; j < H; j++) {
        const r = sigmoid(xp[gRow + j]! + hp[gRow + j]!);
        gates[gRow + j] = r;
        gates[gRow + H + j] = sigmoid(xp[gRow + H + j]! + hp[gRow + H + j]!);
        rh[sRow + j] = r * hPrev[sRow + j]!;
      }
    }
  },

  gruResetOutput(xp, hp, hPrev, gates, h, batch, hidden) {
    const H = hidden;
    for (let b = 0; b < batch; b++) {
      const gRow = b * 3 * H;
      const sRow = b * H;
      for (let j = 0; j < H; j++) {
        const z = gates[gRow + H + j]!;
        const n = Math.tanh(xp[gRow + 2 * H + j]! + hp[gRow + 2 * H + j]!);
        gates[gRow + 2 * H + j] = n;
        h[sRow + j] = (1 - z) * n + z * hPrev[sRow + j]!;
      }
    }
  },

  gruResetBackwardZN(gates, hPrev, dh, dG, dhPrev, batch, hidden) {
    const H = hidden;
    for (let b = 0; b < batch; b++) {
      const gRow = b * 3 * H;
      const sRow = b * H;
      for (let j = 0; j < H; j++) {
        const z = gates[gRow + H + j]!;
        const n = gates[gRow + 2 * H + j]!;
        const dht = dh[sRow + j]!;
        dG[gRow + H + j] = dht * (hPrev[sRow + j]! - n) * z * (1 - z);
        dG[gRow + 2 * H + j] = dht * (1 - z) * (1 - n * n);
        dhPrev[sRow + j] = dht * z;
      }
    }
  },

  gruResetBackwardR(gates, hPrev, dRh, dG, dhPrev, batch, hidden) {
    const H = hidden;
    for (let b = 0; b < batch; b++) {
      const gRow = b * 3 * H;
      const sRow = b * H;
      for (let j = 0; j < H; j++) {
        const r = gates[gRow + j]!;
        const drh = dRh[sRow + j]!;
        dG[gRow + j] = drh * hPrev[sRow + j]! * r * (1 - r);
        dhPrev[sRow + j]! += drh * r;
      }
    }
  },

  rnnForward(g, nonlinearity) {
    if (nonlinearity === 'tanh') for (let i = 0; i < g.length; i++) g[i] = Math.tanh(g[i]!);
    else for (let i = 0; i < g.length; i++) g[i] = Math.max(0, g[i]!);
  },

  rnnBackward(h, dh, dG, nonlinearity) {
    if (nonlinearity === 'tanh') for (let i = 0; i < h.length; i++) dG[i] = dh[i]! * (1 - h[i]! * h[i]!);
    else for (let i = 0; i < h.length; i++) dG[i] = h[i]! > 0 ? dh[i]! : 0;
  },

  exp(x, out) {
    for (let i = 0; i < x.length; i++) out[i] = Math.exp(x[i]!);
  },

  logSoftmax(x, out, rows, cols) {
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let max = -Infinity;
      for (let j = 0; j < cols; j++) max = Math.max(max, x[o + j]!);
      let sum = 0;
      for (let j = 0; j < cols; j++) sum += Math.exp(x[o + j]! - max);
      const lse = max + Math.log(sum);
      for (let j = 0; j < cols; j++) out[o + j] = x[o + j]! - lse;
    }
  },

  adam(param, grad, m, v, s: AdamStep) {
    const stepSize = s.lr / s.bc1;
    const sqrtBc2 = Math.sqrt(s.bc2);
    for (let i = 0; i < param.length; i++) {
      const g = grad[i]! + s.weightDecay * param[i]!;
      const p = param[i]! * (1 - s.decoupledDecay);
      const mi = s.beta1 * m[i]! + (1 - s.beta1) * g;
      const vi = s.beta2 * v[i]! + (1 - s.beta2) * g * g;
      m[i] = mi;
      v[i] = vi;
      param[i] = p - (stepSize * mi) / (Math.sqrt(vi) / sqrtBc2 + s.eps);
    }
  },
};

/** The reference "packing" keeps a reference to B: there is nothing to gain from copying it in plain TypeScript. */
export class ReferencePacked implements PackedB {
  constructor(readonly transB: boolean, readonly k: number, readonly n: number, public b: Arr | null, public ldb: number) {}
  update(b: Arr, ldb?: number): void {
    this.b = b;
    this.ldb = ldb ?? (this.transB ? this.k : this.n);
  }
  free(): void {
    this.b = null;
  }
}

function gemmStrided(
  transA: boolean, transB: boolean, m: number, n: number, k: number,
  a: Arr, lda: number, b: Arr, ldb: number, c: Arr, ldc: number, accumulate: boolean,
): void {
  if (!accumulate) for (let i = 0; i < m; i++) c.fill(0, i * ldc, i * ldc + n);
  // Loop orders keep the innermost index contiguous in memory for each transpose case.
  if (!transA && !transB) {
    for (let i = 0; i < m; i++) {
      for (let p = 0; p < k; p++) {
        const aip = a[i * lda + p]!;
        if (aip === 0) continue;
        for (let j = 0, bj = p * ldb, cj = i * ldc; j < n; j++) c[cj + j]! += aip * b[bj + j]!;
      }
    }
  } else if (!transA && transB) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0, ai = i * lda, bj = j * ldb; p < k; p++) sum += a[ai + p]! * b[bj + p]!;
        c[i * ldc + j]! += sum;
      }
    }
  } else if (transA && !transB) {
    for (let p = 0; p < k; p++) {
      for (let i = 0; i < m; i++) {
        const api = a[p * lda + i]!;
        if (api === 0) continue;
        for (let j = 0, bj = p * ldb, cj = i * ldc; j < n; j++) c[cj + j]! += api * b[bj + j]!;
      }
    }
  } else {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += a[p * lda + i]! * b[j * ldb + p]!;
        c[i * ldc + j]! += sum;
      }
    }
  }
}
