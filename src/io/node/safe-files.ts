/**
 * The one way bptt writes and reads its files (Node only).
 *
 * A write is complete or absent: the bytes go to a temporary file in the same
 * directory, every short write is continued, the file is flushed and its size
 * checked, then it is renamed over the target and the directory is flushed, so
 * the new name survives a crash. A symbolic link is never written through. A
 * full disk, a quota or a read-only file system is a DataError that names the
 * file and the free space, and leaves the old file as it was.
 *
 * A read takes only a regular file (no device, FIFO or directory; a link only
 * where the caller allows it) and at most the bytes the caller expects.
 */
import { constants as C, readdirSync, type Stats } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DataError, expected, textOf } from '../../tensor/index.js';
import { errnoError, fsLayer } from './fs-layer.js';

/** Temporary files of the writer: `.<target name>.<pid>-<random>.tmp`, beside the target. */
export const TEMP_FILE = /^\.(.+)\.(\d+)-[0-9a-f]{8}\.tmp$/;

/** Writes `data` to `path` whole or not at all. */
export function writeFileSafe(path: string, data: Uint8Array | string): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fs = fsLayer();
  refuseNonFile(path, 'a file to write');
  const dir = dirname(path);
  removeStaleTemps(dir, basename(path));
  const temp = join(dir, `.${basename(path)}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  let fd: number | null = null;
  let renamed = false;
  try {
    fd = fs.openSync(temp, C.O_WRONLY | C.O_CREAT | C.O_EXCL | C.O_NOFOLLOW, 0o644);
    for (let done = 0; done < bytes.length;) {
      const n = fs.writeSync(fd, bytes, done, bytes.length - done);
      if (n <= 0) throw errnoError('ENOSPC', 'write', temp); // no progress: nothing more fits
      done += n;
    }
    fs.fsyncSync(fd);
    const size = fs.fstatSync(fd).size;
    if (size !== bytes.length) {
      throw new DataError(expected(`writing '${path}'`, `${bytes.length} bytes`, `${size} on disk`));
    }
    fs.closeSync(fd);
    fd = null;
    refuseNonFile(path, 'a file to write'); // again: a link planted while we wrote is not followed either
    fs.renameSync(temp, path);
    renamed = true;
    syncDirectory(dir);
  } catch (e) {
    if (fd !== null) ignore(() => fs.closeSync(fd!));
    if (!renamed) ignore(() => fs.unlinkSync(temp));
    throw writeError(path, bytes.length, e, renamed);
  }
}

/**
 * Appends `text` to `path` (created if missing), never through a symbolic
 * link; a line that does not fit whole is cut off again, so a full disk
 * leaves no torn line.
 */
export function appendFileSafe(path: string, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  const fs = fsLayer();
  let fd: number | null = null;
  let size = -1;
  try {
    fd = fs.openSync(path, C.O_WRONLY | C.O_APPEND | C.O_CREAT | C.O_NOFOLLOW | C.O_NONBLOCK, 0o644);
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) throw new DataError(expected(`'${path}'`, 'a regular file to append to', kindOf(stats)));
    size = stats.size;
    for (let done = 0; done < bytes.length;) {
      const n = fs.writeSync(fd, bytes, done, bytes.length - done);
      if (n <= 0) throw errnoError('ENOSPC', 'write', path);
      done += n;
    }
  } catch (e) {
    if (fd !== null && size >= 0) ignore(() => fs.ftruncateSync(fd!, size));
    throw writeError(path, bytes.length, e);
  } finally {
    if (fd !== null) ignore(() => fs.closeSync(fd!));
  }
}

export interface ReadOptions {
  /** the largest file the caller expects; a larger one is a DataError before anything is read */
  maxBytes: number;
  /** the message's subject (default: the path) */
  where?: string;
  /** follow a symbolic link (for paths the user typed; never for names read from a file) */
  followLinks?: boolean;
}

/** Reads a regular file of at most `maxBytes` bytes. */
export function readFileSafe(path: string, options: ReadOptions): Buffer {
  const where = options.where ?? `'${path}'`;
  const fs = fsLayer();
  let fd: number;
  try {
    fd = fs.openSync(path, C.O_RDONLY | C.O_NONBLOCK | (options.followLinks ? 0 : C.O_NOFOLLOW));
  } catch (e) {
    throw new DataError(expected(where, 'a readable regular file', errnoText(e)));
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile()) throw new DataError(expected(where, 'a regular file', kindOf(stats)));
    if (stats.size > options.maxBytes) {
      throw new DataError(expected(where, `a file of at most ${options.maxBytes} bytes`, `${stats.size} bytes`));
    }
    const bytes = Buffer.allocUnsafe(stats.size);
    let done = 0;
    while (done < bytes.length) {
      const n = fs.readSync(fd, bytes, done, bytes.length - done, done);
      if (n === 0) throw new DataError(expected(where, `${stats.size} bytes`, `${done}: the file shrank while read`));
      done += n;
    }
    return bytes;
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(expected(where, 'a readable regular file', errnoText(e)));
  } finally {
    ignore(() => fs.closeSync(fd));
  }
}

/** Refuses a path that exists and is not a regular file (a link, a directory, a FIFO, a device). */
export function refuseNonFile(path: string, what: string): void {
  const stats = fsLayer().lstatSync(path);
  if (!stats || stats.isFile()) return;
  const hint = stats.isSymbolicLink()
    ? 'bptt never writes through a symbolic link; remove it or choose another path'
    : undefined;
  throw new DataError(expected(`'${path}'`, what, kindOf(stats), hint));
}

/** What a non-regular file is, for messages. */
export function kindOf(stats: Stats): string {
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return stats.isFile() ? 'a regular file' : 'a special file';
}

/** Whether process `pid` is alive (on this machine). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Removes the temporary files of `name` in `dir` that a killed process left (never a live one's). */
export function removeStaleTemps(dir: string, name: string): void {
  let files: string[];
  try {
    files = readdirSync(dir);
  } catch {
    return; // the write itself will say what is wrong with the directory
  }
  for (const f of files) {
    const m = TEMP_FILE.exec(f);
    const pid = Number(m?.[2]);
    if (m?.[1] === name && pid !== process.pid && !isRunning(pid)) ignore(() => fsLayer().unlinkSync(join(dir, f)));
  }
}

/** Flushes a directory, so a rename in it survives a crash (where the platform allows it). */
function syncDirectory(dir: string): void {
  const fs = fsLayer();
  let fd: number;
  try {
    fd = fs.openSync(dir, C.O_RDONLY | C.O_DIRECTORY);
  } catch {
    return; // not possible on this platform
  }
  try {
    fs.fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'ENOTSUP') throw e;
  } finally {
    ignore(() => fs.closeSync(fd));
  }
}

/**
 * A failed write as a DataError naming the file (and the free space, when space ran out); `renamed`: the file is in
 * place, but the directory could not be flushed.
 */
function writeError(path: string, size: number, e: unknown, renamed = false): unknown {
  if (e instanceof DataError) return e;
  const code = (e as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT' || code === 'EFBIG') {
    const what = code === 'EDQUOT' ? 'the disk quota is used up'
      : code === 'EFBIG' ? 'the file is too large' : 'the disk is full';
    const free = freeSpace(dirname(path));
    const hint = renamed ? 'the file is whole, but its directory could not be flushed'
      : 'nothing was written; free some space and run again';
    const got = `${code}: ${what} (${free} free)`;
    return new DataError(expected(`writing '${path}'`, `room for ${size} bytes`, got, hint));
  }
  if (code === 'ELOOP') return new DataError(expected(`writing '${path}'`, 'a regular file', 'a symbolic link'));
  return new DataError(expected(`writing '${path}'`, 'a file this process can write', errnoText(e)));
}

function freeSpace(dir: string): string {
  try {
    const s = fsLayer().statfsSync(dir);
    return `${s.bavail * s.bsize} bytes`;
  } catch {
    return 'unknown space';
  }
}

/** A short reason for a failed file-system call. */
export function errnoText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'ENOTDIR': return 'a path through a file';
    case 'EROFS': return 'EROFS: a read-only file system';
    case 'ELOOP': return 'a symbolic link';
    case 'EISDIR': return 'a directory';
    case 'ENXIO': return 'a FIFO or socket';
    case 'ENOSPC': return 'ENOSPC: the disk is full';
    case 'EDQUOT': return 'EDQUOT: the disk quota is used up';
    default: return code ?? (e instanceof Error ? e.message : textOf(e));
  }
}

function ignore(f: () => void): void {
  try {
    f();
  } catch {
    // best effort: the first error is the one to report
  }
}
