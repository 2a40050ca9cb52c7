import { ConfigError, expected, type Arr } from '../../tensor/index.js';
import type { AdamStep, Kernels, Nonlinearity } from '../kernels.js';
import { ReferencePacked, reference } from '../reference.js';
import { Backend, Packed, isF32, type PackedB } from './backend.js';
import { instantiateAsync, instantiateSync, type WasmExports, type WasmInstance, type WasmLoadOptions, type WasmMemory } from './load.js';
import { IN, INOUT, OUT, type Stager } from './stage.js';

export type { WasmLoadOptions } from './load.js';
export type { PackedB } from './backend.js';

/**
 * The WebAssembly SIMD backend. Besides the Kernels methods (Float32Array
 * operands; Float64Array calls are delegated to `reference`):
 *
 * Memory residency (zero-copy): kernels copy ordinary arrays into wasm memory
 * and back. Arrays from `alloc` live in wasm memory and are used in place.
 * The memory grows when alloc, pin, packB or a large call needs room. With a
 * shared memory (`sharedMemory`: Node, and cross-origin-isolated pages) older
 * views stay valid. Otherwise a growth detaches every older view: `alloc`ed
 * arrays then read as length 0 and must be replaced with `refresh(view)`;
 * avoid that by calling `reserve` first, or re-create views in an
 * `onMemoryGrow` listener.
 */
export interface WasmKernels extends Kernels {
  readonly name: 'wasm';
  /** the relaxed-SIMD build (fused multiply-add) is running */
  readonly relaxedSimd: boolean;
  /** the memory is shared (Node; browsers when cross-origin isolated): growth never detaches views */
  readonly sharedMemory: boolean;
  readonly memory: WasmMemory;
  /** A zero-filled Float32Array of n elements inside wasm memory (64-byte aligned). */
  alloc(n: number): Float32Array;
  /** As alloc, and the block is returned to the heap once the view is garbage collected. */
  allocCollected(n: number): Float32Array;
  /** Returns an `alloc`ed block (any view of it that alloc or refresh returned). */
  free(view: Float32Array): void;
  /** The live view of an `alloc`ed block, after a memory growth detached the old one. */
  refresh(view: Float32Array): Float32Array;
  /** Grows the memory now so that `floats` more can be allocated or staged without growing later. */
  reserve(floats: number): void;
  /** Called after every memory growth; returns an unsubscribe function. */
  onMemoryGrow(listener: () => void): () => void;
  /** True when `a` is a view on the current wasm memory (kernels use it without copying). */
  isResident(a: Arr): boolean;
  /**
   * Copies a read-only array into wasm memory once; kernels then read the copy
   * instead of copying `a` at every call. Call pin(a) again after changing a,
   * unpin(a) when done. Passing a pinned array as an output throws.
   */
  pin(a: Float32Array): void;
  unpin(a: Float32Array): void;
  /** Packs op(B) (k×n; B is n×k when transB) into the GEMM's panel layout, once. */
  packB(transB: boolean, k: number, n: number, b: Float32Array, ldb?: number): PackedB;
  /** C (m×n, row stride ldc) = op(A)·op(B) (+ C when accumulate) with a packed op(B). */
  gemmPacked(transA: boolean, m: number, a: Float32Array, lda: number, packed: PackedB, c: Float32Array, ldc: number, accumulate: boolean): void;
  /** out = f(x) elementwise with the kernels' own vector exp, sigmoid or tanh (accuracy checks). */
  activation(f: 'exp' | 'sigmoid' | 'tanh', x: Float32Array, out: Float32Array): void;
}

/**
 * Below these sizes a call costs more in staging than it saves (a single
 * sequence through a tiny layer, bench/inference.ts): plain TypeScript does it.
 */
const SMALL = { gemm: 4096, pack: 1024, pointwise: 64 }; // m·n·k, k·n, batch·hidden

