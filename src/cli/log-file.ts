import { appendFileSafe } from '../io/node/safe-files.js';
import { DataError, expected } from '../tensor/index.js';

/** Fails early, before any training, when --log cannot be appended to (the file is created empty if missing). */
export function ensureWritableLog(path: string): void {
  try {
    appendFileSafe(path, '');
  } catch (e) {
    throw new DataError(expected(`--log '${path}'`, 'a regular file this process can append to', (e as Error).message));
  }
}

/** Appends one JSON line to the --log file, if there is one. */
export function appendLog(path: string | undefined, record: object): void {
  if (path) appendFileSafe(path, JSON.stringify(record) + '\n');
}
