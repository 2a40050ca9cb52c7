/**
 * One run at a time in a run folder (Node only). The lock is a file,
 * `.bptt-lock`, holding the owner's pid, host, command and start; it is made
 * whole under a temporary name and hard-linked into place, which fails when a
 * lock is there already. A lock whose process is gone (a run killed with
 * SIGKILL, a machine that rebooted) is stale and taken over.
 *
 * Why not a lock library: the common ones (proper-lockfile) judge staleness by
 * an mtime refreshed from a timer, which a long synchronous training step
 * starves, and they cannot say which process holds the lock.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DataError, expected, textOf } from '../../tensor/index.js';
import { fsLayer } from './fs-layer.js';
import { isRunning, readFileSafe, removeStaleTemps, writeFileSafe } from './safe-files.js';

export const LOCK_FILE = '.bptt-lock';
/** The locks this process holds, by path. */
const ours = new Map<string, RunLock>();

interface Owner {
  pid: number;
  host: string;
  command: string;
  started: string;
  /** the process's start time in clock ticks since boot (Linux), so a reused pid is not taken for the owner */
  ticks: number | null;
}

export interface RunLock {
  readonly path: string;
  /** removes the lock if it is still ours (also done when the process exits) */
  release(): void;
}

/**
 * Takes the lock of run folder `dir` (which must exist) for `command` (default: this process's command line),
 * or throws a DataError naming the holder.
 */
export function lockRunFolder(dir: string, command = commandLine()): RunLock {
  const path = join(dir, LOCK_FILE);
  const mine = ours.get(resolve(path));
  if (mine) return mine; // taken already by this process (e.g. before a --resume read the folder)
  removeStaleTemps(dir, LOCK_FILE.slice(1));
  const me: Owner = {
    pid: process.pid, host: hostname(), command, started: new Date().toISOString(), ticks: startTicks(process.pid),
  };
  const text = JSON.stringify(me) + '\n';
  const fs = fsLayer();
  const temp = join(dir, `${LOCK_FILE}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  writeFileSafe(temp, text);
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        fs.linkSync(temp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 3) throw e;
      }
      const held = readOwner(path);
      if (held === 'gone') continue;
      if (held === 'unreadable') {
        throw new DataError(expected(`run folder '${dir}'`, 'a lock file written by bptt', `an unreadable ${LOCK_FILE}`,
          'if no bptt run is using the folder, delete the file'));
      }
      if (alive(held)) {
        throw new DataError(expected(`run folder '${dir}'`, 'no other run using it',
          `'${textOf(held.command)}' (pid ${held.pid} on ${textOf(held.host)}, started ${textOf(held.started)})`,
          held.host === hostname() ? 'wait for that run to end or stop it, or choose another --out'
            : `another machine's run can't be checked from here: if it is no longer running, delete ${path}`));
      }
      takeOver(path, held);
    }
  } catch (e) {
    if (e instanceof DataError) throw e;
    throw new DataError(expected(`run folder '${dir}'`, 'a folder where a lock file can be made',
      (e as Error).message));
  } finally {
    try {
      fs.unlinkSync(temp);
    } catch {
      // already gone
    }
  }
  const release = (): void => {
    process.off('exit', release);
    ours.delete(resolve(path));
    const held = readOwner(path);
    if (typeof held === 'object' && held.pid === me.pid && held.started === me.started && held.host === me.host) {
      try {
        fsLayer().unlinkSync(path);
      } catch {
        // gone already
      }
    }
  };
  process.on('exit', release);
  const lock = { path, release };
  ours.set(resolve(path), lock);
  return lock;
}

/** Takes the lock of `dir` if the folder exists (a --resume must hold it before it reads a checkpoint there). */
export function lockRunFolderIfExists(dir: string): void {
  if (fsLayer().lstatSync(dir)?.isDirectory()) lockRunFolder(dir);
}

function commandLine(): string {
  const line = ['bptt', ...process.argv.slice(2)].join(' ');
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

function readOwner(path: string): Owner | 'gone' | 'unreadable' {
  let bytes: Buffer;
  try {
    bytes = readFileSafe(path, { maxBytes: 4096 });
  } catch {
    return fsLayer().lstatSync(path) ? 'unreadable' : 'gone';
  }
  try {
    const o = JSON.parse(bytes.toString('utf8')) as Owner;
    if (Number.isSafeInteger(o.pid) && o.pid > 0 && typeof o.host === 'string') return o;
  } catch {
    // fall through
  }
  return 'unreadable';
}

/** Whether the owner may still be running: on another host we cannot tell, so it may. */
function alive(o: Owner): boolean {
  if (o.host !== hostname()) return true;
  if (!isRunning(o.pid)) return false;
  const ticks = startTicks(o.pid);
  return o.ticks === null || ticks === null || ticks === o.ticks; // a different start time: the pid was reused
}

/** Removes a stale lock, unless another process took it over meanwhile (then its lock stays and we look again). */
function takeOver(path: string, stale: Owner): void {
  const fs = fsLayer();
  const aside = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(path, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = readOwner(aside);
  if (typeof moved === 'object' && (moved.pid !== stale.pid || moved.started !== stale.started)) {
    try {
      fs.linkSync(aside, path); // it was a live lock taken between our look and the rename: put it back
    } catch {
      // a third run holds the path now; the live owner's lock is lost only in this three-way race
    }
  }
  try {
    fs.unlinkSync(aside);
  } catch {
    // already gone
  }
}

/** Field 22 of /proc/<pid>/stat: the start time in clock ticks after boot; null off Linux. */
function startTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}
