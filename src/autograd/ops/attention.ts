import { kernels } from '../../kernels/index.js';
import { DataError, ShapeError, expected, type Arr } from '../../tensor/index.js';
import { output, record, type Variable } from '../variable.js';
import { checkSameDtype, zerosLike } from './util.js';

/*
 * The few ops attention needs over time-major memories [S, B, D]. Each keeps
 * the batch row b and source step s explicit, so forward and backward read as
 * the sums they are.
 */

const shapeOf = (v: Variable) => `[${v.shape.join(', ')}]`;

/** Checks a [B, D] row block against an [S, B, D] memory; returns { S, B, D }. */
function rowsAndMemory(where: string, row: Variable, memory: Variable): { S: number; B: number; D: number } {
  if (row.shape.length !== 2 || memory.shape.length !== 3 || row.shape[0] !== memory.shape[1] || row.shape[1] !== memory.shape[2]) {
    throw new ShapeError(expected(where, '[B, D] and [S, B, D] with the same B and D', `${shapeOf(row)} and ${shapeOf(memory)}`));
  }
  checkSameDtype(where, [row, memory]);
  const [S, B, D] = memory.shape as [number, number, number];
  return { S, B, D };
}

/** scores[b, s] = Σ_d q[b, d]·k[s, b, d]: one dot product per batch row and source step. */
export function batchedDot(query: Variable, keys: Variable): Variable {
  const { S, B, D } = rowsAndMemory('batchedDot', query, keys);
  const q = query.data, k = keys.data;
  const out = output(zerosLike(query, [B, S]));
  const y = out.data;
  for (let b = 0; b < B; b++) {
    const qb = b * D;
    for (let s = 0; s < S; s++) {
      const ks = (s * B + b) * D;
      let dot = 0;
      for (let d = 0; d < D; d++) dot += q[qb + d]! * k[ks + d]!;
      y[b * S + s] = dot;
    }
  }
  record('batchedDot', [query, keys], [out], () => {
    const g = out.grad!.data;
    const gq = query.requiresGrad ? query.gradData() : null;
    const gk = keys.requiresGrad ? keys.gradData() : null;
    for (let b = 0; b < B; b++) {
      const qb = b * D;
      for (let s = 0; s < S; s++) {
        const gs = g[b * S + s]!, ks = (s * B + b) * D;
        if (gq) for (let d = 0; d < D; d++) gq[qb + d]! += gs * k[ks + d]!;
        if (gk) for (let d = 0; d < D; d++) gk[ks + d]! += gs * q[qb + d]!;
      }
    }
  });
  return out;
}

/** context[b, d] = Σ_s w[b, s]·v[s, b, d]: the weighted sum of the memory per batch row. */
export function weightedSum(weights: Variable, values: Variable): Variable {
  if (weights.shape.length !== 2 || values.shape.length !== 3 || weights.shape[0] !== values.shape[1] || weights.shape[1] !== values.shape[0]) {
    throw new ShapeError(expected('weightedSum', 'weights [B, S] and values [S, B, D]', `${shapeOf(weights)} and ${shapeOf(values)}`));
  }
  checkSameDtype('weightedSum', [weights, values]);
  const [S, B, D] = values.shape as [number, number, number];
  const w = weights.data, v = values.data;
  const out = output(zerosLike(values, [B, D]));
  const y = out.data;
  for (let b = 0; b < B; b++) {
    const yb = b * D;
    for (let s = 0; s < S; s++) {
      const ws = w[b * S + s]!, vs = (s * B + b) * D;
      for (let d = 0; d < D; d++) y[yb + d]! += ws * v[vs + d]!;
    }
  }
  record('weightedSum', [weights, values], [out], () => {
    const g = out.grad!.data;
    const gw = weights.requiresGrad ? weights.gradData() : null;
    const gv = values.requiresGrad ? values.gradData() : null;
    for (let b = 0; b < B; b++) {
      const gb = b * D;
      for (let s = 0; s < S; s++) {
        const ws = w[b * S + s]!, vs = (s * B + b) * D;
        if (gw) {
          let dw = 0;
          for (let d = 0; d < D; d++) dw += g[gb + d]! * v[vs + d]!;
          gw[b * S + s]! += dw;
        }
        if (gv) for (let d = 0; d < D; d++) gv[vs + d]! += ws * g[gb + d]!;
      }
    }
  });
  return out;
}

