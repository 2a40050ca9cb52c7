export { argmax, logSoftmax, sampleFromLogits, topKIndices, validateSampling, type SamplingOptions } from './sampling.js';
export { beamSearch, greedyDecode, type BeamModel, type BeamOptions, type GreedyOptions, type Hypothesis } from './beam.js';
export { ctcGreedy, ctcPrefixBeam, type CtcBeamOptions, type CtcGreedyOptions, type CtcHypothesis, type CtcPosteriors } from './ctc.js';
