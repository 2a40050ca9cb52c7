import { ConfigError, expected } from '../tensor/index.js';
import type { Kernels } from './kernels.js';
import { reference } from './reference.js';

export type { Kernels, AdamStep, Nonlinearity } from './kernels.js';
export { reference } from './reference.js';

const registry = new Map<string, Kernels>([['reference', reference]]);
let active: Kernels = reference;

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
  if (!k) throw new ConfigError(expected('setBackend', `one of ${[...registry.keys()].join(', ')}`, `'${name}'`));
  active = k;
}

export function backendNames(): string[] {
  return [...registry.keys()];
}
