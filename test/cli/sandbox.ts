/** The `bptt` command spawned as a user runs it, inside a fresh temporary directory removed after the file's tests. */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../../src/io/node/checkpoint-files.js';

const bin = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

export function cliSandbox(prefix: string): {
  tmp: string;
  run: (...args: string[]) => SpawnSyncReturns<string>;
  start: (...args: string[]) => ChildProcess;
  /** run() with more environment variables (e.g. BPTT_FAILPOINTS) */
  runWith: (extra: NodeJS.ProcessEnv, ...args: string[]) => SpawnSyncReturns<string>;
} {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const env = { ...process.env };
  delete env.BPTT_BACKEND; // the default backend, as a user gets it
  return {
    tmp,
    run: (...args) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmp, env }),
    start: (...args) => spawn(process.execPath, [bin, ...args], { cwd: tmp, env, stdio: ['ignore', 'pipe', 'pipe'] }),
    runWith: (extra, ...args) =>
      spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmp, env: { ...env, ...extra } }),
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The exit of a spawned child, with its output (listen at once: it may end before we wait). */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** A failed command: exit code 1, one line "bptt: ..." on stderr, no stack trace, no internal error. */
export function assertOneLineError(r: SpawnSyncReturns<string>, pattern?: RegExp): void {
  assert.equal(r.status, 1, `exit status ${r.status} (signal ${r.signal}); stderr: ${r.stderr.slice(0, 2000)}`);
  const err = r.stderr.replace(/\n$/, '');
  assert.ok(!err.includes('\n'), `a single line on stderr, got:\n${r.stderr.slice(0, 2000)}`);
  assert.match(err, /^bptt: /);
  assert.doesNotMatch(err, /internal error|\n\s+at /);
  if (pattern) assert.match(err, pattern);
}

/** A checkpoint manifest as written (the run format: meta.trainer.progress holds where the run stood). */
export const manifestAt = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

/** The updates a run's checkpoint was saved at. */
export const savedUpdates = (path: string): number =>
  (manifestAt(path).meta.trainer as { progress: { updates: number } }).progress.updates;
