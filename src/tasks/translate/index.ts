/** The encoder–decoder task (browser-safe): the model, its data and batches, decoding, scores, its run codec. */
export { Seq2Seq, validateSeq2SeqConfig, type Seq2SeqConfig, type PairBatch, type DecoderState, type Encoded, type LayerState } from './model.js';
export { BOS, EOS, BOS_ID, EOS_ID, buildVocabulary, encodePairs, makePairBatch, PairSampler, PairCorpus, type EncodedPair, type TextPair } from './data.js';
export { translateIds, greedyIds, beamIds, type DecodeOptions, type Translation } from './decode.js';
export { translateTexts, scoreG2P, scoreTranslation, type Vocabularies, type TextTranslation, type G2PScores, type TranslationScores } from './texts.js';
export { PairBatches } from './batches.js';
export { translateCodec, vocabulariesOf, modelFor, type TranslateExtra } from './codec.js';
