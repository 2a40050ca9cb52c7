export { LanguageModel, validateConfig, type LanguageModelConfig, type LmBatch, type CellKind } from './model.js';
export { scoreTokens, type LmScore } from './evaluate.js';
export { learningRate, validateSchedule, type Schedule } from './schedule.js';
export { sampleText, beamText, primeIds, type GenerateOptions } from './generate.js';
