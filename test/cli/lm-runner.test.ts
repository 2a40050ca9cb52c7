/**
 * `bptt train lm` on the runner, through the command line: early stopping, the
 * validation cadence, the time budget and its learning rate, and --resume
 * (bit-exact), read from the --log records and the checkpoints.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { learningRate, type Schedule } from '../../src/optim/index.js';
import { cliSandbox, manifestAt, savedUpdates } from './sandbox.js';

const { tmp, run } = cliSandbox('bptt-lm-runner-');
const TIMEOUT = { timeout: 120_000 };

// 2,000 characters: 1,900 to train on, 4 streams of 474, 30 windows of 16 an epoch
const TEXT = join(tmp, 'text.txt');
writeFileSync(TEXT, 'the sea was calm that morning; the ship moved slowly east. '.repeat(40).slice(0, 2000));
const PER_EPOCH = 30;
const TINY = ['--text', TEXT, '--hidden', '16', '--layers', '1', '--embed', '8', '--batch', '4', '--seq-len', '16',
  '--workers', '0', '--quiet', '--sample', '0'];

type Rec = Record<string, unknown> & { type: string };
let n = 0;
/** Runs `bptt train` with a fresh --out and --log; returns its records and output folder. */
function train(...args: string[]): { records: Rec[]; out: string; stdout: string } {
  const out = join(tmp, `run${n}`), log = join(tmp, `run${n++}.jsonl`);
  const r = run('train', ...TINY, ...args, '--out', out, '--log', log);
  assert.equal(r.status, 0, r.stderr);
  return { records: logged(log), out, stdout: r.stdout };
}
const logged = (log: string): Rec[] => readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec);
const of = (records: Rec[], type: string): Rec[] => records.filter((r) => r.type === type);
const done = (records: Rec[]): Rec => {
  const d = of(records, 'done');
  assert.equal(d.length, 1, 'one done record');
  return d[0]!;
};

describe('bptt train lm on the runner', () => {
  test('--patience 1 stops a run whose validation stops improving, before the budget', TIMEOUT, () => {
    const { records, stdout } = train('--steps', '200', '--eval-every', '5', '--patience', '1', '--min-delta', '0.001',
      '--lr', '1e-9', '--schedule', 'constant', '--warmup', '0');
    const end = done(records);
    assert.equal(end.stoppedBy, 'patience');
    assert.equal(end.updates, 10, 'the second validation did not improve on the first');
    assert.deepEqual(of(records, 'validation').map((v) => [v.update, v.best, v.sinceBest]), [[5, true, 0], [10, false, 1]]);
    assert.equal(of(records, 'update').length, 10);
    assert.match(stdout, /early stop: 1 validations without improvement/);
  });

  test('--eval-every 5: validations at every 5th update, and at the end', TIMEOUT, () => {
    const { records } = train('--steps', '17', '--eval-every', '5');
    assert.deepEqual(of(records, 'validation').map((v) => [v.update, v.final]),
      [[5, false], [10, false], [15, false], [17, true]]);
    assert.equal(done(records).stoppedBy, 'budget');
  });

  test('--eval-every 0.5e: validations every half epoch of batches, and at the end', TIMEOUT, () => {
    const { records } = train('--steps', '40', '--eval-every', '0.5e');
    const half = PER_EPOCH / 2;
    assert.deepEqual(of(records, 'validation').map((v) => v.update), [half, 2 * half, 40]);
    const at = of(records, 'validation').map((v) => of(records, 'update').find((u) => u.update === v.update)!.epoch);
    assert.deepEqual(at.slice(0, 2), [0.5, 1]);
  });

  test('--time 4s ends within 4.4 s of wall time; each lr is the schedule\'s at its update and progress', TIMEOUT, () => {
    const t0 = performance.now();
    const { records, out } = train('--time', '4s', '--eval-every', '20', '--warmup', '10');
    const wall = (performance.now() - t0) / 1000;
    assert.ok(wall < 4.4, `the command took ${wall.toFixed(2)} s`);
    const end = done(records);
    assert.equal(end.stoppedBy, 'budget');
    const updates = of(records, 'update');
    assert.ok(updates.length > 20, `${updates.length} updates`);
    const schedule = manifestAt(join(out, 'last.json')).meta.settings as { lr: number; schedule: string };
    const s: Schedule = { kind: schedule.schedule as Schedule['kind'], lr: schedule.lr, warmup: 10, floor: 0 };
    assert.equal(s.kind, 'cosine');
    let before = 0; // the lr of an update is set at the progress reached by the one before: validations do not move it
    updates.forEach((u, i) => {
      assert.equal(u.update, i + 1);
      assert.equal(u.lr, learningRate(s, u.update as number, before), `lr at update ${u.update}`);
      assert.ok((u.progress as number) >= before, `progress goes back at update ${u.update}`);
      before = u.progress as number;
    });
    assert.ok(before > 0.9, `progress at the end: ${before}`);
  });

  test('--resume: N updates, then N more, end with the weights of 2N in one run, bit for bit', TIMEOUT, () => {
    // a constant schedule: the lr does not depend on the budget, which the resumed run extends from 6 to 12
    const common = ['--eval-every', '4', '--lr', '0.01', '--schedule', 'constant', '--warmup', '3', '--restart', '0.3'];
    const whole = train('--steps', '12', ...common);
    const first = train('--steps', '6', ...common);
    assert.equal(savedUpdates(join(first.out, 'last.json')), 6);
    const log = join(tmp, 'resumed.jsonl');
    const r = run('train', '--resume', '--text', TEXT, '--steps', '12', '--out', first.out, '--log', log, '--quiet');
    assert.equal(r.status, 0, r.stderr);
    const resumed = logged(log);
    assert.deepEqual(of(resumed, 'update').map((u) => u.update), [7, 8, 9, 10, 11, 12]);
    const lossesOf = (rs: Rec[]): unknown[] => of(rs, 'update').map((u) => u.loss);
    assert.deepEqual([...lossesOf(first.records), ...lossesOf(resumed)], lossesOf(whole.records), 'the same losses');
    const a = manifestAt(join(whole.out, 'last.json')), b = manifestAt(join(first.out, 'last.json'));
    assert.equal(savedUpdates(join(first.out, 'last.json')), 12);
    assert.equal(b.sha256[b.weights], a.sha256[a.weights], 'the same weights');
  });
});