/** WasmKernels over one instance: each kernel stages its operands, calls the export, copies outputs back. */
class WasmBackend implements WasmKernels {
  readonly name = 'wasm' as const;
  readonly relaxedSimd: boolean;
  readonly sharedMemory: boolean;
  readonly memory: WasmMemory;
  private readonly be: Backend;
  private readonly x: WasmExports;
  private readonly st: Stager;
  private readonly small: typeof SMALL;

  constructor(inst: WasmInstance, delegateSmall = true) {
    this.small = delegateSmall ? SMALL : { gemm: 0, pack: 0, pointwise: 0 };
    this.be = new Backend(inst.exports, inst);
    this.x = inst.exports;
    this.st = this.be.stage;
    this.relaxedSimd = inst.relaxed;
    this.sharedMemory = inst.shared;
    this.memory = inst.memory;
  }

  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Arr, b: Arr, c: Arr, accumulate: boolean): void {
    this.gemmStrided(transA, transB, m, n, k, a, transA ? m : k, b, transB ? k : n, c, n, accumulate);
  }

  gemmStrided(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    a: Arr, lda: number, b: Arr, ldb: number, c: Arr, ldc: number, accumulate: boolean,
  ): void {
    if (!(isF32(a) && isF32(b) && isF32(c)) || m * n * k < this.small.gemm) return reference.gemmStrided(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    this.be.gemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc, accumulate, null);
  }

  addRowVector(c: Arr, bias: Arr, m: number, n: number): void {
    if (!(isF32(c) && isF32(bias)) || m * n < this.small.pack) return reference.addRowVector(c, bias, m, n);
    const p = this.st.begin().add(c, m * n, INOUT, 'addRowVector: C').add(bias, n, IN, 'addRowVector: bias').commit();
    this.x.addRowVector(p[0]!, p[1]!, m, n);
    this.st.finish();
  }

  sumRows(a: Arr, m: number, n: number, out: Arr): void {
    if (!(isF32(a) && isF32(out)) || m * n < this.small.pack) return reference.sumRows(a, m, n, out);
    const p = this.st.begin().add(a, m * n, IN, 'sumRows: A').add(out, n, INOUT, 'sumRows: out').commit();
    this.x.sumRows(p[0]!, m, n, p[1]!);
    this.st.finish();
  }

  lstmForward(g: Arr, cPrev: Arr, c: Arr, h: Arr, batch: number, hidden: number): void {
    if (!(isF32(g) && isF32(cPrev) && isF32(c) && isF32(h)) || batch * hidden < this.small.pointwise) return reference.lstmForward(g, cPrev, c, h, batch, hidden);
    const n = batch * hidden;
    const p = this.st.begin().add(g, 4 * n, INOUT, 'lstmForward: g').add(cPrev, n, IN, 'lstmForward: cPrev')
      .add(c, n, OUT, 'lstmForward: c').add(h, n, OUT, 'lstmForward: h').commit();
    this.x.lstmForward(p[0]!, p[1]!, p[2]!, p[3]!, batch, hidden);
    this.st.finish();
  }

  lstmBackward(gates: Arr, cPrev: Arr, c: Arr, dh: Arr, dc: Arr, dG: Arr, batch: number, hidden: number): void {
    if (!(isF32(gates) && isF32(cPrev) && isF32(c) && isF32(dh) && isF32(dc) && isF32(dG)) || batch * hidden < this.small.pointwise) {
      return reference.lstmBackward(gates, cPrev, c, dh, dc, dG, batch, hidden);
    }
    const n = batch * hidden;
    const p = this.st.begin().add(gates, 4 * n, IN, 'lstmBackward: gates').add(cPrev, n, IN, 'lstmBackward: cPrev')
      .add(c, n, IN, 'lstmBackward: c').add(dh, n, IN, 'lstmBackward: dh').add(dc, n, INOUT, 'lstmBackward: dc')
      .add(dG, 4 * n, OUT, 'lstmBackward: dG').commit();
    this.x.lstmBackward(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, batch, hidden);
    this.st.finish();
  }

  gruForward(xp: Arr, hp: Arr, hPrev: Arr, gates: Arr, h: Arr, batch: number, hidden: number): void {
    if (!(isF32(xp) && isF32(hp) && isF32(hPrev) && isF32(gates) && isF32(h)) || batch * hidden < this.small.pointwise) {
      return reference.gruForward(xp, hp, hPrev, gates, h, batch, hidden);
    }
    const n = batch * hidden;
    const p = this.st.begin().add(xp, 3 * n, IN, 'gruForward: xp').add(hp, 3 * n, IN, 'gruForward: hp')
      .add(hPrev, n, IN, 'gruForward: hPrev').add(gates, 3 * n, OUT, 'gruForward: gates').add(h, n, OUT, 'gruForward: h').commit();
    this.x.gruForward(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, batch, hidden);
    this.st.finish();
  }

  gruBackward(gates: Arr, hp: Arr, hPrev: Arr, dh: Arr, dXp: Arr, dHp: Arr, dhPrev: Arr, batch: number, hidden: number): void {
    if (!(isF32(gates) && isF32(hp) && isF32(hPrev) && isF32(dh) && isF32(dXp) && isF32(dHp) && isF32(dhPrev)) || batch * hidden < this.small.pointwise) {
      return reference.gruBackward(gates, hp, hPrev, dh, dXp, dHp, dhPrev, batch, hidden);
    }
    const n = batch * hidden;
    const p = this.st.begin().add(gates, 3 * n, IN, 'gruBackward: gates').add(hp, 3 * n, IN, 'gruBackward: hp')
      .add(hPrev, n, IN, 'gruBackward: hPrev').add(dh, n, IN, 'gruBackward: dh').add(dXp, 3 * n, OUT, 'gruBackward: dXp')
      .add(dHp, 3 * n, OUT, 'gruBackward: dHp').add(dhPrev, n, OUT, 'gruBackward: dhPrev').commit();
    this.x.gruBackward(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, p[5]!, p[6]!, batch, hidden);
    this.st.finish();
  }

  gruResetGates(xp: Arr, hp: Arr, hPrev: Arr, gates: Arr, rh: Arr, batch: number, hidden: number): void {
    if (!(isF32(xp) && isF32(hp) && isF32(hPrev) && isF32(gates) && isF32(rh)) || batch * hidden < this.small.pointwise) {
      return reference.gruResetGates(xp, hp, hPrev, gates, rh, batch, hidden);
    }
    const n = batch * hidden;
    const p = this.st.begin().add(xp, 3 * n, IN, 'gruResetGates: xp').add(hp, 3 * n, IN, 'gruResetGates: hp')
      .add(hPrev, n, IN, 'gruResetGates: hPrev').add(gates, 3 * n, INOUT, 'gruResetGates: gates')
      .add(rh, n, OUT, 'gruResetGates: rh').commit();
    this.x.gruResetGates(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, batch, hidden);
    this.st.finish();
  }

  gruResetOutput(xp: Arr, hp: Arr, hPrev: Arr, gates: Arr, h: Arr, batch: number, hidden: number): void {
    if (!(isF32(xp) && isF32(hp) && isF32(hPrev) && isF32(gates) && isF32(h)) || batch * hidden < this.small.pointwise) {
      return reference.gruResetOutput(xp, hp, hPrev, gates, h, batch, hidden);
    }
    const n = batch * hidden;
    const p = this.st.begin().add(xp, 3 * n, IN, 'gruResetOutput: xp').add(hp, 3 * n, IN, 'gruResetOutput: hp')
      .add(hPrev, n, IN, 'gruResetOutput: hPrev').add(gates, 3 * n, INOUT, 'gruResetOutput: gates')
      .add(h, n, OUT, 'gruResetOutput: h').commit();
    this.x.gruResetOutput(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, batch, hidden);
    this.st.finish();
  }

  gruResetBackwardZN(gates: Arr, hPrev: Arr, dh: Arr, dG: Arr, dhPrev: Arr, batch: number, hidden: number): void {
    if (!(isF32(gates) && isF32(hPrev) && isF32(dh) && isF32(dG) && isF32(dhPrev)) || batch * hidden < this.small.pointwise) {
      return reference.gruResetBackwardZN(gates, hPrev, dh, dG, dhPrev, batch, hidden);
    }
    const n = batch * hidden;
    const p = this.st.begin().add(gates, 3 * n, IN, 'gruResetBackwardZN: gates').add(hPrev, n, IN, 'gruResetBackwardZN: hPrev')
      .add(dh, n, IN, 'gruResetBackwardZN: dh').add(dG, 3 * n, INOUT, 'gruResetBackwardZN: dG')
      .add(dhPrev, n, OUT, 'gruResetBackwardZN: dhPrev').commit();
    this.x.gruResetBackwardZN(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, batch, hidden);
    this.st.finish();
  }

  gruResetBackwardR(gates: Arr, hPrev: Arr, dRh: Arr, dG: Arr, dhPrev: Arr, batch: number, hidden: number): void {
    if (!(isF32(gates) && isF32(hPrev) && isF32(dRh) && isF32(dG) && isF32(dhPrev)) || batch * hidden < this.small.pointwise) {
      return reference.gruResetBackwardR(gates, hPrev, dRh, dG, dhPrev, batch, hidden);
    }
    const n = batch * hidden;
    const p = this.st.begin().add(gates, 3 * n, IN, 'gruResetBackwardR: gates').add(hPrev, n, IN, 'gruResetBackwardR: hPrev')
      .add(dRh, n, IN, 'gruResetBackwardR: dRh').add(dG, 3 * n, INOUT, 'gruResetBackwardR: dG')
      .add(dhPrev, n, INOUT, 'gruResetBackwardR: dhPrev').commit();
    this.x.gruResetBackwardR(p[0]!, p[1]!, p[2]!, p[3]!, p[4]!, batch, hidden);
    this.st.finish();
  }

  rnnForward(g: Arr, nonlinearity: Nonlinearity): void {
    if (!isF32(g) || g.length < this.small.pointwise) return reference.rnnForward(g, nonlinearity);
    const p = this.st.begin().add(g, g.length, INOUT, 'rnnForward: g').commit();
    this.x.rnnForward(p[0]!, g.length, nonlinearity === 'tanh' ? 0 : 1);
    this.st.finish();
  }

  rnnBackward(h: Arr, dh: Arr, dG: Arr, nonlinearity: Nonlinearity): void {
    if (!(isF32(h) && isF32(dh) && isF32(dG)) || h.length < this.small.pointwise) return reference.rnnBackward(h, dh, dG, nonlinearity);
    const n = h.length;
    const p = this.st.begin().add(h, n, IN, 'rnnBackward: h').add(dh, n, IN, 'rnnBackward: dh').add(dG, n, OUT, 'rnnBackward: dG').commit();
    this.x.rnnBackward(p[0]!, p[1]!, p[2]!, n, nonlinearity === 'tanh' ? 0 : 1);
    this.st.finish();
  }

  exp(xs: Arr, out: Arr): void {
    if (!(isF32(xs) && isF32(out))) return reference.exp(xs, out);
    this.activation('exp', xs, out);
  }

  logSoftmax(xs: Arr, out: Arr, rows: number, cols: number): void {
    if (!(isF32(xs) && isF32(out))) return reference.logSoftmax(xs, out, rows, cols);
    const n = rows * cols;
    const p = this.st.begin().add(xs, n, IN, 'logSoftmax: x').add(out, n, OUT, 'logSoftmax: out').commit();
    this.x.logSoftmax(p[0]!, p[1]!, rows, cols);
    this.st.finish();
  }

  adam(param: Arr, grad: Arr, m: Arr, v: Arr, s: AdamStep): void {
    if (!(isF32(param) && isF32(grad) && isF32(m) && isF32(v))) return reference.adam(param, grad, m, v, s);
    const n = param.length;
    const p = this.st.begin().add(param, n, INOUT, 'adam: param').add(grad, n, IN, 'adam: grad')
      .add(m, n, INOUT, 'adam: m').add(v, n, INOUT, 'adam: v').commit();
    this.x.adam(
      p[0]!, p[1]!, p[2]!, p[3]!, n, s.lr / s.bc1, s.beta1, 1 - s.beta1, s.beta2, 1 - s.beta2,
      s.eps, Math.sqrt(s.bc2), s.weightDecay, 1 - s.decoupledDecay,
    );
    this.st.finish();
  }

  alloc(n: number): Float32Array {
    return this.be.alloc(n);
  }

  allocCollected(n: number): Float32Array {
    return this.be.allocCollected(n);
  }

  free(view: Float32Array): void {
    this.be.free(view);
  }

  refresh(view: Float32Array): Float32Array {
    return this.be.refresh(view);
  }

  reserve(floats: number): void {
    this.be.heap.reserve(floats * 4);
  }

  onMemoryGrow(listener: () => void): () => void {
    return this.be.heap.onGrow(listener);
  }

  isResident(a: Arr): boolean {
    return this.be.heap.owns(a.buffer);
  }

  pin(a: Float32Array): void {
    this.st.pin(a);
  }

  unpin(a: Float32Array): void {
    this.st.unpin(a);
  }

  packB(transB: boolean, k: number, n: number, b: Arr, ldb?: number): PackedB {
    // The float64 check path, and matrices too small for packing and staging to pay off.
    if (!isF32(b) || k * n < this.small.pack) return reference.packB(transB, k, n, b, ldb);
    return this.be.packB(transB, k, n, b, ldb ?? (transB ? k : n));
  }

  gemmPacked(transA: boolean, m: number, a: Arr, lda: number, packed: PackedB, c: Arr, ldc: number, accumulate: boolean): void {
    if (packed instanceof ReferencePacked) return reference.gemmPacked(transA, m, a, lda, packed, c, ldc, accumulate);
    if (!isF32(a) || !isF32(c)) throw new ConfigError(expected('wasm gemmPacked', 'float32 operands for a float32 packed matrix', 'float64'));
    if (!(packed instanceof Packed) || !this.be.isLive(packed)) {
      throw new ConfigError(expected('wasm gemmPacked', "a live PackedB from this backend's packB", 'a freed or foreign one'));
    }
    this.be.gemm(transA, packed.transB, m, packed.n, packed.k, a, lda, null, 0, c, ldc, accumulate, packed);
  }

  activation(f: 'exp' | 'sigmoid' | 'tanh', xs: Float32Array, out: Float32Array): void {
    const op = ({ exp: 0, sigmoid: 1, tanh: 2 } as const)[f];
    if (op === undefined) throw new ConfigError(expected('wasm activation', "'exp', 'sigmoid' or 'tanh'", `'${f}'`));
    const n = xs.length;
    const p = this.st.begin().add(xs, n, IN, 'activation: x').add(out, n, OUT, 'activation: out').commit();
    this.x.mapMath(op, p[0]!, p[1]!, n);
    this.st.finish();
  }
}

/** Instantiates the backend synchronously (Node; in browsers, prefer loadWasmKernels). Throws if WebAssembly SIMD is missing. */
export function loadWasmKernelsSync(options: WasmLoadOptions = {}): WasmKernels {
  return new WasmBackend(instantiateSync(options), options.delegateSmall);
}

/** Instantiates the backend with asynchronous compilation (browsers' main thread). */
export async function loadWasmKernels(options: WasmLoadOptions = {}): Promise<WasmKernels> {
  return new WasmBackend(await instantiateAsync(options), options.delegateSmall);
}
