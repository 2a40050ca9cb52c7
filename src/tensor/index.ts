export * from './errors.js';
export * from './tensor.js';
export { Rng } from './rng.js';
