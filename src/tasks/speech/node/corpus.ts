/**
 * Speech data on disk (Node only): a directory with manifests train.tsv,
 * dev.tsv and test.tsv, one utterance per line, `path<TAB>digits` (path
 * relative to the directory, digits such as 0718), as
 * tools/make_speech_data.sh writes them. Features are computed once, here,
 * and kept in memory.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { errnoText, readFileSafe } from '../../../io/node/safe-files.js';
import { DataError, expected, quoted } from '../../../tensor/index.js';
import type { Example } from '../batches.js';
import { wavInput, type SpeechFeatureConfig, type Utterance } from '../features.js';

export type SplitName = 'train' | 'dev' | 'test';

/** A manifest of utterances (a line is about 30 bytes), and one clip (16-bit stereo 48 kHz: 46 minutes). */
const MAX_MANIFEST_BYTES = 256 * 2 ** 20;
const MAX_WAV_BYTES = 512 * 2 ** 20;

export interface ManifestEntry {
  /** the audio file's path, resolved against the data directory */
  path: string;
  digits: number[];
}

/** Checks that `dir` is a directory before anything else is done. */
export function checkDataDir(dir: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (e) {
    throw new DataError(expected(`--data '${dir}'`, 'an existing directory', errnoText(e)));
  }
  if (!isDir) throw new DataError(expected(`--data '${dir}'`, 'a directory', 'a file'));
}

/** The entries of `dir`/`split`.tsv; null when `optional` and the manifest does not exist. */
export function readManifest(dir: string, split: SplitName, optional = false): ManifestEntry[] | null {
  const file = join(dir, `${split}.tsv`);
  if (optional && !existsSync(file)) return null;
  const where = `manifest '${file}'`;
  if (!existsSync(file)) {
    const why = 'generate data with tools/make_speech_data.sh';
    throw new DataError(expected(where, 'a readable file (lines path<TAB>digits)', 'no such file or directory', why));
  }
  const text = readFileSafe(file, { maxBytes: MAX_MANIFEST_BYTES, where, followLinks: true }).toString('utf8');
  const entries: ManifestEntry[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const cells = line.split('\t');
    if (cells.length !== 2 || cells[0]!.trim() === '' || !/^\d+$/.test(cells[1]!.trim())) {
      throw new DataError(expected(`manifest '${file}' line ${i + 1}`, 'path<TAB>digits (e.g. wav/a.wav<TAB>0718)', JSON.stringify(line.length > 60 ? `${line.slice(0, 60)}…` : line)));
    }
    const path = cells[0]!.trim();
    entries.push({ path: isAbsolute(path) ? path : join(dir, path), digits: [...cells[1]!.trim()].map(Number) });
  });
  if (entries.length === 0) throw new DataError(expected(`manifest '${file}'`, 'at least one utterance', 'an empty file'));
  return entries;
}

/** The model input of one WAV file; unreadable or malformed files are DataErrors naming the file. */
export function loadWav(path: string, features: SpeechFeatureConfig): Utterance {
  // A manifest names the file: a regular one (no FIFO or device), of a size a clip can have.
  const bytes = readFileSafe(path, { maxBytes: MAX_WAV_BYTES, where: `audio ${quoted(path)}`, followLinks: true });
  return wavInput(bytes, features, `audio '${path}'`);
}

/** Features of every entry, computed once. `progress` is called every 100 files. */
export function loadExamples(entries: readonly ManifestEntry[], features: SpeechFeatureConfig,
  progress?: (done: number) => void): Example[] {
  return entries.map((e, i) => {
    const input = loadWav(e.path, features);
    if (progress && (i + 1) % 100 === 0) progress(i + 1);
    return { input, digits: e.digits };
  });
}

export interface Corpus {
  train: Example[];
  dev: Example[] | null;
  test: Example[] | null;
  /** a hash of train.tsv and dev.tsv, paths relative to the directory (a moved copy is the same data) */
  sha256: string;
}

/** The splits of a data directory (dev.tsv and test.tsv optional) with their features; `progress` (done, total). */
export function loadCorpus(dir: string, features: SpeechFeatureConfig,
  progress?: (done: number, total: number) => void): Corpus {
  checkDataDir(dir);
  const manifests = (['train', 'dev', 'test'] as const).map((s) => readManifest(dir, s, s !== 'train'));
  const total = manifests.reduce((s, m) => s + (m?.length ?? 0), 0);
  let before = 0;
  const [train, dev, test] = manifests.map((m) => {
    if (!m) return null;
    const examples = loadExamples(m, features, progress && ((done) => progress(before + done, total)));
    before += m.length;
    return examples;
  });
  progress?.(total, total);
  const text = manifests.slice(0, 2)
    .map((m) => (m ?? []).map((e) => `${relative(dir, e.path)}\t${e.digits.join('')}\n`).join('')).join('--\n');
  return { train: train!, dev: dev!, test: test!, sha256: createHash('sha256').update(text).digest('hex') };
}
