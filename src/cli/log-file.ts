import { appendFileSync } from 'node:fs';
import { DataError, expected } from '../tensor/index.js';

/** Fails early, before any training, when --log cannot be appended to (the file is created empty if missing). */
export function ensureWritableLog(path: string): void {
  try {
    appendFileSync(path, '');
  } catch (e) {
    throw new DataError(expected(`--log '${path}'`, 'a file this process can append to', (e as NodeJS.ErrnoException).code ?? String(e)));
  }
}
