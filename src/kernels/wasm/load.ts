import { ConfigError, expected } from '../../tensor/index.js';
import { plainSimd, relaxedSimd } from './binary.generated.js';

/** The functions assembly/index.ts exports. Pointers are byte offsets; booleans are 0/1. */
export interface WasmExports {
  heapBase(): number;
  gemmWorkspace(ptr: number): void;
  gemmWorkspaceFloats(): number;
  packedBFloats(k: number, n: number): number;
  gemm(
    transA: number, transB: number, m: number, n: number, k: number,
    a: number, lda: number, b: number, ldb: number, c: number, ldc: number, accumulate: number, packed: number,
  ): void;
  packB(transB: number, k: number, n: number, b: number, ldb: number, dst: number): void;
  addRowVector(c: number, bias: number, m: number, n: number): void;
  sumRows(a: number, m: number, n: number, out: number): void;
  lstmForward(g: number, cPrev: number, c: number, h: number, batch: number, hidden: number): void;
  lstmBackward(gates: number, cPrev: number, c: number, dh: number, dc: number, dG: number, batch: number, hidden: number): void;
  gruForward(xp: number, hp: number, hPrev: number, gates: number, h: number, batch: number, hidden: number): void;
  gruBackward(
    gates: number, hp: number, hPrev: number, dh: number, dXp: number, dHp: number, dhPrev: number, batch: number, hidden: number,
  ): void;
  gruResetGates(xp: number, hp: number, hPrev: number, gates: number, rh: number, batch: number, hidden: number): void;
  gruResetOutput(xp: number, hp: number, hPrev: number, gates: number, h: number, batch: number, hidden: number): void;
  gruResetBackwardZN(gates: number, hPrev: number, dh: number, dG: number, dhPrev: number, batch: number, hidden: number): void;
  gruResetBackwardR(gates: number, hPrev: number, dRh: number, dG: number, dhPrev: number, batch: number, hidden: number): void;
  rnnForward(g: number, n: number, relu: number): void;
  rnnBackward(h: number, dh: number, dG: number, n: number, relu: number): void;
  logSoftmax(x: number, out: number, rows: number, cols: number): void;
  adam(
    param: number, grad: number, m: number, v: number, n: number,
    stepSize: number, beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number,
    eps: number, sqrtBc2: number, weightDecay: number, keep: number,
  ): void;
  /** test hook: op 0 exp, 1 sigmoid, 2 tanh over n floats */
  mapMath(op: number, x: number, out: number, n: number): void;
}

/** The parts of the WebAssembly API used here (typed locally: the project's lib has no DOM types). */
export interface WasmMemory {
  readonly buffer: ArrayBufferLike;
  grow(pages: number): number;
}

interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  compile(bytes: Uint8Array): Promise<object>;
  instantiate(module: object, imports: object): Promise<{ exports: object }>;
}

function wasmApi(): WasmApi {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api) throw new ConfigError(expected('wasm backend', 'a WebAssembly engine', 'none'));
  return api;
}

export interface WasmInstance {
  exports: WasmExports;
  memory: WasmMemory;
  /** true when the relaxed-SIMD build (fused multiply-add in the GEMM) was chosen */
  relaxed: boolean;
  /** true when the memory is shared: growing it then leaves older views valid */
  shared: boolean;
}

export interface WasmLoadOptions {
  /** which build: the relaxed-SIMD one when the engine validates it ('auto'), or a fixed one */
  simd?: 'auto' | 'simd' | 'relaxed-simd';
  /** shared memory where the engine allows it ('auto'; browsers only when cross-origin isolated), or fixed */
  sharedMemory?: 'auto' | boolean;
  /** hand problems too small to pay for staging to the reference kernels (default true; tests turn it off to reach every wasm path) */
  delegateSmall?: boolean;
}

/** Pages the memory starts with: static data, GEMM packing space and a first staging arena fit. */
const INITIAL_PAGES = 96;
/** 4 GiB, the wasm32 limit (a shared memory needs a maximum; nothing is committed up front). */
const MAXIMUM_PAGES = 65536;

