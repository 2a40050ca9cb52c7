/**
 * The crash-and-fault suite: `bptt train` killed with SIGKILL at every point
 * of a checkpoint save (each write, fsync, rename and unlink, through
 * BPTT_FAILPOINTS), the disk full from each of those points on, and a second run
 * started in the same folder. After each, `bptt sample` loads both manifests,
 * and `--resume` ends with the same weights, bit for bit, as a run that was
 * never interrupted.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cliSandbox, exited, manifestAt as manifestOf, savedUpdates as updatesOf, sleep } from './sandbox.js';

const { tmp, run, runWith, start } = cliSandbox('bptt-crash-');

const TEXT = join(tmp, 'text.txt');
writeFileSync(TEXT, 'the sea was calm that morning and the ship moved slowly to the east. '.repeat(40));
const EVERY = 4;
const STEPS = 12;
const TRAIN = ['train', '--text', TEXT, '--steps', String(STEPS), '--eval-every', String(EVERY),
  '--hidden', '8', '--layers', '1', '--embed', '4', '--batch', '2', '--seq-len', '8', '--workers', '0', '--quiet',
  '--sample', '0', '--seed', '3'];

const weightsHash = (dir: string, name: string): string => {
  const m = manifestOf(join(dir, `${name}.json`));
  return createHash('sha256').update(readFileSync(join(dir, m.weights))).digest('hex');
};

/** The points of the run's file writes, as BPTT_FAILPOINTS=trace prints them. */
function tracePoints(out: string): Array<{ n: number; label: string }> {
  const r = runWith({ BPTT_FAILPOINTS: 'trace' }, ...TRAIN, '--out', out);
  assert.equal(r.status, 0, r.stderr);
  return [...r.stderr.matchAll(/^bptt-failpoint (\d+) (.*)$/gm)].map((m) => ({ n: Number(m[1]), label: m[2]! }));
}

/** Both manifests load in `bptt sample`, and --resume ends with the reference weights. */
function assertRecovers(out: string, reference: { last: string; best: string }, what: string): void {
  for (const name of ['last', 'best']) {
    const r = run('sample', '--checkpoint', join(out, `${name}.json`), '--length', '5', '--seed', '1');
    assert.equal(r.status, 0, `${what}: bptt sample --checkpoint ${name}.json: ${r.stderr}`);
  }
  const resumed = run(...TRAIN, '--out', out, '--resume');
  assert.equal(resumed.status, 0, `${what}: --resume: ${resumed.stderr}`);
  assert.equal(updatesOf(join(out, 'last.json')), STEPS);
  assert.equal(weightsHash(out, 'last'), reference.last,
    `${what}: the resumed run's last weights differ from the uninterrupted run's`);
  assert.equal(weightsHash(out, 'best'), reference.best, `${what}: the resumed run's best weights differ`);
}

