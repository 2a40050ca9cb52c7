export { echoBatch, type TokenBatch } from './synthetic.js';
