import { ConfigError, allocate, expected, quoted, type Arr, type DType } from '../tensor/index.js';
import type { Kernels } from './kernels.js';
import { reference } from './reference.js';
import { loadWasmKernels, loadWasmKernelsSync, type WasmKernels } from './wasm/wasm.js';

export type { Kernels, AdamStep, Nonlinearity, PackedB } from './kernels.js';
export { reference } from './reference.js';
export type { WasmKernels } from './wasm/wasm.js';

const BACKENDS = ['reference', 'wasm'];

const registry = new Map<string, Kernels>([['reference', reference]]);
let active: Kernels = reference;
/** Why the wasm backend is not registered, if it is not. */
let wasmFailure: string | null = null;

/** A setting from the environment, read without a node: import (browsers have no process). */
function fromEnv(name: string, allowed: readonly string[]): string | undefined {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const value = env?.[name];
  if (value === undefined || value === '') return undefined;
  if (!allowed.includes(value)) throw new ConfigError(expected(name, `one of ${allowed.join(', ')}`, quoted(value)));
  return value;
}

/** BPTT_BACKEND=reference|wasm */
function requestedBackend(): string | undefined {
  return fromEnv('BPTT_BACKEND', BACKENDS);
}

/** BPTT_WASM_BUILD=simd|relaxed-simd pins the wasm build (default: relaxed SIMD where the engine takes it). */
function requestedBuild(): 'simd' | 'relaxed-simd' | 'auto' {
  return (fromEnv('BPTT_WASM_BUILD', ['simd', 'relaxed-simd']) as 'simd' | 'relaxed-simd' | undefined) ?? 'auto';
}

/** The backend every op uses. */
export function kernels(): Kernels {
  return active;
}

/** Makes another backend available by name (the wasm backend registers itself here). */
export function registerBackend(k: Kernels): void {
  registry.set(k.name, k);
}

/** Switches the active backend by name. */
export function setBackend(name: string): void {
  const k = registry.get(name);
  if (!k) {
    const hint = name === 'wasm' && wasmFailure
      ? `wasm did not load: ${wasmFailure}; in a browser, await initWasmBackend() first` : undefined;
    throw new ConfigError(expected('setBackend', `one of ${[...registry.keys()].join(', ')}`, quoted(name), hint));
  }
  active = k;
}

export function backendNames(): string[] {
  return [...registry.keys()];
}

/** The wasm backend object (alloc, pin, packB, ...), once loaded. */
export function wasmBackend(): WasmKernels | null {
  return (registry.get('wasm') as WasmKernels | undefined) ?? null;
}

/**
 * Zeros for long-lived float32 state (optimizer moments, shared weights): in
 * wasm memory when the active backend is wasm with a shared memory, where the
 * kernels use it in place instead of copying it in and out at every call
 * (released when collected); an ordinary array otherwise.
 */
export function residentZeros(n: number, dtype: DType): Arr {
  const w = wasmBackend();
  if (dtype === 'float32' && w && active === w && w.sharedMemory) return w.allocCollected(n);
  return allocate(dtype, n);
}

/**
 * Loads the wasm backend with asynchronous compilation, for browsers (whose
 * main thread refuses to compile larger modules synchronously at import time),
 * registers it and, unless BPTT_BACKEND says otherwise, makes it active.
 */
export async function initWasmBackend(): Promise<WasmKernels> {
  const loaded = wasmBackend() ?? (await loadWasmKernels({ simd: requestedBuild() }));
  registerBackend(loaded);
  wasmFailure = null;
  if (requestedBackend() !== 'reference') active = loaded;
  return loaded;
}

// At import: register wasm when it compiles synchronously and make it the
// default; BPTT_BACKEND=reference|wasm overrides the choice, BPTT_WASM_BUILD the build.
{
  const requested = requestedBackend();
  const build = requestedBuild();
  try {
    registerBackend(loadWasmKernelsSync({ simd: build }));
  } catch (e) {
    wasmFailure = e instanceof Error ? e.message : String(e);
    if (requested === 'wasm') {
      throw new ConfigError(expected('BPTT_BACKEND', 'a backend that loads', `'wasm' (${wasmFailure})`));
    }
  }
  setBackend(requested ?? (registry.has('wasm') ? 'wasm' : 'reference'));
}
