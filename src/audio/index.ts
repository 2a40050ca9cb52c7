/** Audio front end: WAV I/O, resampling and speech features. Browser-safe (bytes in, arrays out). */
export { decodeWav, encodeWav, type Wav, type EncodeOptions } from './wav.js';
export { toMono, resample } from './resample.js';
export { fft, powerSpectrum, nextPowerOfTwo } from './fft.js';
export { hzToMel, melToHz, melFilterbank, type MelOptions, type MelFilterbank } from './mel.js';
export { preEmphasis, makeWindow, frameSignal, type WindowKind, type Frames } from './framing.js';
export { dct2, deltas, normalise, concatColumns } from './cepstrum.js';
export { audioFeatures, logMel, mfccFromLogMel, defaultFeatureOptions, type FeatureOptions, type Features } from './features.js';
