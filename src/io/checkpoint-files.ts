/**
 * Checkpoint files on disk (Node only). A checkpoint NAME in a directory is
 *   NAME.json                     the manifest: task metadata (config,
 *                                 vocabulary, optimiser settings, RNG, step)
 *                                 and the names and SHA-256 of the files below
 *   NAME-<tag>.safetensors        the weights, PyTorch parameter names
 *   NAME-<tag>.state.safetensors  optional: training state tensors
 *                                 (optimiser moments, carried hidden states)
 * Every file is written to a temporary name and renamed; the manifest is
 * written last, so whatever the moment a run is killed, NAME.json names a
 * complete, matching set (the previous one or the new one). Files of older
 * sets are removed after the manifest moved on.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { DataError, expected, textOf, type Tensor } from '../tensor/index.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

export const CHECKPOINT_FORMAT = 'bptt-checkpoint';
export const CHECKPOINT_VERSION = 1;

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

/** Creates `dir` if needed and proves a file can be written there, before any work that would be lost. */
export function ensureWritableDir(dir: string): void {
  const where = `output directory '${dir}'`;
  try {
    mkdirSync(dir, { recursive: true });
    const probe = join(dir, `.bptt-write-test-${process.pid}`);
    writeFileAtomic.sync(probe, 'ok');
    rmSync(probe);
  } catch (e) {
    throw new DataError(expected(where, 'a directory this process can write to', errnoText(e)));
  }
}

/** Writes checkpoint `name` into `dir`; returns the manifest's path. */
export function saveCheckpoint(dir: string, name: string, content: CheckpointContent): string {
  mkdirSync(dir, { recursive: true });
  const tag = `${name}-${randomBytes(4).toString('hex')}`;
  const files: Array<[string, Uint8Array]> = [[`${tag}.safetensors`, encodeSafetensors(content.weights, { format: 'pt' })]];
  if (content.state) files.push([`${tag}.state.safetensors`, encodeSafetensors(content.state)]);
  const sha256: Record<string, string> = {};
  for (const [file, bytes] of files) {
    writeFileAtomic.sync(join(dir, file), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    sha256[file] = createHash('sha256').update(bytes).digest('hex');
  }
  const manifest: Manifest = {
    format: CHECKPOINT_FORMAT, version: CHECKPOINT_VERSION,
    weights: files[0]![0], state: files[1]?.[0] ?? null, sha256, meta: content.meta,
  };
  const path = join(dir, `${name}.json`);
  writeFileAtomic.sync(path, JSON.stringify(manifest, null, 1) + '\n');
  // Only now are the older files unreferenced (also temporary files a killed run left behind: weights, state, a manifest).
  const ours = new RegExp(`^${escapeRegExp(name)}(-[0-9a-f]{8}(\\.state)?\\.safetensors(\\.\\d+)?|\\.json\\.\\d+)$`);
  for (const f of readdirSync(dir)) {
    if (ours.test(f) && !(f in sha256)) rmSync(join(dir, f), { force: true });
  }
  return path;
}

/**
 * Reads a checkpoint from its manifest, or from a directory (its best.json,
 * else last.json). Every file is checked against the manifest's SHA-256.
 */
export function loadCheckpoint(path: string): LoadedCheckpoint {
  const manifestPath = resolveManifest(path);
  const where = `checkpoint '${manifestPath}'`;
  let manifest: Manifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch (e) {
    throw new DataError(expected(where, 'a readable JSON manifest', e instanceof SyntaxError ? `invalid JSON (${e.message})` : errnoText(e)));
  }
  const isObject = (x: unknown): boolean => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (manifest?.format !== CHECKPOINT_FORMAT || typeof manifest.weights !== 'string' || (manifest.state != null && typeof manifest.state !== 'string')
    || !isObject(manifest.sha256) || !isObject(manifest.meta)) {
    throw new DataError(expected(where, `a ${CHECKPOINT_FORMAT} manifest`, 'a JSON file of another kind'));
  }
  if (manifest.version !== CHECKPOINT_VERSION) throw new DataError(expected(where, `format version ${CHECKPOINT_VERSION}`, textOf(manifest.version)));
  const read = (file: string): Map<string, Tensor> => {
    if (basename(file) !== file) throw new DataError(expected(where, 'file names without directories', file));
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(dirname(manifestPath), file));
    } catch (e) {
      throw new DataError(expected(`${where}: ${file}`, 'a readable file', errnoText(e)));
    }
    const sha = createHash('sha256').update(bytes).digest('hex');
    if (!Object.hasOwn(manifest.sha256, file) || sha !== manifest.sha256[file]) throw new DataError(expected(`${where}: ${file}`, 'the SHA-256 the manifest records', 'different bytes (the file is corrupt or was replaced)'));
    return decodeSafetensors(bytes, `${where}: ${file}`).tensors;
  };
  return { path: manifestPath, meta: manifest.meta, weights: read(manifest.weights), state: manifest.state ? read(manifest.state) : null };
}

/** The weights file holds exactly the numbers the model needs (names and shapes are checked when they load). */
export function checkParameterCount(where: string, want: number, weights: ReadonlyMap<string, Tensor>): void {
  let got = 0;
  for (const t of weights.values()) got += t.data.length;
  if (got !== want) throw new DataError(expected(where, `${want} weights for the model its metadata describes`, `${got} in the weights file`, 'the metadata was edited, or belongs to other weights'));
}

function resolveManifest(path: string): string {
  const p = resolve(path);
  let isDir = false;
  try {
    isDir = statSync(p).isDirectory();
  } catch (e) {
    throw new DataError(expected(`checkpoint '${path}'`, 'an existing file or directory', errnoText(e)));
  }
  if (!isDir) return p;
  for (const name of ['best.json', 'last.json']) {
    const m = join(p, name);
    try {
      if (statSync(m).isFile()) return m;
    } catch {
      // try the next
    }
  }
  throw new DataError(expected(`checkpoint directory '${path}'`, 'a best.json or last.json manifest in it', 'neither'));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOTDIR') return 'a path through a file';
  if (code === 'EROFS') return 'a read-only file system';
  return e instanceof Error ? e.message : String(e);
}
