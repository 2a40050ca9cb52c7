export { crossEntropy, type CrossEntropyOptions, type Reduction } from './cross-entropy.js';
export { mse } from './regression.js';
export { ctcLoss, type CtcOptions, type CtcTargets } from './ctc.js';
