export { defaultSpeechFeatures, validateFeatureConfig as validateSpeechFeatures, inputSize as speechInputSize, stackFrames, speechInput, wavInput, type SpeechFeatureConfig, type Utterance } from './features.js';
export { SpeechModel, validateSpeechConfig, BLANK as SPEECH_BLANK, CLASSES as SPEECH_CLASSES, type SpeechModelConfig, type SpeechBatch } from './model.js';
export { makeBatch as makeSpeechBatch, Batches as SpeechBatches, type BatchesState as SpeechBatchesState, type Example as SpeechExample } from './batches.js';
export {
  transcribe, digitErrors, scoreDigits, testScore, type DecodeOptions as TranscribeOptions, type DigitErrors,
} from './decode.js';
export { speechCodec, SPEECH_TASK } from './codec.js';
