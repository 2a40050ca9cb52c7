// Writes test/fixtures/gettext-fr-sample/: 200 English–French sentence pairs from
// GNU coreutils' French catalog (/usr/share/locale/fr/LC_MESSAGES/coreutils.mo, Debian
// package coreutils; GPL-3.0-or-later, Free Translation Project), cleaned as `bptt data gettext`
// cleans them; the first 160 pairs in catalog order are train, the next 40 test.
// Run after `npm run build`: node tools/make_gettext_sample.mjs
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readMo } from '../dist/src/data/mo.js';
import { cleanPairs } from '../dist/src/data/parallel-text.js';

const out = 'test/fixtures/gettext-fr-sample';
const { pairs } = cleanPairs(readMo(readFileSync('/usr/share/locale/fr/LC_MESSAGES/coreutils.mo'), 'coreutils.mo'));
mkdirSync(out, { recursive: true });
const write = (name, part) => {
  writeFileSync(`${out}/${name}.en`, part.map((p) => p.source + '\n').join(''));
  writeFileSync(`${out}/${name}.fr`, part.map((p) => p.target + '\n').join(''));
};
write('train', pairs.slice(0, 160));
write('test', pairs.slice(160, 200));
console.log(`${pairs.length} pairs in the catalog; 160 + 40 written to ${out}`);
