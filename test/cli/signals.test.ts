/**
 * `bptt train` killed between checkpoints with SIGINT, SIGTERM or SIGKILL:
 * SIGINT and SIGTERM save the run at the update they interrupt (nothing lost);
 * SIGKILL loses at most the updates since the last checkpoint. No temporary or
 * partial file stays behind, the checkpoint loads, and `--resume` ends with the
 * same weights, bit for bit, and the same validation figures as a run that was
 * never interrupted.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Manifest } from '../../src/io/node/checkpoint-files.js';
import { loadLanguageModel } from '../../src/tasks/language-model/node/checkpoint.js';
import type { RunProgress } from '../../src/training/index.js';
import { runStateOf } from '../../src/training/node/run-files.js';
import { cliSandbox, exited, manifestAt as manifestOf, savedUpdates, sleep } from './sandbox.js';

const { tmp, run, start } = cliSandbox('bptt-signals-');

const SENTENCES = [
  'The whale rose from the deep and the sailors watched it in silence.',
  'Call me Ishmael, said the young man to the old captain on the dock.',
  'The sea was calm that morning, and the ship moved slowly to the east.',
  'They spoke of home, of bread and of the long winter nights ashore.',
];
const TEXT = join(tmp, 'text.txt');
writeFileSync(TEXT, Array.from({ length: 12 }, (_, i) => [...SENTENCES.slice(i % 4), ...SENTENCES.slice(0, i % 4)].join(' ') + '\n').join(''));

const EVERY = 20;
const STEPS = 120;
const TRAIN = ['train', '--text', TEXT, '--steps', String(STEPS), '--eval-every', String(EVERY), '--hidden', '16', '--layers', '1', '--embed', '8',
  '--batch', '4', '--seq-len', '16', '--workers', '0', '--quiet', '--sample', '0'];
const CHECKPOINT_FILE = /^(best|last)(\.json|-[0-9a-f]{8}(\.state)?\.safetensors)$/;


const progressOf = (m: Manifest): RunProgress => (m.meta.trainer as { progress: RunProgress }).progress;
const updatesIn = (log: string): number => (existsSync(log) ? (readFileSync(log, 'utf8').match(/"type":"update"/g) ?? []).length : 0);
/** The last update number logged (a killed run's log may end in a torn line). */
const lastLogged = (log: string): number => Math.max(0, ...[...readFileSync(log, 'utf8').matchAll(/"type":"update","update":(\d+)/g)].map((m) => Number(m[1])));

/** Files in `dir` that are not a checkpoint file, or a weights file no manifest names. */
function strays(dir: string): string[] {
  const files = readdirSync(dir);
  const named = new Set(['best.json', 'last.json'].filter((f) => files.includes(f)).flatMap((f) => {
    const m = manifestOf(join(dir, f));
    return [m.weights, m.state ?? ''];
  }));
  return files.filter((f) => !CHECKPOINT_FILE.test(f) || (f.endsWith('.safetensors') && !named.has(f)));
}

/** Both manifests load (every file against its SHA-256), with the trainer state --resume needs. */
function assertLoads(dir: string): void {
  for (const name of ['last', 'best']) {
    const path = join(dir, `${name}.json`);
    if (!existsSync(path)) continue;
    const { state } = runStateOf(loadLanguageModel(path)); // every file checked against its SHA-256
    assert.equal(state.progress.updates, savedUpdates(path));
  }
}

describe('training killed between checkpoints, then resumed', () => {
  const REF = join(tmp, 'ref');
  let reference: Manifest;
  let referenceBest: Manifest;
  let referenceOutput = '';

  test('an uninterrupted run (the reference)', { timeout: 180_000 }, () => {
    const r = run(...TRAIN, '--out', REF);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`done: ${STEPS} updates`));
    referenceOutput = r.stdout;
    reference = manifestOf(join(REF, 'last.json'));
    referenceBest = manifestOf(join(REF, 'best.json'));
    assert.deepEqual(strays(REF), []);
  });

  for (const signal of ['SIGINT', 'SIGTERM', 'SIGKILL'] as const) {
    test(`${signal} after the first checkpoint: at most the work since it is lost, and --resume ends as the reference`, { timeout: 240_000 }, async (t) => {
      const out = join(tmp, signal), log = join(tmp, `${signal}.jsonl`);
      const child = start(...TRAIN, '--out', out, '--log', log);
      const done = exited(child);
      let finished = false;
      void done.then(() => (finished = true));
      // Between checkpoints: the first one written, a few updates past it, not on the next.
      while (!finished && !(existsSync(join(out, 'last.json')) && updatesIn(log) >= EVERY + 3 && updatesIn(log) % EVERY > 2)) await sleep(2);
      assert.ok(!finished, 'the run ended before it could be interrupted (make STEPS larger)');
      child.kill(signal);
      const r = await done;
      const logged = lastLogged(log);
      const saved = savedUpdates(join(out, 'last.json'));
      t.diagnostic(`${signal} at update ${logged}; last.json at update ${saved}`);
      if (signal === 'SIGKILL') {
        assert.equal(r.signal, 'SIGKILL');
        assert.ok(saved <= logged && logged - saved <= EVERY, `checkpoint at ${saved}, killed at ${logged}: lost more than the updates since the last checkpoint`);
        assert.equal(saved % EVERY, 0, 'the checkpoint is one of the regular ones');
        const left = strays(out);
        if (left.length) t.diagnostic(`left by the kill (removed by the next save): ${left.join(', ')}`);
        // unreferenced weights and temporary files go at the next save; the lock of the killed run is taken over
        const removable = (f: string): boolean =>
          /\.safetensors$|\.\d+-[0-9a-f]{8}\.tmp$/.test(f) || f === '.bptt-lock';
        assert.ok(left.every(removable), `only files a next save removes: ${left.join(', ')}`);
      } else {
        assert.equal(r.code, 130, r.stderr);
        assert.equal(r.signal, null);
        assert.match(r.stderr, new RegExp(`^bptt: ${signal}: saved .*last\\.json at update ${saved}; continue with --resume\\n$`));
        assert.doesNotMatch(r.stderr, /\n\s+at /);
        assert.equal(saved, logged, 'nothing lost: the checkpoint is at the interrupted update');
        assert.deepEqual(strays(out), [], 'no temporary or unreferenced file');
      }
      assertLoads(out);

      const resumed = run('train', '--resume', '--text', TEXT, '--out', out, '--quiet', '--sample', '0');
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.match(resumed.stdout, new RegExp(`done: ${STEPS} updates`));
      assert.deepEqual(strays(out), [], 'no file left behind after the resumed run');
      const last = manifestOf(join(out, 'last.json')), best = manifestOf(join(out, 'best.json'));
      assert.equal(progressOf(last).updates, STEPS);
      assert.equal(last.sha256[last.weights], reference.sha256[reference.weights], 'the same final weights, bit for bit');
      assert.equal(progressOf(last).last!.score, progressOf(reference).last!.score, 'the same final validation score');
      assert.deepEqual(progressOf(last).best, progressOf(reference).best, 'the same best validation');
      assert.equal(best.sha256[best.weights], referenceBest.sha256[referenceBest.weights], 'the same best weights');
      const bits = (s: string): string => /best validation (\S+ bpc at update \d+)/.exec(s)?.[1] ?? s;
      assert.equal(bits(resumed.stdout), bits(referenceOutput), 'the same validation figures printed');
    });
  }
});
