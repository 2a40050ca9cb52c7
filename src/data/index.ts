export { echoBatch, addingBatch, copyMemoryBatch, copyMemoryBaseline, type TokenBatch, type RegressionSequences } from './synthetic.js';
