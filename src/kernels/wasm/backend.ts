import { ConfigError, ShapeError, expected, type Arr } from '../../tensor/index.js';
import { WasmHeap } from './heap.js';
import type { WasmExports, WasmInstance } from './load.js';
import { IN, INOUT, OUT, Stager } from './stage.js';

/** Floats of the first staging arena (it doubles when a call needs more). */
const ARENA_FLOATS = 1 << 18;

/** op(B) packed once for many GEMMs (see WasmKernels.packB). Stale once B changes: call update. */
export interface PackedB {
  readonly transB: boolean;
  /** rows of op(B) */
  readonly k: number;
  /** columns of op(B) */
  readonly n: number;
  /** Re-packs from b (same shape), e.g. after an optimizer step changed the weights. */
  update(b: Float32Array, ldb?: number): void;
  /** Returns the packed copy's memory; the handle is unusable afterwards. */
  free(): void;
}

export const isF32 = (a: Arr): a is Float32Array => a instanceof Float32Array;
/** Floats a row-major view of `rows` rows of `cols` with stride ld spans. */
export const extent = (rows: number, cols: number, ld: number): number => (rows > 0 && cols > 0 ? (rows - 1) * ld + cols : 0);

interface Block {
  off: number;
  bytes: number;
}

export class Packed implements PackedB {
  constructor(
    private readonly owner: Backend, readonly transB: boolean, readonly k: number, readonly n: number,
    readonly block: Block,
  ) {}

  update(b: Float32Array, ldb?: number): void {
    this.owner.repack(this, b, ldb ?? (this.transB ? this.k : this.n));
  }

  free(): void {
    this.owner.releasePacked(this);
  }
}

/** The instance, its heap and staging, and the memory-management API behind WasmKernels. */
export class Backend {
  readonly heap: WasmHeap;
  readonly stage: Stager;
  private readonly blocks = new WeakMap<Float32Array, Block>();
  private readonly packs = new Set<Packed>();
  private readonly collector = new FinalizationRegistry<Block>((b) => this.heap.release(b.off, b.bytes));

  constructor(readonly x: WasmExports, readonly inst: WasmInstance) {
    this.heap = new WasmHeap(inst.memory, x.heapBase(), inst.shared);
    x.gemmWorkspace(this.heap.allocate(x.gemmWorkspaceFloats() * 4));
    this.stage = new Stager(this.heap, ARENA_FLOATS * 4);
  }

  alloc(n: number): Float32Array {
    if (!Number.isInteger(n) || n < 0) throw new ShapeError(expected('wasm alloc', 'a non-negative integer', n));
    const bytes = n * 4;
    const off = this.heap.allocate(bytes);
    const view = new Float32Array(this.heap.buffer, off, n);
    view.fill(0);
    this.blocks.set(view, { off, bytes });
    return view;
  }

  /** As alloc, and the block goes back to the heap once the view is garbage (no explicit free needed). */
  allocCollected(n: number): Float32Array {
    const view = this.alloc(n);
    this.collector.register(view, this.blocks.get(view)!, view);
    return view;
  }

  free(view: Float32Array): void {
    const b = this.blocks.get(view);
    if (!b) throw new ConfigError(expected('wasm free', 'an array returned by alloc or refresh', 'another array'));
    this.blocks.delete(view);
    this.collector.unregister(view);
    this.heap.release(b.off, b.bytes);
  }

  refresh(view: Float32Array): Float32Array {
    const b = this.blocks.get(view);
    if (!b) throw new ConfigError(expected('wasm refresh', 'an array returned by alloc or refresh', 'another array'));
    if (view.length * 4 === b.bytes && this.heap.owns(view.buffer)) return view;
    const fresh = new Float32Array(this.heap.buffer, b.off, b.bytes / 4);
    this.blocks.delete(view);
    this.blocks.set(fresh, b);
    return fresh;
  }

  packB(transB: boolean, k: number, n: number, b: Float32Array, ldb: number): Packed {
    if (!(k > 0 && n > 0)) throw new ShapeError(expected('wasm packB', 'k > 0 and n > 0', `k = ${k}, n = ${n}`));
    const bytes = this.x.packedBFloats(k, n) * 4;
    const p = new Packed(this, transB, k, n, { off: this.heap.allocate(bytes), bytes });
    this.packs.add(p);
    this.repack(p, b, ldb);
    return p;
  }

  repack(p: Packed, b: Float32Array, ldb: number): void {
    if (!this.packs.has(p)) throw new ConfigError(expected('wasm PackedB.update', 'a live packed matrix', 'a freed one'));
    const rows = p.transB ? p.n : p.k, cols = p.transB ? p.k : p.n;
    const s = this.stage.begin();
    s.add(b, extent(rows, cols, ldb), IN, 'packB: B');
    const ptr = s.commit();
    this.x.packB(p.transB ? 1 : 0, p.k, p.n, ptr[0]!, ldb, p.block.off);
    s.finish();
  }

  isLive(p: Packed): boolean {
    return this.packs.has(p);
  }

  releasePacked(p: Packed): void {
    if (!this.packs.delete(p)) return;
    this.heap.release(p.block.off, p.block.bytes);
  }

  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    a: Float32Array, lda: number, b: Float32Array | null, ldb: number, c: Float32Array, ldc: number,
    accumulate: boolean, packed: Packed | null,
  ): void {
    if (m <= 0 || n <= 0) return;
    const s = this.stage.begin();
    s.add(a, extent(transA ? k : m, transA ? m : k, lda), IN, 'gemm: A');
    s.add(c, extent(m, n, ldc), accumulate || ldc !== n ? INOUT : OUT, 'gemm: C');
    if (b) s.add(b, extent(transB ? n : k, transB ? k : n, ldb), IN, 'gemm: B');
    const p = s.commit();
    this.x.gemm(
      transA ? 1 : 0, transB ? 1 : 0, m, n, k, p[0]!, lda, b ? p[2]! : 0, ldb, p[1]!, ldc,
      accumulate ? 1 : 0, packed ? packed.block.off : 0,
    );
    s.finish();
  }
}

