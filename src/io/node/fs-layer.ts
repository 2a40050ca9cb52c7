/**
 * The file-system calls bptt's file writer and reader make (Node only), behind
 * one replaceable object, so tests can fail any of them: a full disk, a short
 * write, a process killed between two renames.
 *
 * Failpoints for spawned processes (the crash suite runs the real CLI):
 * BPTT_FAILPOINTS=trace prints every point, `bptt-failpoint <n> <label>`, to
 * stderr; BPTT_FAILPOINTS=kill@N sends SIGKILL to the process at point N, and
 * BPTT_FAILPOINTS=enospc@N makes the disk full from point N on: a write
 * returns short, then fails with ENOSPC, and so do fsync (delayed allocation)
 * and rename (a directory that must grow); unlinks still work. A point is each
 * write, fsync, rename and unlink of the writer, counted from 1.
 */
import * as fs from 'node:fs';

export interface FsLayer {
  openSync(path: string, flags: number, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number | null): number;
  fsyncSync(fd: number): void;
  fstatSync(fd: number): fs.Stats;
  closeSync(fd: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  lstatSync(path: string): fs.Stats | undefined;
  linkSync(existing: string, path: string): void;
  ftruncateSync(fd: number, length: number): void;
  statfsSync(path: string): fs.StatsFs;
}

const nodeFs: FsLayer = {
  openSync: (path, flags, mode) => fs.openSync(path, flags, mode),
  writeSync: (fd, buffer, offset, length) => fs.writeSync(fd, buffer, offset, length),
  readSync: (fd, buffer, offset, length, position) => fs.readSync(fd, buffer, offset, length, position),
  fsyncSync: (fd) => fs.fsyncSync(fd),
  fstatSync: (fd) => fs.fstatSync(fd),
  closeSync: (fd) => fs.closeSync(fd),
  renameSync: (from, to) => fs.renameSync(from, to),
  unlinkSync: (path) => fs.unlinkSync(path),
  lstatSync: (path) => fs.lstatSync(path, { throwIfNoEntry: false }),
  linkSync: (existing, path) => fs.linkSync(existing, path),
  ftruncateSync: (fd, length) => fs.ftruncateSync(fd, length),
  statfsSync: (path) => fs.statfsSync(path),
};

let layer: FsLayer = withFailpoints(nodeFs, process.env.BPTT_FAILPOINTS);

/** The layer in force. */
export function fsLayer(): FsLayer {
  return layer;
}

/** Puts `replacement` in force (tests); returns a function that restores the previous layer. */
export function useFsLayer(replacement: FsLayer): () => void {
  const before = layer;
  layer = replacement;
  return () => {
    layer = before;
  };
}

/** An errno error as Node raises it. */
export function errnoError(code: string, syscall: string, path?: string): NodeJS.ErrnoException {
  const e = new Error(`${code}: ${syscall}${path ? ` '${path}'` : ''}`) as NodeJS.ErrnoException;
  e.code = code;
  e.syscall = syscall;
  if (path) e.path = path;
  return e;
}

/** Wraps `base` with the failpoints a BPTT_FAILPOINTS value asks for (none: `base` itself). */
export function withFailpoints(base: FsLayer, spec: string | undefined): FsLayer {
  if (!spec) return base;
  const m = /^(trace|(kill|enospc)@(\d+))$/.exec(spec);
  if (!m) throw new Error(`BPTT_FAILPOINTS: expected trace, kill@N or enospc@N, got '${spec.slice(0, 40)}'`);
  const action = m[2] ?? 'trace';
  const at = Number(m[3] ?? 0);
  let count = 0;
  let full = false;
  const paths = new Map<number, string>();
  const point = (label: string): boolean => {
    count++;
    if (action === 'trace') process.stderr.write(`bptt-failpoint ${count} ${label}\n`);
    if (count === at && action === 'kill') process.kill(process.pid, 'SIGKILL');
    if (count >= at && action === 'enospc') full = true;
    return full;
  };
  return {
    ...base,
    openSync(path, flags, mode) {
      const fd = base.openSync(path, flags, mode);
      paths.set(fd, path);
      return fd;
    },
    closeSync(fd) {
      paths.delete(fd);
      base.closeSync(fd);
    },
    writeSync(fd, buffer, offset, length) {
      const wasFull = full;
      if (!point(`write ${paths.get(fd) ?? fd}`)) return base.writeSync(fd, buffer, offset, length);
      if (wasFull || length < 2) throw errnoError('ENOSPC', 'write', paths.get(fd));
      return base.writeSync(fd, buffer, offset, length >> 1); // a short write first, as a filling disk gives
    },
    fsyncSync(fd) {
      if (point(`fsync ${paths.get(fd) ?? fd}`)) throw errnoError('ENOSPC', 'fsync', paths.get(fd));
      base.fsyncSync(fd);
    },
    renameSync(from, to) {
      if (point(`rename ${from} -> ${to}`)) throw errnoError('ENOSPC', 'rename', to);
      base.renameSync(from, to);
    },
    unlinkSync(path) {
      point(`unlink ${path}`);
      base.unlinkSync(path);
    },
  };
}
