export { echoBatch, addingBatch, copyMemoryBatch, copyMemoryBaseline, type TokenBatch, type RegressionSequences } from './synthetic.js';
export { tokenize, detokenize, WordJoiner, type TokenLevel } from './tokens.js';
export { Vocabulary, UNKNOWN, type VocabularyJSON } from './vocabulary.js';
export { TokenStreams } from './streams.js';
export {
  parseTimestamp, formatTimestamp, addSteps, inferFrequency, describeFrequency, defaultSeason, TIME_FORMATS,
  type Frequency, type TimeStyle, type ParsedTime, type Gap,
} from './dates.js';
export { seriesFromTable, type TimeSeries, type Problem, type SeriesOptions, type TableLike } from './time-series.js';
export { fillMissing, insertGaps, FILL_METHODS, type FillMethod } from './fill.js';
export { cleanCmudict, g2pSplit, ARPABET_PHONEMES, type G2PEntry, type G2PCleaned, type G2PSplit } from './g2p.js';
export { readMo, type MoEntry } from './mo.js';
export {
  cleanPairs, splitPairs, normaliseSentence, DROP_REASONS, MIN_WORDS, MAX_WORDS,
  type SentencePair, type CleanedPairs, type DropReason, type PairSplit,
} from './parallel-text.js';
export { splitByKey, type Parts, type SplitFractions } from './split.js';
