import { ConfigError, ShapeError, expected } from '../../tensor/index.js';
import { alignUp, type WasmHeap } from './heap.js';

/** How a kernel uses an operand: read, written whole, or read and (partly) written. */
export const IN = 1;
export const OUT = 2;
export const INOUT = 3;
export type Mode = typeof IN | typeof OUT | typeof INOUT;

const MAX_OPERANDS = 8;

interface Pinned {
  off: number;
  length: number;
}

/**
 * The one place where operands cross between JavaScript arrays and wasm memory.
 *
 * Per kernel call: `add` each operand with the number of floats the kernel
 * touches from the view's start and how it uses them, `commit` (which returns
 * the byte addresses to hand to wasm), run the kernel, then `finish`.
 * - An operand that already is a view on the wasm memory is used in place.
 * - A pinned array (read-only by contract) is used from its pinned copy.
 * - Anything else is copied into a scratch arena (inputs before, outputs after
 *   the call); outputs that the kernel writes whole skip the copy in.
 * Operands are classified before the arena may grow, so views that a growth
 * detaches are already resolved to addresses.
 */
export class Stager {
  readonly ptr = new Int32Array(MAX_OPERANDS);
  private readonly arrs: (Float32Array | null)[] = new Array<Float32Array | null>(MAX_OPERANDS).fill(null);
  private readonly lens = new Int32Array(MAX_OPERANDS);
  private readonly modes = new Int32Array(MAX_OPERANDS);
  /** 1 when the operand goes through the arena */
  private readonly staged = new Uint8Array(MAX_OPERANDS);
  private count = 0;
  private arenaOff = 0;
  private arenaBytes = 0;
  private readonly pins = new Map<Float32Array, Pinned>();

  constructor(private readonly heap: WasmHeap, arenaBytes: number) {
    this.arenaBytes = alignUp(arenaBytes);
    this.arenaOff = heap.allocate(this.arenaBytes);
  }

  /** Starts a call. */
  begin(): this {
    this.count = 0;
    return this;
  }

  /** Declares operand a: `floats` elements from its start, used as `mode`. */
  add(a: Float32Array, floats: number, mode: Mode, where: string): this {
    const i = this.count++;
    const n = Math.max(0, floats);
    if (n > a.length) throw new ShapeError(expected(`wasm ${where}`, `an array of at least ${n} elements`, a.length));
    this.arrs[i] = a;
    this.lens[i] = n;
    this.modes[i] = mode;
    if (this.heap.owns(a.buffer)) {
      this.ptr[i] = a.byteOffset;
      this.staged[i] = 0;
      return this;
    }
    const pin = this.pins.size > 0 ? this.pins.get(a) : undefined;
    if (pin) {
      if (mode !== IN) throw new ConfigError(expected(`wasm ${where}`, 'a writable output', 'a pinned (read-only) array', 'unpin it first'));
      this.ptr[i] = pin.off;
      this.staged[i] = 0;
      return this;
    }
    this.staged[i] = n > 0 ? 1 : 0;
    this.ptr[i] = 0;
    return this;
  }

  /** Sizes the arena, copies staged inputs in; returns the byte addresses in `ptr` order. */
  commit(): Int32Array {
    let need = 0;
    for (let i = 0; i < this.count; i++) if (this.staged[i]) need += alignUp(this.lens[i]! * 4);
    if (need > this.arenaBytes) this.growArena(need);
    const f32 = this.heap.f32;
    let off = this.arenaOff;
    for (let i = 0; i < this.count; i++) {
      if (!this.staged[i]) continue;
      const a = this.arrs[i]!;
      const n = this.lens[i]!;
      this.ptr[i] = off;
      if (this.modes[i]! & IN) f32.set(n === a.length ? a : a.subarray(0, n), off >> 2);
      off += alignUp(n * 4);
    }
    return this.ptr;
  }

  /** Copies staged outputs back and drops the references. */
  finish(): void {
    const f32 = this.heap.f32;
    for (let i = 0; i < this.count; i++) {
      if (this.staged[i] && this.modes[i]! & OUT) {
        const p = this.ptr[i]! >> 2;
        this.arrs[i]!.set(f32.subarray(p, p + this.lens[i]!));
      }
      this.arrs[i] = null;
    }
    this.count = 0;
  }

  /** Copies a into wasm memory once; later calls read it from there until unpin. */
  pin(a: Float32Array): void {
    if (this.heap.owns(a.buffer)) return;
    let p = this.pins.get(a);
    if (!p) {
      p = { off: this.heap.allocate(a.length * 4), length: a.length };
      this.pins.set(a, p);
    }
    this.heap.f32.set(a, p.off >> 2);
  }

  unpin(a: Float32Array): void {
    const p = this.pins.get(a);
    if (!p) return;
    this.pins.delete(a);
    this.heap.release(p.off, p.length * 4);
  }

  isPinned(a: Float32Array): boolean {
    return this.pins.has(a);
  }

  private growArena(need: number): void {
    this.heap.release(this.arenaOff, this.arenaBytes);
    const bytes = alignUp(Math.max(need, this.arenaBytes * 2));
    try {
      this.arenaOff = this.heap.allocate(bytes);
      this.arenaBytes = bytes;
    } catch (e) {
      this.arenaOff = this.heap.allocate(this.arenaBytes); // the old block is free again: this cannot fail
      throw e;
    }
  }
}
