/**
 * English→<lang> sentence pairs from the installed gettext catalogs
 * (Node only: reads /usr/share/locale/<lang>/LC_MESSAGES/*.mo).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataError, expected, quoted } from '../../tensor/index.js';
import { readMo, type MoEntry } from '../mo.js';
import { cleanPairs, type CleanedPairs } from '../parallel-text.js';

export interface GettextPairs extends CleanedPairs {
  /** .mo files read. */
  files: number;
  /** Files skipped because they could not be read or parsed, with the reason. */
  unreadable: { file: string; reason: string }[];
}

/** Reads every catalog for `lang` (sorted by name, for determinism) and cleans the pairs. */
export function gettextPairs(lang: string, dir = '/usr/share/locale'): GettextPairs {
  if (!/^[A-Za-z]{2,3}([_@-][A-Za-z0-9]+)*$/.test(lang)) {
    throw new DataError(expected('gettextPairs', 'a locale name such as fr or pt_BR', quoted(lang)));
  }
  const folder = join(dir, lang, 'LC_MESSAGES');
  let names: string[];
  try {
    names = readdirSync(folder).filter((n) => n.endsWith('.mo')).sort();
  } catch (e) {
    throw new DataError(expected(`gettextPairs('${lang}')`, `a readable folder ${folder}`, (e as NodeJS.ErrnoException).code ?? String(e)));
  }
  const entries: MoEntry[] = [];
  const unreadable: GettextPairs['unreadable'] = [];
  for (const name of names) {
    const path = join(folder, name);
    try {
      for (const e of readMo(readFileSync(path), `catalog '${path}'`)) entries.push(e);
    } catch (e) {
      unreadable.push({ file: path, reason: e instanceof Error ? e.message : String(e) }); // one bad catalog must not lose the rest
    }
  }
  return { ...cleanPairs(entries), files: names.length - unreadable.length, unreadable };
}
