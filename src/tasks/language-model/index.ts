export { LanguageModel, validateConfig, type LanguageModelConfig, type LmBatch, type CellKind } from './model.js';
export { scoreTokens, type LmScore } from './evaluate.js';
export { sampleText, beamText, primeIds, type GenerateOptions } from './generate.js';
export { LmBatches, type LmBatchOptions } from './batches.js';
export { lmCodec } from './codec.js';
