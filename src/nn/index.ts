export { Module, Parameter, initUniform } from './module.js';
// the option checks live with the errors (tensor factories use them too); exported here as before
export { rejectUnknownOptions, requirePositiveInt } from '../tensor/index.js';
export { Linear, Embedding, Dropout, type LinearOptions, type EmbeddingOptions } from './linear.js';
export { Recurrent, RNN, LSTM, GRU, recurrentParameterCount, type RecurrentOptions, type RNNOptions, type GRUOptions, type HiddenState, type LSTMState, type ForwardOptions } from './recurrent.js';
export { RNNCell, LSTMCell, GRUCell, type CellOptions } from './cells.js';
export { recurrentLayer, type LayerWeights, type LayerOptions, type LayerResult } from './recurrence/layer-op.js';
export type { LayerProbe } from './recurrence/probe.js';
export { cellStepsFor, type CellSteps } from './recurrence/cell-steps.js';
export { Attention, type AttentionKind, type AttentionConfig, type AttentionMemory, type AttentionResult } from './attention.js';
