import { ConfigError, expected } from '../../tensor/index.js';
import type { WasmMemory } from './load.js';

const PAGE = 65536;
/** Every block starts on a cache line. */
export const ALIGN = 64;

export const alignUp = (bytes: number): number => Math.ceil(bytes / ALIGN) * ALIGN;

interface Block {
  off: number;
  bytes: number;
}

/**
 * The wasm linear memory as a heap of aligned blocks, managed from JavaScript:
 * a first-fit free list with coalescing. The memory grows when no free block
 * fits. Growing a shared memory leaves older views valid (each growth only adds
 * a new, longer SharedArrayBuffer); growing a non-shared one detaches its old
 * ArrayBuffer, so every Float32Array view on it goes dead (length 0).
 * Listeners registered with onGrow run right after a growth.
 */
export class WasmHeap {
  /** Current buffer of the memory (replaced at each growth). */
  buffer: ArrayBufferLike;
  /** A view of the whole memory (replaced at each growth). */
  f32: Float32Array;
  private readonly free: Block[] = [];
  private readonly listeners = new Set<() => void>();
  /** earlier SharedArrayBuffers of a shared memory: views on them stay valid */
  private readonly older = new WeakSet<ArrayBufferLike>();
  private growths = 0;

  constructor(readonly memory: WasmMemory, base: number, readonly shared: boolean) {
    this.buffer = memory.buffer;
    this.f32 = new Float32Array(this.buffer);
    const start = alignUp(base);
    if (start < this.buffer.byteLength) this.free.push({ off: start, bytes: this.buffer.byteLength - start });
  }

  /** True when buf is (a live generation of) this memory's buffer. */
  owns(buf: ArrayBufferLike): boolean {
    return buf === this.buffer || this.older.has(buf);
  }

  /** How many times the memory has grown. */
  get growCount(): number {
    return this.growths;
  }

  /** Byte offset of a new block of at least `bytes` (growing the memory if needed). */
  allocate(bytes: number): number {
    const size = alignUp(Math.max(bytes, 1));
    let i = this.free.findIndex((b) => b.bytes >= size);
    if (i < 0) {
      this.grow(size);
      i = this.free.findIndex((b) => b.bytes >= size);
    }
    const b = this.free[i]!;
    const off = b.off;
    if (b.bytes === size) this.free.splice(i, 1);
    else {
      b.off += size;
      b.bytes -= size;
    }
    return off;
  }

  /** Returns a block obtained from allocate (with the same byte count). */
  release(off: number, bytes: number): void {
    const size = alignUp(Math.max(bytes, 1));
    let i = 0;
    while (i < this.free.length && this.free[i]!.off < off) i++;
    const prev = this.free[i - 1];
    const next = this.free[i];
    if ((prev && prev.off + prev.bytes > off) || (next && off + size > next.off)) {
      throw new ConfigError(expected('wasm heap: free', 'a block that is currently allocated', `offset ${off}`, 'freed twice?'));
    }
    if (prev && prev.off + prev.bytes === off) {
      prev.bytes += size;
      if (next && prev.off + prev.bytes === next.off) {
        prev.bytes += next.bytes;
        this.free.splice(i, 1);
      }
    } else if (next && off + size === next.off) {
      next.off = off;
      next.bytes += size;
    } else this.free.splice(i, 0, { off, bytes: size });
  }

  /** Grows the memory so that one free block of at least `bytes` exists. */
  reserve(bytes: number): void {
    const size = alignUp(bytes);
    if (!this.free.some((b) => b.bytes >= size)) this.grow(size);
  }

  /** Largest block that can be allocated without growing. */
  largestFree(): number {
    return this.free.reduce((m, b) => Math.max(m, b.bytes), 0);
  }

  onGrow(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private grow(size: number): void {
    const end = this.buffer.byteLength;
    const tail = this.free[this.free.length - 1];
    const tailFree = tail && tail.off + tail.bytes === end ? tail.bytes : 0;
    // at least a quarter more each time, so a run of growing requests grows the memory a few times only
    const want = Math.max(size - tailFree, end / 4);
    const pages = Math.ceil(want / PAGE);
    try {
      this.memory.grow(pages);
    } catch {
      throw new ConfigError(expected('wasm heap', `room for ${size} more bytes`, `a memory of ${end} bytes that cannot grow by ${pages} pages`));
    }
    const added = pages * PAGE;
    if (tailFree > 0) tail!.bytes += added;
    else this.free.push({ off: end, bytes: added });
    if (this.shared) this.older.add(this.buffer);
    this.buffer = this.memory.buffer;
    this.f32 = new Float32Array(this.buffer);
    this.growths++;
    for (const l of this.listeners) l();
  }
}
