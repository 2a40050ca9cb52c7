export * from './errors.js';
export * from './options.js';
export * from './dtype.js';
export * from './tensor.js';
export { Rng } from './rng.js';
