// Blocked single-precision GEMM: C (m×n) = op(A)·op(B) (+ C when accumulating).
//
// BLIS structure: loop over column blocks of C (NC), over depth blocks (KC)
// packing a KC×NC block of op(B) into NR-wide panels, over row blocks (MC)
// packing an MC×KC block of op(A) into MR-tall panels, then an MR×NR register
// tile micro-kernel sweeps the packed panels. Panels are zero-padded, so the
// micro-kernel always computes a full tile; edge tiles go through a small
// buffer and only their valid part reaches C. All pointers are byte addresses,
// leading dimensions are in elements.

import { madd } from './simd';

export const MR: i32 = 4;
export const NR: i32 = 8;
/** Depth block: an MR×KC panel of A (4 KiB) and a KC×NR panel of B (8 KiB) sit in L1. */
export const KC: i32 = 256;
/** Row block: MC×KC of packed A (64 KiB) sits in L2. */
export const MC: i32 = 64;
/** Column block: KC×NC of packed B (2 MiB) sits in L3. */
export const NC: i32 = 2048;

/** Edge-tile buffer (MR×NR floats) in static memory. */
const TILE: usize = memory.data(MR * NR * 4, 16);

let workA: usize = 0;
let workB: usize = 0;

/** Sets the scratch space of gemmWorkspaceFloats() floats (64-byte aligned): packed A, then packed B. */
export function gemmWorkspace(ptr: usize): void {
  workA = ptr;
  workB = ptr + (<usize>(MC * KC) << 2);
}

export function gemmWorkspaceFloats(): i32 {
  return MC * KC + KC * NC;
}

/** Floats a fully packed op(B) (k×n) occupies: k rows of n rounded up to NR. */
export function packedBFloats(k: i32, n: i32): i32 {
  return k * ((n + NR - 1) / NR) * NR;
}

// ---------------------------------------------------------------- micro-kernel

/** MR×NR tile of C (row stride ldc bytes) = (acc ? C : 0) + packed A panel · packed B panel over kc. */
function micro(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, acc: bool): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  // A pointer-bounded loop without unrolling measured fastest under V8 (unrolled
  // bodies get interleaved by the optimiser and spill registers).
  const end = pb + <usize>(kc * NR * 4);
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    pa += MR * 4;
    pb += NR * 4;
  }
  const r1 = c + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
  if (acc) {
    c00 = f32x4.add(c00, v128.load(c));
    c01 = f32x4.add(c01, v128.load(c, 16));
    c10 = f32x4.add(c10, v128.load(r1));
    c11 = f32x4.add(c11, v128.load(r1, 16));
    c20 = f32x4.add(c20, v128.load(r2));
    c21 = f32x4.add(c21, v128.load(r2, 16));
    c30 = f32x4.add(c30, v128.load(r3));
    c31 = f32x4.add(c31, v128.load(r3, 16));
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(r1, c10);
  v128.store(r1, c11, 16);
  v128.store(r2, c20);
  v128.store(r2, c21, 16);
  v128.store(r3, c30);
  v128.store(r3, c31, 16);
}

/** A partial tile (mr ≤ MR rows, nr ≤ NR columns) through the edge buffer. */
function microEdge(kc: i32, pa: usize, pb: usize, c: usize, ldc: usize, acc: bool, mr: i32, nr: i32): void {
  micro(kc, pa, pb, TILE, NR * 4, false);
  for (let r = 0; r < mr; r++) {
    const src = TILE + <usize>(r * NR * 4);
    const dst = c + <usize>r * ldc;
    if (acc) for (let j = 0; j < nr; j++) store<f32>(dst + (j << 2), load<f32>(dst + (j << 2)) + load<f32>(src + (j << 2)));
    else for (let j = 0; j < nr; j++) store<f32>(dst + (j << 2), load<f32>(src + (j << 2)));
  }
}

// ---------------------------------------------------------------- packing

