/**
 * The data files of a resumed run. A manifest records each file trained on as
 * its path with a hash of its text ("/data/a.txt (sha256 0123456789abcdef)"),
 * but `--resume` never reads a path it finds there (a manifest may have been
 * edited to name any file): the user names the files again, and they must have
 * the recorded hash. The path may differ (the files may have moved).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { ConfigError, DataError, expected } from '../tensor/index.js';

/** A file as a manifest records it: its absolute path and the first 16 hex digits of its text's SHA-256. */
export function fileName(path: string, text: string): string {
  return `${resolve(path)} (sha256 ${createHash('sha256').update(text).digest('hex').slice(0, 16)})`;
}

/** The hash in a name `fileName` made, or null (older translate checkpoints name their files without one). */
export function hashOf(name: string): string | null {
  return / \(sha256 ([0-9a-f]+)\)$/.exec(name)?.[1] ?? null;
}

/** The error of a resumed run whose data file the user did not name again. */
export function fileNotGiven(where: string, flag: string, saved: string): ConfigError {
  const why = 'bptt does not read files named inside a checkpoint';
  return new ConfigError(expected(where, `${flag} ${saved}`, `no ${flag}`, why));
}

/** The error of a resumed run given a data file it was not trained with (none). */
export function fileNotSaved(where: string, flag: string, given: string): ConfigError {
  return new ConfigError(expected(where, `no ${flag}, as saved`, `${flag} ${given}`));
}

/** The file given again (`now`, named by `fileName`) must be the one trained on (`saved`): the same hash. */
export function checkSameFile(where: string, flag: string, saved: string, now: string): void {
  const was = hashOf(saved);
  if (was === null) throw new DataError(expected(where, `the hash of the ${flag} file trained on`, `'${saved}'`));
  if (was === hashOf(now)) return;
  throw new DataError(expected(where, `${flag} ${saved}, the file it was trained on`, `${flag} ${now}`));
}