/** y[s, b, :] = x[s, b, :] + row[b, :]: adds one row per batch entry at every step (Bahdanau's W_q q). */
export function addAtEveryStep(x: Variable, row: Variable): Variable {
  const { S, B, D } = rowsAndMemory('addAtEveryStep', row, x);
  const out = output(zerosLike(x));
  const y = out.data, xs = x.data, r = row.data;
  for (let i = 0; i < y.length; i++) y[i] = xs[i]! + r[i % (B * D)]!;
  record('addAtEveryStep', [x, row], [out], () => {
    const g = out.grad!.data;
    if (x.requiresGrad) {
      const gx = x.gradData();
      for (let i = 0; i < g.length; i++) gx[i]! += g[i]!;
    }
    if (row.requiresGrad) {
      const gr = row.gradData();
      for (let s = 0; s < S; s++) {
        for (let j = 0; j < B * D; j++) gr[j]! += g[s * B * D + j]!;
      }
    }
  });
  return out;
}

/** Valid steps per batch row: `lengths[b]` in 1..S, or all S when absent. */
export function validSteps(where: string, lengths: ArrayLike<number> | undefined, B: number, S: number): Int32Array {
  if (lengths === undefined) return new Int32Array(B).fill(S);
  if (lengths.length !== B) throw new DataError(expected(where, `${B} lengths (one per batch row)`, `${lengths.length}`));
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    const n = lengths[b]!;
    if (!Number.isInteger(n) || n < 1 || n > S) {
      throw new DataError(expected(where, `lengths in 1..${S}`, `${n} at row ${b}`, n === 0 ? 'a row with no source steps has nothing to attend to' : undefined));
    }
    out[b] = n;
  }
  return out;
}

/**
 * Softmax over the last axis of [B, S], using only the first lengths[b] steps
 * of row b: padded steps get weight exactly 0 and no gradient.
 */
export function maskedSoftmax(scores: Variable, lengths?: ArrayLike<number>): Variable {
  if (scores.shape.length !== 2) throw new ShapeError(expected('maskedSoftmax', 'scores [B, S]', shapeOf(scores)));
  const [B, S] = scores.shape as [number, number];
  const valid = validSteps('maskedSoftmax', lengths, B, S);
  const x = scores.data;
  const out = output(zerosLike(scores));
  const p = out.data;
  for (let b = 0; b < B; b++) {
    const row = b * S, n = valid[b]!;
    let max = -Infinity;
    for (let s = 0; s < n; s++) max = Math.max(max, x[row + s]!); // shift by the max: exp never overflows
    let total = 0;
    for (let s = 0; s < n; s++) total += p[row + s] = Math.exp(x[row + s]! - max);
    for (let s = 0; s < n; s++) p[row + s]! /= total;
  }
  record('maskedSoftmax', [scores], [out], () => {
    const g = out.grad!.data, gx = scores.gradData();
    for (let b = 0; b < B; b++) {
      const row = b * S, n = valid[b]!;
      let gp = 0; // Σ_s g_s p_s
      for (let s = 0; s < n; s++) gp += g[row + s]! * p[row + s]!;
      for (let s = 0; s < n; s++) gx[row + s]! += p[row + s]! * (g[row + s]! - gp); // dx = p ⊙ (g - Σ g p)
    }
  });
  return out;
}

/**
 * Dot-product attention of every decoder step at once, for teacher forcing:
 * for each batch row b, scores_b = Q_b K_bᵀ [T, S], weights_b = masked softmax
 * over its first lengths[b] source steps, context_b = weights_b K_b [T, D].
 * Queries [T, B, D] and keys [S, B, D] are time-major; per batch row the work
 * is three small GEMMs forward and five backward, instead of T scalar loops.
 * Returns context [T, B, D] and weights [T, B, S] (exactly 0 at padded steps).
 */
