export { Seq2Seq, validateSeq2SeqConfig, type Seq2SeqConfig, type PairBatch, type DecoderState, type Encoded, type LayerState } from './model.js';
export { BOS, EOS, BOS_ID, EOS_ID, buildVocabulary, encodePairs, makePairBatch, PairSampler, PairCorpus, type EncodedPair, type TextPair } from './data.js';
export { translateIds, greedyIds, beamIds, type DecodeOptions, type Translation } from './decode.js';
export { Seq2SeqTrainer, type Seq2SeqTrainingOptions, type Seq2SeqStep } from './trainer.js';
export { translateTexts, scoreG2P, scoreTranslation, type Vocabularies, type TextTranslation, type G2PScores, type TranslationScores } from './texts.js';
