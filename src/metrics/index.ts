/** Sequence metrics for translation, g2p and speech: edit distance and error rates, BLEU, chrF. */
export { editDistance, errorRate, errorRateMultiRef, itemErrorRate } from './edit-distance.js';
export { bleu, bleuMultiRef, BLEU_MAX_ORDER, type BleuResult } from './bleu.js';
export { chrf, CHRF_CHAR_ORDER, CHRF_BETA } from './chrf.js';
