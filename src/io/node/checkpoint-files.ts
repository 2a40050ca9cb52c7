/**
 * Checkpoint files on disk (Node only). A checkpoint NAME in a directory is
 *   NAME.json                     the manifest: task metadata (config,
 *                                 vocabulary, optimiser settings, RNG, step)
 *                                 and the names and SHA-256 of the files below
 *   NAME-<tag>.safetensors        the weights, PyTorch parameter names
 *   NAME-<tag>.state.safetensors  optional: training state tensors
 *                                 (optimiser moments, carried hidden states)
 * Every file is written whole or not at all (safe-files.ts) and read back
 * before the manifest, written last, moves to it; so whatever the moment a
 * run is killed or the disk fills, NAME.json names a complete, matching set
 * (the previous one or the new one). Files of older sets are removed only
 * after the manifest moved on.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DataError, expected, textOf, type Tensor } from '../../tensor/index.js';
import { fsLayer } from './fs-layer.js';
import { isObject } from '../trainer-state.js';
import { TEMP_FILE, errnoText, isRunning, readFileSafe, refuseNonFile, writeFileSafe } from './safe-files.js';
import { decodeSafetensors, encodeSafetensors } from '../safetensors.js';

export const CHECKPOINT_FORMAT = 'bptt-checkpoint';
export const CHECKPOINT_VERSION = 1;
/** A manifest holds metadata and a vocabulary: far below this, and a JSON tree far shallower than this. */
export const MAX_MANIFEST_BYTES = 64 * 2 ** 20;
export const MAX_MANIFEST_DEPTH = 32;
/** Without a parameter count from the task: no weights file larger than this is read. */
const MAX_WEIGHTS_BYTES = 2 ** 31 - 1;

export interface Manifest {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** file names, beside the manifest */
  weights: string;
  state: string | null;
  sha256: Record<string, string>;
  /** the task's own metadata */
  meta: Record<string, unknown>;
}

export interface CheckpointContent {
  meta: Record<string, unknown>;
  weights: Map<string, Tensor>;
  state: Map<string, Tensor> | null;
}

export interface LoadedCheckpoint extends CheckpointContent {
  /** the manifest's path */
  path: string;
}

export interface LoadOptions {
  /**
   * The number of weights the metadata implies: weights files larger than that
   * many float64s and a header are refused before they are read. Undefined, or
   * a throw (metadata the task reports on itself), leaves the general cap.
   */
  parameterCount?: (meta: Record<string, unknown>) => number | undefined;
}

/**
 * Creates `dir` if needed and proves a file can be written there, before any
 * work that would be lost; a link or other non-file under a checkpoint file's
 * name in it (`*.json`, `*.safetensors`) is refused now rather than at the first save.
 */
export function ensureWritableDir(dir: string): void {
  const where = `output directory '${dir}'`;
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new DataError(expected(where, 'a directory this process can write to', errnoText(e)));
  }
  for (const f of readdirSync(dir)) {
    if (/\.(json|safetensors)$/.test(f)) {
      refuseNonFile(join(dir, f), 'a regular file (or none) under a checkpoint file name');
    }
  }
  const probe = join(dir, '.bptt-write-test'); // one name: a probe a killed run left is replaced, not kept
  try {
    writeFileSafe(probe, 'ok');
    unlinkQuietly(probe); // another run's probe may have taken its place and gone
  } catch (e) {
    const why = e instanceof DataError ? e.message : errnoText(e);
    throw new DataError(expected(where, 'a directory this process can write to', why));
  }
}

/**
 * Writes checkpoint `name` into `dir`; returns the manifest's path. The weights
 * must be finite. The new files are read back and checked against their hashes
 * before the manifest moves to them; only then are the old ones removed.
 */
