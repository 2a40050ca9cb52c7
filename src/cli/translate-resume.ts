/**
 * What `bptt train translate --resume` checks of a checkpoint against the
 * command line: the saved settings (each as its option would be), the data
 * files named again (with the recorded hashes), and that both describe the
 * checkpoint's model and data.
 */
import type { Command } from 'commander';
import { badMeta } from '../io/trainer-state.js';
import type { TranslateMeta } from '../tasks/translate/checkpoint.js';
import type { Seq2SeqConfig, Vocabularies } from '../tasks/translate/index.js';
import { DataError, expected, show } from '../tensor/index.js';
import { checkSaved, kebab } from './options.js';
import { checkSameFile, fileNotGiven, fileNotSaved, hashOf } from './resume-files.js';

/** The run a checkpoint is compared with: its vocabularies and data record. */
export interface RunData {
  vocab: Vocabularies;
  data: Record<string, unknown>;
}

/** Where a run writes and what it shows: always of the command line, never a path from a manifest. */
export const OUTPUT = ['out', 'log', 'report', 'quiet', 'resume'];
/**
 * The data files, which a resumed run reads only when named again (checked
 * against the hashes its manifest records).
 */
export const FILES = ['source', 'target', 'devSource', 'devTarget', 'testSource', 'testTarget'] as const;
type FileOption = (typeof FILES)[number];
export const isFile = (k: string): k is FileOption => (FILES as readonly string[]).includes(k);
/** The data files of a run, by option. */
export type Files = Partial<Record<FileOption, string>>;

/**
 * The data read again is the data trained on (each file named again with the
 * recorded hash; the same vocabularies and sizes), and the settings describe
 * the checkpoint's model.
 */
export function checkSameRun(
  where: string, ckpt: { path: string; meta: TranslateMeta }, task: RunData, files: Files | null, config: Seq2SeqConfig,
): void {
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const { meta } = ckpt;
  let data = task.data;
  if (files) {
    const now = savedFiles(ckpt.path, task.data);
    for (const k of FILES) if (files[k] && hashOf(files[k])) checkSameFile(where, `--${kebab(k)}`, files[k], now[k]!);
    const { source, target, dev, test } = meta.data; // the files, compared just now
    data = { ...data, source, target, dev, test };
  }
  const { source, target } = task.vocab;
  if (!same(source.toJSON(), meta.vocab.source) || !same(target.toJSON(), meta.vocab.target)
    || !same(data, meta.data)) {
    throw new DataError(expected(where, 'the training data it was trained on',
      'data with other vocabularies or sizes (the files changed)'));
  }
  const differs = (Object.keys(config) as Array<keyof Seq2SeqConfig>).find((k) => !same(config[k], meta.model[k]));
  if (differs) {
    badMeta(`checkpoint '${ckpt.path}'`, `settings.${differs}`, `${show(meta.model[differs])}, as meta.model`,
      config[differs]);
  }
}

/**
 * The saved settings but the data files and output, each checked as its
 * option would be (a hand-edited one is a DataError naming it).
 */
export function savedSettings(cmd: Command, path: string, settings: Record<string, unknown>): Record<string, unknown> {
  const keys = cmd.options.map((x) => x.attributeName()).filter((k) => !OUTPUT.includes(k) && !isFile(k));
  for (const k of keys) checkSaved(cmd, k, settings[k], `checkpoint '${path}'`, `settings.${k}`);
  return Object.fromEntries(keys.map((k) => [k, settings[k]]));
}

/** The files a data record names, by option (undefined: none). */
export function savedFiles(path: string, data: Record<string, unknown>): Files {
  const bad = (field: string, want: string, x: unknown): never =>
    badMeta(`checkpoint '${path}'`, `data.${field}`, want, x);
  const text = (field: string, x: unknown): string => (typeof x === 'string' ? x : bad(field, 'a file name', x));
  const pair = (field: string, x: unknown): [string, string] | [] => {
    if (x === null || x === 'held out 5 %') return [];
    if (!Array.isArray(x) || x.length !== 2) return bad(field, 'the names of a source and a target file', x);
    return [text(field, x[0]), text(field, x[1])];
  };
  const [devSource, devTarget] = pair('dev', data.dev), [testSource, testTarget] = pair('test', data.test);
  const source = text('source', data.source), target = text('target', data.target);
  return { source, target, devSource, devTarget, testSource, testTarget };
}

/** The data files named again, as the checkpoint has them: each file it names, and no other. */
export function filesGivenAgain(where: string, files: Files, mine: Record<string, unknown>): Files {
  for (const k of FILES) {
    const flag = `--${kebab(k)}`;
    if (files[k] !== undefined && mine[k] === undefined) throw fileNotGiven(where, flag, files[k]);
    if (files[k] === undefined && mine[k] !== undefined) throw fileNotSaved(where, flag, String(mine[k]));
  }
  return Object.fromEntries(FILES.map((k) => [k, mine[k]]));
}