function decodeBase64(s: string): Uint8Array {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function readLeb(bytes: Uint8Array, at: { p: number }): number {
  let result = 0, shift = 0, b: number;
  do {
    b = bytes[at.p++]!;
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  return result;
}

/**
 * Both builds import a shared memory (limits flag 0x03). For an engine or page
 * without shared memory, this flips the flag of that import to 0x01 (min and
 * max, not shared), in place on a copy: same length, nothing else moves.
 */
function unshareMemoryImport(module: Uint8Array): Uint8Array {
  const bytes = module.slice();
  const at = { p: 8 };
  while (at.p < bytes.length) {
    const id = bytes[at.p++]!;
    const size = readLeb(bytes, at);
    const end = at.p + size;
    if (id === 2) {
      const count = readLeb(bytes, at);
      for (let i = 0; i < count; i++) {
        const moduleName = readLeb(bytes, at);
        at.p += moduleName;
        const fieldName = readLeb(bytes, at);
        at.p += fieldName;
        const kind = bytes[at.p++]!;
        if (kind === 2) {
          if (bytes[at.p] === 0x03) bytes[at.p] = 0x01;
          return bytes;
        }
        throw new ConfigError(expected('wasm backend', 'a module that imports only its memory', `an import of kind ${kind}`));
      }
    }
    at.p = end;
  }
  return bytes;
}

/**
 * Node 20 compiles relaxed SIMD (standard since V8 11.4, on by default from Node 22)
 * only behind --experimental-wasm-relaxed-simd; the flag can be set at run time
 * before the first compile. Reached through process.getBuiltinModule, so there is
 * no node: import and browsers skip it. Returns whether it could try.
 */
function enableRelaxedSimdInNode(): boolean {
  type V8 = { setFlagsFromString(flags: string): void };
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const v8 = proc?.getBuiltinModule?.('node:v8') as V8 | undefined;
  if (!v8) return false;
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return true;
}

/** The relaxed-SIMD build where the engine takes it (enabling it in Node 20), else plain SIMD. */
function pickBinary(simd: WasmLoadOptions['simd'], shared: boolean): { bytes: Uint8Array; relaxed: boolean } {
  const WebAssembly = wasmApi();
  const prepare = (b64: string) => (shared ? decodeBase64(b64) : unshareMemoryImport(decodeBase64(b64)));
  if (simd !== 'simd') {
    const relaxed = prepare(relaxedSimd);
    if (WebAssembly.validate(relaxed) || (enableRelaxedSimdInNode() && WebAssembly.validate(relaxed))) return { bytes: relaxed, relaxed: true };
    if (simd === 'relaxed-simd') throw new ConfigError(expected('wasm backend', 'an engine with relaxed SIMD', 'one that rejects it'));
  }
  const plain = prepare(plainSimd);
  if (!WebAssembly.validate(plain)) throw new ConfigError(expected('wasm backend', 'an engine with WebAssembly SIMD', 'one without'));
  return { bytes: plain, relaxed: false };
}

function createMemory(want: WasmLoadOptions['sharedMemory']): { memory: WasmMemory; shared: boolean } {
  const Memory = wasmApi().Memory;
  if (want !== false && typeof SharedArrayBuffer !== 'undefined') {
    try {
      return { memory: new Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES, shared: true }), shared: true };
    } catch (e) {
      if (want === true) throw new ConfigError(expected('wasm backend', 'a shared WebAssembly.Memory', `an error (${String(e)})`));
    }
  } else if (want === true) {
    throw new ConfigError(expected('wasm backend', 'SharedArrayBuffer (shared memory)', 'none', 'browsers need cross-origin isolation'));
  }
  return { memory: new Memory({ initial: INITIAL_PAGES, maximum: MAXIMUM_PAGES }), shared: false };
}

/** Compiles and instantiates synchronously (fine in Node; browsers allow it off the main thread or for small modules only). */
export function instantiateSync(options: WasmLoadOptions = {}): WasmInstance {
  const { memory, shared } = createMemory(options.sharedMemory ?? 'auto');
  const { bytes, relaxed } = pickBinary(options.simd ?? 'auto', shared);
  const WebAssembly = wasmApi();
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
  return { exports: instance.exports as unknown as WasmExports, memory, relaxed, shared };
}

export async function instantiateAsync(options: WasmLoadOptions = {}): Promise<WasmInstance> {
  const { memory, shared } = createMemory(options.sharedMemory ?? 'auto');
  const { bytes, relaxed } = pickBinary(options.simd ?? 'auto', shared);
  const WebAssembly = wasmApi();
  const module = await WebAssembly.compile(bytes);
  const instance = await WebAssembly.instantiate(module, { env: { memory } });
  return { exports: instance.exports as unknown as WasmExports, memory, relaxed, shared };
}