export function saveCheckpoint(dir: string, name: string, content: CheckpointContent): string {
  const where = `checkpoint '${join(dir, name)}.json'`;
  assertFinite(where, content.weights);
  // The optimizer's moments too: --resume refuses non-finite ones, so a run must not save them.
  if (content.state) assertFinite(where, new Map([...content.state].filter(([k]) => k.startsWith('optimizer.'))));
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.json`);
  refuseNonFile(path, 'a checkpoint manifest to write');
  const tag = `${name}-${randomBytes(4).toString('hex')}`;
  const weights = encodeSafetensors(content.weights, { format: 'pt' });
  const files: Array<[string, Uint8Array]> = [[`${tag}.safetensors`, weights]];
  if (content.state) files.push([`${tag}.state.safetensors`, encodeSafetensors(content.state)]);
  const sha256: Record<string, string> = {};
  for (const [file, bytes] of files) sha256[file] = sha256Of(bytes);
  const manifest: Manifest = {
    format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION,
    weights: files[0]![0], state: files[1]?.[0] ?? null, sha256, meta: content.meta,
  };
  try {
    for (const [file, bytes] of files) writeFileSafe(join(dir, file), bytes);
    for (const [file, bytes] of files) {
      const back = readFileSafe(join(dir, file), { maxBytes: bytes.length });
      if (sha256Of(back) !== sha256[file]) {
        throw new DataError(expected(`writing '${join(dir, file)}'`, 'the bytes written when read back',
          'other bytes (a failing disk?)'));
      }
    }
    writeFileSafe(path, JSON.stringify(manifest, null, 1) + '\n');
  } catch (e) {
    // The save did not happen.
    if (!names(path, manifest.weights)) for (const [file] of files) unlinkQuietly(join(dir, file));
    throw e;
  }
  removeUnreferenced(dir, name, sha256);
  return path;
}

/** Whether the manifest at `path` names `weights` (false when it cannot be read). */
function names(path: string, weights: string): boolean {
  try {
    const text = readFileSafe(path, { maxBytes: MAX_MANIFEST_BYTES }).toString('utf8');
    return (JSON.parse(text) as Manifest).weights === weights;
  } catch {
    return false;
  }
}

function unlinkQuietly(path: string): void {
  try {
    fsLayer().unlinkSync(path);
  } catch {
    // gone already
  }
}

/**
 * Only now are the older files of `name` unreferenced; so are temporary files
 * of a killed run (ours, or write-file-atomic's from older versions), but not
 * those of a live process.
 */
function removeUnreferenced(dir: string, name: string, keep: Record<string, string>): void {
  const ours = new RegExp(`^${escapeRegExp(name)}(-[0-9a-f]{8}(\\.state)?\\.safetensors(\\.\\d+)?|\\.json\\.\\d+)$`);
  const belongs = (file: string): boolean => ours.test(file) && !(file in keep);
  for (const f of readdirSync(dir)) {
    const temp = TEMP_FILE.exec(f);
    const ofOurs = temp && (belongs(temp[1]!) || temp[1] === `${name}.json`);
    if (temp ? !ofOurs || (Number(temp[2]) !== process.pid && isRunning(Number(temp[2]))) : !belongs(f)) continue;
    unlinkQuietly(join(dir, f));
  }
}

/**
 * Reads a checkpoint from its manifest, or from a directory (its best.json,
 * else last.json). Every file is checked against the manifest's SHA-256, the
 * files it names must be regular files beside it, and the weights finite.
 */
export function loadCheckpoint(path: string, options: LoadOptions = {}): LoadedCheckpoint {
  const { path: manifestPath, typed } = resolveManifest(path);
  const where = `checkpoint '${manifestPath}'`;
  // A path the user typed may be a link; a best.json or last.json bptt picks in a folder may not.
  const manifestBytes = readFileSafe(manifestPath, { maxBytes: MAX_MANIFEST_BYTES, where, followLinks: typed });
  const manifest = parseManifest(where, manifestBytes);
  const names = typeof manifest?.weights === 'string' && (manifest.state == null || typeof manifest.state === 'string');
  if (manifest?.format !== CHECKPOINT_FORMAT || !names || !isObject(manifest.sha256) || !isObject(manifest.meta)) {
    throw new DataError(expected(where, `a ${CHECKPOINT_FORMAT} manifest`, 'a JSON file of another kind'));
  }
  if (manifest.version !== CHECKPOINT_VERSION) {
    throw new DataError(expected(where, `format version ${CHECKPOINT_VERSION}`, textOf(manifest.version)));
  }
  const count = countOf(options, manifest.meta);
  const read = (file: string, maxBytes: number): Map<string, Tensor> => {
    if (basename(file) !== file || file === '.' || file === '..') {
      throw new DataError(expected(where, 'file names without directories', textOf(file)));
    }
    const bytes = readFileSafe(join(dirname(manifestPath), file), { maxBytes, where: `${where}: ${file}` });
    const sha = sha256Of(bytes);
    if (!Object.hasOwn(manifest.sha256, file) || sha !== manifest.sha256[file]) {
      const got = 'different bytes (the file is corrupt or was replaced)';
      throw new DataError(expected(`${where}: ${file}`, 'the SHA-256 the manifest records', got));
    }
    return decodeSafetensors(bytes, `${where}: ${file}`).tensors;
  };
  // Weights as float64 at most, plus a header naming each tensor; the state holds a few tensors per weight.
  const weightsCap = count === undefined ? MAX_WEIGHTS_BYTES : count * 8 + 2 ** 20;
  const weights = read(manifest.weights, weightsCap);
  assertFinite(where, weights);
  const stateCap = count === undefined ? MAX_WEIGHTS_BYTES : 4 * weightsCap + 2 ** 24;
  const state = manifest.state ? read(manifest.state, stateCap) : null;
  return { path: manifestPath, meta: manifest.meta, weights, state };
}

function countOf(options: LoadOptions, meta: Record<string, unknown>): number | undefined {
  try {
    const n = options.parameterCount?.(meta);
    return n !== undefined && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** Throws a DataError naming the first tensor holding NaN or an infinity. */
export function assertFinite(where: string, tensors: ReadonlyMap<string, Tensor>): void {
  for (const [name, t] of tensors) {
    const d = t.data;
    for (let i = 0; i < d.length; i++) {
      if (!Number.isFinite(d[i]!)) {
        throw new DataError(expected(`${where}: ${name}`, 'finite weights', `${d[i]} at index ${i}`,
          'the training diverged, or the file was edited'));
      }
    }
  }
}

function parseManifest(where: string, bytes: Buffer): Manifest {
  let manifest: unknown;
  try {
    manifest = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    // Only where: the parser's message quotes the text, which may be another file's (a manifest planted as a link).
    const at = /position (\d+)/.exec((e as Error).message)?.[1];
    throw new DataError(expected(where, 'a readable JSON manifest', `invalid JSON${at ? ` (at byte ${at})` : ''}`));
  }
  const depth = depthOf(manifest);
  if (depth > MAX_MANIFEST_DEPTH) {
    throw new DataError(expected(where, `JSON nested at most ${MAX_MANIFEST_DEPTH} deep`, `${depth} levels or more`));
  }
  return manifest as Manifest;
}

/** How deep a parsed JSON value nests (counted without recursion; stops one past the limit). */
function depthOf(root: unknown): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[root, 1]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (typeof x !== 'object' || x === null) continue;
    deepest = Math.max(deepest, d);
    if (d > MAX_MANIFEST_DEPTH) return d;
    for (const v of Object.values(x)) stack.push([v, d + 1]);
  }
  return deepest;
}

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The weights file holds exactly the numbers the model needs (names and shapes are checked when they load). */
export function checkParameterCount(where: string, want: number, weights: ReadonlyMap<string, Tensor>): void {
  let got = 0;
  for (const t of weights.values()) got += t.data.length;
  if (got !== want) {
    const what = `${want} weights for the model its metadata describes`;
    const why = 'the metadata was edited, or belongs to other weights';
    throw new DataError(expected(where, what, `${got} in the weights file`, why));
  }
}

/** The manifest `path` names: itself (typed: true), or the best.json, else last.json, of a folder. */
function resolveManifest(path: string): { path: string; typed: boolean } {
  const p = resolve(path);
  let isDir = false;
  try {
    isDir = statSync(p).isDirectory();
  } catch (e) {
    throw new DataError(expected(`checkpoint '${path}'`, 'an existing file or directory', errnoText(e)));
  }
  if (!isDir) return { path: p, typed: true };
  for (const name of ['best.json', 'last.json']) {
    const m = join(p, name);
    if (fsLayer().lstatSync(m)) return { path: m, typed: false };
  }
  throw new DataError(expected(`checkpoint directory '${path}'`, 'a best.json or last.json manifest in it', 'neither'));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