// @ts-ignore: decorator
@inline function transpose4(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, stride: usize): void {
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
  const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
  const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
  v128.store(dst, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
  v128.store(dst + stride, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
}

/**
 * Packs rows [0, mc) × depth [0, kc) of op(A) (a points at element (0, 0) of the block)
 * into MR-row panels: panel q holds kc groups of MR floats.
 */
function packBlockA(transA: bool, mc: i32, kc: i32, a: usize, lda: i32, dst: usize): void {
  const ldaB = <usize>lda << 2;
  if (transA) {
    packRowsA(mc, kc, a, ldaB, dst);
    return;
  }
  for (let ir = 0; ir < mc; ir += MR) {
    const mr = min(MR, mc - ir);
    // op(A)(i, p) = a[i·lda + p]: MR rows, read 4 columns at a time and transpose.
    const row = a + <usize>ir * ldaB;
    if (mr == MR) {
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const o = <usize>(p << 2);
        transpose4(
          v128.load(row + o), v128.load(row + ldaB + o), v128.load(row + 2 * ldaB + o), v128.load(row + 3 * ldaB + o),
          dst + <usize>(p * MR * 4), MR * 4,
        );
      }
      for (; p < kc; p++) {
        const o = <usize>(p << 2);
        const d = dst + <usize>(p * MR * 4);
        store<f32>(d, load<f32>(row + o));
        store<f32>(d, load<f32>(row + ldaB + o), 4);
        store<f32>(d, load<f32>(row + 2 * ldaB + o), 8);
        store<f32>(d, load<f32>(row + 3 * ldaB + o), 12);
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const d = dst + <usize>(p * MR * 4);
        for (let r = 0; r < MR; r++) {
          store<f32>(d + (r << 2), r < mr ? load<f32>(row + <usize>r * ldaB + (p << 2)) : 0);
        }
      }
    }
    dst += <usize>(kc * MR * 4);
  }
}

/** Depth steps per pass of the row-wise packers: few enough pages for the TLB, whatever the stride. */
const PSTEP = 16;

/**
 * op(A)(i, p) = a[p·lda + i] (A transposed): MR contiguous floats per depth
 * step. Walks PSTEP source rows at a time across all panels, so a large
 * power-of-two stride does not cost a TLB miss per load.
 */
function packRowsA(mc: i32, kc: i32, a: usize, ldaB: usize, dst: usize): void {
  const panelB = <usize>(kc * MR * 4);
  for (let p0 = 0; p0 < kc; p0 += PSTEP) {
    const p1 = min(p0 + PSTEP, kc);
    let d = dst;
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = min(MR, mc - ir);
      const col = a + (<usize>ir << 2);
      if (mr == MR) {
        for (let p = p0; p < p1; p++) v128.store(d + <usize>(p * MR * 4), v128.load(col + <usize>p * ldaB));
      } else {
        for (let p = p0; p < p1; p++) {
          const o = d + <usize>(p * MR * 4);
          const s = col + <usize>p * ldaB;
          for (let r = 0; r < MR; r++) store<f32>(o + (r << 2), r < mr ? load<f32>(s + (r << 2)) : 0);
        }
      }
      d += panelB;
    }
  }
}

/** op(B)(p, j) = b[p·ldb + j] (B not transposed): NR contiguous floats per depth step, PSTEP rows at a time. */
function packRowsB(kc: i32, nc: i32, b: usize, ldbB: usize, dst: usize): void {
  const panelB = <usize>(kc * NR * 4);
  for (let p0 = 0; p0 < kc; p0 += PSTEP) {
    const p1 = min(p0 + PSTEP, kc);
    let d = dst;
    for (let jr = 0; jr < nc; jr += NR) {
      const nr = min(NR, nc - jr);
      const col = b + (<usize>jr << 2);
      if (nr == NR) {
        for (let p = p0; p < p1; p++) {
          const s = col + <usize>p * ldbB;
          const o = d + <usize>(p * NR * 4);
          v128.store(o, v128.load(s));
          v128.store(o, v128.load(s, 16), 16);
        }
      } else {
        for (let p = p0; p < p1; p++) {
          const s = col + <usize>p * ldbB;
          const o = d + <usize>(p * NR * 4);
          for (let j = 0; j < NR; j++) store<f32>(o + (j << 2), j < nr ? load<f32>(s + (j << 2)) : 0);
        }
      }
      d += panelB;
    }
  }
}

/**
 * Packs depth [0, kc) × columns [0, nc) of op(B) (b points at element (0, 0) of the block)
 * into NR-column panels: panel q holds kc groups of NR floats.
 */
