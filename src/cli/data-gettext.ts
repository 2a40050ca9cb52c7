/** `bptt data gettext`: English→<lang> sentence pairs from the installed gettext catalogs, cleaned and split. */
import { join } from 'node:path';
import { Command } from 'commander';
import { writeFileSafe } from '../io/node/safe-files.js';
import { gettextPairs } from '../data/node/gettext.js';
import { DROP_REASONS, MAX_WORDS, MIN_WORDS, splitPairs, type SentencePair } from '../data/index.js';
import { ensureWritableDir } from '../io/node/checkpoint-files.js';
import { DataError, expected } from '../tensor/index.js';
import { integer } from './options.js';

interface GettextOptions {
  lang: string;
  out: string;
  locales: string;
  seed: number;
}

export function dataCommand(): Command {
  return new Command('data')
    .description('prepare data sets')
    .addCommand(new Command('gettext')
      .description(`English→LANG sentence pairs from the gettext catalogs of the installed packages (LOCALES/LANG/LC_MESSAGES/*.mo): cleaned (${MIN_WORDS}–${MAX_WORDS} words a side, no placeholders, markup or multi-line entries, first translation of a sentence wins) and split 90/5/5 by English sentence`)
      .requiredOption('--lang <code>', 'target language, a locale folder name such as fr, de, es or pt_BR')
      .requiredOption('--out <dir>', 'writes train/dev/test .en and .LANG (line-aligned) and stats.json here')
      .option('--locales <dir>', 'where the catalogs are', '/usr/share/locale')
      .option('--seed <n>', 'seed of the split', integer(0, 2 ** 32 - 1), 1)
      .action((o: GettextOptions) => gettext(o)));
}

function gettext(o: GettextOptions): void {
  const got = gettextPairs(o.lang, o.locales);
  if (got.pairs.length < 20) throw new DataError(expected(`bptt data gettext --lang ${o.lang}`, 'at least 20 sentence pairs after cleaning', `${got.pairs.length} from ${got.files} catalogs`));
  const parts = splitPairs(got.pairs, o.seed);
  ensureWritableDir(o.out);
  const write = (name: string, pairs: readonly SentencePair[]) => {
    writeFileSafe(join(o.out, `${name}.en`), pairs.map((p) => p.source + '\n').join(''));
    writeFileSafe(join(o.out, `${name}.${o.lang}`), pairs.map((p) => p.target + '\n').join(''));
  };
  write('train', parts.train);
  write('dev', parts.dev);
  write('test', parts.test);
  const stats = {
    lang: o.lang, locales: o.locales, catalogs: got.files, unreadable: got.unreadable, entries: got.entries, kept: got.pairs.length,
    dropped: Object.fromEntries(DROP_REASONS.map((r) => [r, got.dropped[r]])), split: { seed: o.seed, train: parts.train.length, dev: parts.dev.length, test: parts.test.length },
  };
  writeFileSafe(join(o.out, 'stats.json'), JSON.stringify(stats, null, 2) + '\n');
  console.log(`${got.files} catalogs, ${got.entries} entries → ${got.pairs.length} sentence pairs (train ${parts.train.length}, dev ${parts.dev.length}, test ${parts.test.length}) in ${o.out}`);
  console.log(`dropped: ${DROP_REASONS.filter((r) => got.dropped[r]).map((r) => `${r} ${got.dropped[r]}`).join(', ')}${got.unreadable.length ? `; ${got.unreadable.length} unreadable catalogs (stats.json lists them)` : ''}`);
}
