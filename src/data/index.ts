export { echoBatch, addingBatch, copyMemoryBatch, copyMemoryBaseline, type TokenBatch, type RegressionSequences } from './synthetic.js';
export { tokenize, detokenize, WordJoiner, type TokenLevel } from './tokens.js';
export { Vocabulary, UNKNOWN, type VocabularyJSON } from './vocabulary.js';
export { TokenStreams } from './streams.js';