export function dotAttentionAll(queries: Variable, keys: Variable, lengths?: ArrayLike<number>): { context: Variable; weights: Variable } {
  if (queries.shape.length !== 3 || keys.shape.length !== 3 || queries.shape[1] !== keys.shape[1] || queries.shape[2] !== keys.shape[2]) {
    throw new ShapeError(expected('dotAttentionAll', 'queries [T, B, D] and keys [S, B, D] with the same B and D', `${shapeOf(queries)} and ${shapeOf(keys)}`));
  }
  checkSameDtype('dotAttentionAll', [queries, keys]);
  const [T, B, D] = queries.shape as [number, number, number];
  const S = keys.shape[0]!;
  const valid = validSteps('dotAttentionAll', lengths, B, S);
  const K = kernels();
  const alloc = (n: number) => zerosLike(queries, [n]).data;
  // Per-row contiguous copies: Q_b [T, D], K_b [S, D].
  const rowsOf = (x: Arr, steps: number, b: number, out: Arr) => {
    for (let t = 0; t < steps; t++) out.set(x.subarray((t * B + b) * D, (t * B + b + 1) * D), t * D);
  };
  const context = output(zerosLike(queries, [T, B, D]));
  const weights = output(zerosLike(queries, [T, B, S]));
  const qb = alloc(T * D), kb = alloc(S * D), sb = alloc(T * S), cb = alloc(T * D);
  const w = weights.data;
  for (let b = 0; b < B; b++) {
    rowsOf(queries.data, T, b, qb);
    rowsOf(keys.data, S, b, kb);
    K.gemm(false, true, T, S, D, qb, kb, sb, false);
    const n = valid[b]!;
    for (let t = 0; t < T; t++) {
      const row = sb.subarray(t * S, t * S + S);
      let max = -Infinity;
      for (let s = 0; s < n; s++) max = Math.max(max, row[s]!);
      let total = 0;
      for (let s = 0; s < n; s++) total += row[s] = Math.exp(row[s]! - max);
      for (let s = 0; s < S; s++) row[s] = s < n ? row[s]! / total : 0;
      w.set(row, (t * B + b) * S);
    }
    K.gemm(false, false, T, D, S, sb, kb, cb, false);
    for (let t = 0; t < T; t++) context.data.set(cb.subarray(t * D, (t + 1) * D), (t * B + b) * D);
  }
  record('dotAttentionAll', [queries, keys], [context, weights], () => {
    const gc = context.grad?.data ?? null, gw = weights.grad?.data ?? null;
    const gq = queries.requiresGrad ? queries.gradData() : null;
    const gk = keys.requiresGrad ? keys.gradData() : null;
    const dcb = alloc(T * D), dsb = alloc(T * S), dq = alloc(T * D), dk = alloc(S * D);
    for (let b = 0; b < B; b++) {
      rowsOf(queries.data, T, b, qb);
      rowsOf(keys.data, S, b, kb);
      for (let t = 0; t < T; t++) sb.set(w.subarray((t * B + b) * S, (t * B + b + 1) * S), t * S);
      dk.fill(0);
      // dW = dC K_bᵀ (+ the weights' own gradient); dK_b += Wᵀ dC.
      if (gc) {
        for (let t = 0; t < T; t++) dcb.set(gc.subarray((t * B + b) * D, (t * B + b + 1) * D), t * D);
        K.gemm(false, true, T, S, D, dcb, kb, dsb, false);
        K.gemm(true, false, S, D, T, sb, dcb, dk, true);
      } else dsb.fill(0);
      if (gw) for (let t = 0; t < T; t++) for (let s = 0; s < S; s++) dsb[t * S + s]! += gw[(t * B + b) * S + s]!;
      // Through the softmax: dScore = W ⊙ (dW − Σ_s dW W).
      for (let t = 0; t < T; t++) {
        let dot = 0;
        for (let s = 0; s < S; s++) dot += dsb[t * S + s]! * sb[t * S + s]!;
        for (let s = 0; s < S; s++) dsb[t * S + s] = sb[t * S + s]! * (dsb[t * S + s]! - dot);
      }
      // dQ_b = dScore K_b; dK_b += dScoreᵀ Q_b.
      if (gq) {
        K.gemm(false, false, T, D, S, dsb, kb, dq, false);
        for (let t = 0; t < T; t++) {
          const at = (t * B + b) * D;
          for (let d = 0; d < D; d++) gq[at + d]! += dq[t * D + d]!;
        }
      }
      if (gk) {
        K.gemm(true, false, S, D, T, dsb, qb, dk, true);
        for (let s = 0; s < S; s++) {
          const at = (s * B + b) * D;
          for (let d = 0; d < D; d++) gk[at + d]! += dk[s * D + d]!;
        }
      }
    }
  });
  return { context, weights };
}