describe('crash-and-fault suite: a save interrupted anywhere loses nothing '
  + 'but the work since the last checkpoint', () => {
  const reference = join(tmp, 'reference');
  const points = tracePoints(reference);
  const ref = { last: weightsHash(reference, 'last'), best: weightsHash(reference, 'best') };
  // The saves of the second and last validations (updates 8 and 12: best.json, then last.json), from after the first
  // validation's manifests to the end: the directory flushes and the removal of the old files included.
  const manifestRenames = points.flatMap((p, i) => (/^rename .* -> .*\/(last|best)\.json$/.test(p.label) ? [i] : []));
  const save = points.slice(manifestRenames[1]! + 1);

  test('the traced save has writes, fsyncs, renames and unlinks of weights, state and manifest', () => {
    const kinds = new Set(save.map((p) => p.label.split(' ')[0]));
    for (const k of ['write', 'fsync', 'rename']) {
      assert.ok(kinds.has(k), `a ${k} point in ${save.map((p) => p.label).join('\n')}`);
    }
    assert.ok(save.some((p) => /\.state\.safetensors$/.test(p.label) && p.label.startsWith('rename')),
      'the state file is renamed');
    assert.ok(save.length >= 10, `at least 10 points, got ${save.length}`);
  });

  test('SIGKILL at each point of the save', () => {
    for (const p of save) {
      const out = join(tmp, `kill-${p.n}`);
      const r = runWith({ BPTT_FAILPOINTS: `kill@${p.n}` }, ...TRAIN, '--out', out);
      assert.equal(r.signal, 'SIGKILL', `killed at ${p.n} (${p.label}): ${r.stderr}`);
      assert.ok([EVERY, 2 * EVERY, 3 * EVERY].includes(updatesOf(join(out, 'last.json'))));
      assertRecovers(out, ref, `SIGKILL at point ${p.n} (${p.label})`);
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('the disk full from each point of the save on: one error line naming the file, '
    + 'a complete checkpoint kept', () => {
    for (const p of save) {
      const out = join(tmp, `full-${p.n}`);
      const r = runWith({ BPTT_FAILPOINTS: `enospc@${p.n}` }, ...TRAIN, '--out', out);
      const written = points.slice(p.n - 1).some((q) => /^(write|fsync|rename) /.test(q.label));
      if (!written) { // full only while the old files are removed, after the last save: nothing fails
        assert.equal(r.status, 0, r.stderr);
        assertRecovers(out, ref, `ENOSPC at point ${p.n} (${p.label})`);
        continue;
      }
      assert.equal(r.status, 1, `disk full at ${p.n} (${p.label}): ${r.stderr}`);
      assert.match(r.stderr,
        /^bptt: writing '.*': expected room for \d+ bytes, got ENOSPC: the disk is full \(\d+ bytes free\)/);
      assert.doesNotMatch(r.stderr, /done:/);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      const saved = updatesOf(join(out, 'last.json'));
      // (a later one when the disk filled after its rename)
      assert.ok([EVERY, 2 * EVERY, 3 * EVERY].includes(saved), `last.json at ${saved}`);
      assertRecovers(out, ref, `ENOSPC at point ${p.n} (${p.label})`);
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('a second run in the same folder is refused at once, naming the first; the first is not disturbed', async () => {
    const out = join(tmp, 'concurrent');
    const first = start(...TRAIN, '--out', out);
    const firstDone = exited(first);
    while (!existsSync(join(out, '.bptt-lock')) && first.exitCode === null) await sleep(1);
    first.kill('SIGSTOP'); // holds the folder for as long as the second run needs
    try {
      const second = run(...TRAIN, '--out', out);
      assert.equal(second.status, 1, second.stderr);
      assert.match(second.stderr,
        new RegExp(`^bptt: run folder '.*': expected no other run using it, got 'bptt train .*' \\(pid ${first.pid} `));
      const resumed = run(...TRAIN, '--out', out, '--resume');
      assert.match(resumed.stderr, /expected no other run using it/, 'nor --resume, before it reads anything');
    } finally {
      first.kill('SIGCONT');
    }
    assert.equal((await firstDone).code, 0);
    assert.equal(weightsHash(out, 'last'), ref.last, 'the first run ends as the reference');
    assert.equal(weightsHash(out, 'best'), ref.best);
  });

  test('a second run after the first was killed takes the stale lock over '
    + 'and --resume ends as the reference', async () => {
    const out = join(tmp, 'stale');
    const first = start(...TRAIN, '--out', out);
    const firstDone = exited(first);
    while (!existsSync(join(out, 'last.json')) && first.exitCode === null) await sleep(1); // written after best.json
    first.kill('SIGKILL');
    assert.equal((await firstDone).signal, 'SIGKILL');
    assert.ok(existsSync(join(out, '.bptt-lock')), 'the killed run left its lock');
    assertRecovers(out, ref, 'after SIGKILL with the lock left behind');
  });
});
