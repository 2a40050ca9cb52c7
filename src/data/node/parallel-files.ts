/**
 * Line-aligned parallel text files (Node only): line i of the source file
 * and line i of the target file are one pair.
 */
import { readFileSync } from 'node:fs';
import { DataError, expected } from '../../tensor/index.js';

export interface LinePair {
  source: string;
  target: string;
}

/** The lines of a UTF-8 text file (\n or \r\n; a final newline ends the last line, it does not start an empty one). */
export function readLines(path: string): string[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new DataError(expected(`'${path}'`, 'a readable text file', (e as NodeJS.ErrnoException).code ?? String(e)));
  }
  if (bytes.includes(0)) throw new DataError(expected(`'${path}'`, 'a text file', `a NUL byte at offset ${bytes.indexOf(0)} (binary data?)`));
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new DataError(expected(`'${path}'`, 'UTF-8 text', 'invalid UTF-8 bytes'));
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/**
 * Pairs from two line-aligned files. Both must have the same number of lines
 * and no empty (or all-space) line: a blank line usually means the files
 * drifted out of alignment, so it is an error naming the line, not skipped.
 */
export function readParallelFiles(sourcePath: string, targetPath: string): LinePair[] {
  const source = readLines(sourcePath), target = readLines(targetPath);
  if (source.length !== target.length) {
    throw new DataError(expected(`parallel files '${sourcePath}' and '${targetPath}'`, 'the same number of lines (line i of one translates line i of the other)', `${source.length} and ${target.length} lines`));
  }
  if (source.length === 0) throw new DataError(expected(`'${sourcePath}'`, 'at least one line', 'an empty file'));
  for (const [path, lines] of [[sourcePath, source], [targetPath, target]] as const) {
    const i = lines.findIndex((l) => l.trim() === '');
    if (i >= 0) throw new DataError(expected(`'${path}' line ${i + 1}`, 'a non-empty line', 'an empty line', 'remove the pair from both files'));
  }
  return source.map((s, i) => ({ source: s.trim(), target: target[i]!.trim() }));
}