function packBlockB(transB: bool, kc: i32, nc: i32, b: usize, ldb: i32, dst: usize): void {
  const ldbB = <usize>ldb << 2;
  if (!transB) {
    packRowsB(kc, nc, b, ldbB, dst);
    return;
  }
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    // op(B)(p, j) = b[j·ldb + p]: NR rows of b, read 4 depths at a time and transpose.
    const row = b + <usize>jr * ldbB;
    if (nr == NR) {
      let p = 0;
      for (; p + 4 <= kc; p += 4) {
        const o = <usize>(p << 2);
        const d = dst + <usize>(p * NR * 4);
        transpose4(
          v128.load(row + o), v128.load(row + ldbB + o), v128.load(row + 2 * ldbB + o), v128.load(row + 3 * ldbB + o),
          d, NR * 4,
        );
        const row4 = row + 4 * ldbB;
        transpose4(
          v128.load(row4 + o), v128.load(row4 + ldbB + o), v128.load(row4 + 2 * ldbB + o), v128.load(row4 + 3 * ldbB + o),
          d + 16, NR * 4,
        );
      }
      for (; p < kc; p++) {
        const d = dst + <usize>(p * NR * 4);
        for (let j = 0; j < NR; j++) store<f32>(d + (j << 2), load<f32>(row + <usize>j * ldbB + (p << 2)));
      }
    } else {
      for (let p = 0; p < kc; p++) {
        const d = dst + <usize>(p * NR * 4);
        for (let j = 0; j < NR; j++) store<f32>(d + (j << 2), j < nr ? load<f32>(row + <usize>j * ldbB + (p << 2)) : 0);
      }
    }
    dst += <usize>(kc * NR * 4);
  }
}

/**
 * Packs all of op(B) (k×n) for gemmPacked: depth blocks of KC, each holding
 * ceil(n/NR) panels of kc×NR floats (the layout gemm builds block by block).
 */
export function packB(transB: bool, k: i32, n: i32, b: usize, ldb: i32, dst: usize): void {
  const nPad = ((n + NR - 1) / NR) * NR;
  for (let pc = 0; pc < k; pc += KC) {
    const kc = min(KC, k - pc);
    const src = transB ? b + (<usize>pc << 2) : b + (<usize>pc * <usize>ldb << 2);
    packBlockB(transB, kc, n, src, ldb, dst + (<usize>(pc * nPad) << 2));
  }
}

// ---------------------------------------------------------------- driver

function macro(mc: i32, nc: i32, kc: i32, pa: usize, pb: usize, c: usize, ldc: i32, acc: bool): void {
  const ldcB = <usize>ldc << 2;
  for (let jr = 0; jr < nc; jr += NR) {
    const nr = min(NR, nc - jr);
    const pbj = pb + <usize>(jr * kc * 4);
    for (let ir = 0; ir < mc; ir += MR) {
      const mr = min(MR, mc - ir);
      const pai = pa + <usize>(ir * kc * 4);
      const cij = c + <usize>ir * ldcB + (<usize>jr << 2);
      if (mr == MR && nr == NR) micro(kc, pai, pbj, cij, ldcB, acc);
      else microEdge(kc, pai, pbj, cij, ldcB, acc, mr, nr);
    }
  }
}

/**
 * C = op(A)·op(B) (+ C when accumulate). When `packed` is non-zero it points at
 * op(B) already laid out by packB (and b, ldb, transB are ignored).
 */
export function gemm(
  transA: bool, transB: bool, m: i32, n: i32, k: i32,
  a: usize, lda: i32, b: usize, ldb: i32, c: usize, ldc: i32, accumulate: bool, packed: usize,
): void {
  if (m <= 0 || n <= 0) return;
  const ldcB = <usize>ldc << 2;
  if (k <= 0) {
    if (!accumulate) for (let i = 0; i < m; i++) memory.fill(c + <usize>i * ldcB, 0, <usize>n << 2);
    return;
  }
  const nPad = ((n + NR - 1) / NR) * NR;
  for (let jc = 0; jc < n; jc += NC) {
    const nc = min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = min(KC, k - pc);
      let pb: usize;
      if (packed) {
        pb = packed + (<usize>(pc * nPad + jc * kc) << 2);
      } else {
        const src = transB ? b + ((<usize>jc * <usize>ldb + <usize>pc) << 2) : b + ((<usize>pc * <usize>ldb + <usize>jc) << 2);
        packBlockB(transB, kc, nc, src, ldb, workB);
        pb = workB;
      }
      const acc = accumulate || pc > 0;
      for (let ic = 0; ic < m; ic += MC) {
        const mc = min(MC, m - ic);
        const src = transA ? a + ((<usize>pc * <usize>lda + <usize>ic) << 2) : a + ((<usize>ic * <usize>lda + <usize>pc) << 2);
        packBlockA(transA, mc, kc, src, lda, workA);
        macro(mc, nc, kc, workA, pb, c + <usize>ic * ldcB + (<usize>jc << 2), ldc, acc);
      }
    }
  }
}
