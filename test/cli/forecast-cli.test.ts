/**
 * `bptt train forecast` and `bptt forecast` spawned as a user would run them,
 * on small CSV files in a fresh temporary directory, with tiny budgets.
 */
import assert from 'node:assert/strict';
import type { SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import type { Manifest } from '../../src/io/node/checkpoint-files.js';
import { learningRate } from '../../src/optim/index.js';
import type { ForecastExtra } from '../../src/tasks/forecast/codec.js';
import type { RunMeta } from '../../src/training/index.js';
import { cliSandbox, exited, sleep } from './sandbox.js';

const { tmp, run, start } = cliSandbox('bptt-forecast-cli-');
const CLI_TIMEOUT = { timeout: 120_000 };
const TINY = ['--lookback', '12', '--horizon', '6', '--hidden', '6', '--steps', '8', '--eval-every', '4', '--batch', '8',
  '--quiet'];
/** --quiet leaves out the test table */
const SHOWN = TINY.filter((x) => x !== '--quiet');

/** An hourly CSV: a daily cycle in 'temp', a covariate 'wind'; `edit` changes rows of cells before it is written. */
function csv(name: string, rows = 240, edit: (cells: string[][]) => void = () => undefined): string {
  const cells = Array.from({ length: rows }, (_, k) => [
    new Date(Date.UTC(2021, 0, 1) + k * 3_600_000).toISOString().slice(0, 19),
    (10 + 4 * Math.sin((2 * Math.PI * k) / 24) + 0.1 * Math.cos(k)).toFixed(2),
    (3 + Math.sin(k / 7)).toFixed(2),
  ]);
  edit(cells);
  const path = join(tmp, name);
  writeFileSync(path, ['date,temp,wind', ...cells.map((r) => r.join(','))].join('\n') + '\n');
  return path;
}

const GOOD = csv('good.csv');
const OLD = fileURLToPath(new URL('../../../test/fixtures/old-checkpoints/forecast/', import.meta.url));
const manifestOf = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

function assertOneLineError(r: SpawnSyncReturns<string>, pattern: RegExp): void {
  assert.equal(r.status, 1, `exit status (stdout: ${r.stdout}, stderr: ${r.stderr})`);
  const err = r.stderr.replace(/\n$/, '');
  assert.ok(!err.includes('\n'), `a single line on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(err, /internal error|\n\s+at /);
  assert.match(err, pattern);
}



describe('bptt train forecast / bptt forecast', () => {
  const D = join(tmp, 'D');
  const L = join(tmp, 'D.jsonl');

  test('train writes checkpoints, a log and the test table of the model and both baselines', CLI_TIMEOUT, () => {
    const r = run('train', 'forecast', '--csv', GOOD, '--target', 'temp', '--features', 'wind', ...SHOWN, '--out', D,
      '--log', L);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /done: 8 updates/);
    assert.match(r.stdout, /test: \d+ windows × 6 steps, 2021-01-\d\dT\d\d:00:00 to 2021-01-10T23:00:00; MASE scale: .*season 24/);
    for (const row of [/\| model \(LSTM 1×6 \+ highway 12, direct\) \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/, /\| seasonal naive \(m = 24\) \|/, /\| linear AR\(12\), least squares \|/]) assert.match(r.stdout, row);
    const files = readdirSync(D);
    assert.ok(files.every((f) => /^(best|last)(\.json|-[0-9a-f]{8}(\.state)?\.safetensors)$/.test(f)), files.join(', '));
    assert.ok(manifestOf(join(D, 'last.json')).state, 'last.json holds the trainer state (--resume)');
    const meta = manifestOf(join(D, 'best.json')).meta as unknown as RunMeta;
    const { data, scaler } = meta.extra as unknown as ForecastExtra;
    assert.deepEqual([data.time, data.target, data.features, data.season, data.difference],
      ['date', 'temp', ['wind'], 24, 'seasonal']);
    assert.deepEqual(data.split, { fractions: [0.7, 0.15], rows: 240, trainEnd: 168, valEnd: 204 });
    assert.equal(scaler.mean.length, 2);
    assert.deepEqual(meta.data.map((x) => [x.role, x.name.endsWith('good.csv'), x.sha256.length]), [['--csv', true, 64]]);
    assert.match(r.stdout, /test: 31 windows/);
    const log = readFileSync(L, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; update?: number });
    assert.deepEqual(log.filter((x) => x.type === 'update').map((x) => x.update), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(log.filter((x) => x.type === 'validation').map((x) => x.update), [4, 8]);
    assert.deepEqual(log.slice(-2).map((x) => x.type), ['done', 'test']);
  });

  test('forecast writes the next H steps as CSV, to standard output or a file', CLI_TIMEOUT, () => {
    const r = run('forecast', '--checkpoint', D, '--csv', GOOD);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines[0], 'date,temp');
    assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), ['2021-01-11T00:00:00', '2021-01-11T01:00:00', '2021-01-11T02:00:00', '2021-01-11T03:00:00', '2021-01-11T04:00:00', '2021-01-11T05:00:00']);
    for (const l of lines.slice(1)) assert.ok(Number.isFinite(Number(l.split(',')[1])), l);
    const out = join(tmp, 'f.csv');
    const f = run('forecast', '--checkpoint', join(D, 'best.json'), '--out', out); // --csv defaults to the training data
    assert.equal(f.status, 0, f.stderr);
    assert.equal(readFileSync(out, 'utf8'), r.stdout);
  });

  test('a quantile model writes its quantiles; a recursive GRU trains and forecasts', CLI_TIMEOUT, () => {
    const Q = join(tmp, 'Q');
    assert.equal(run('train', 'forecast', '--csv', GOOD, '--target', 'temp', ...TINY, '--loss', 'quantile', '--quantiles', '0.1,0.5,0.9', '--out', Q).status, 0);
    const r = run('forecast', '--checkpoint', Q);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.split('\n')[0], 'date,temp,temp_q10,temp_q50,temp_q90');
    const row = r.stdout.split('\n')[1]!.split(',').map(Number);
    assert.equal(row[1], row[3], 'the point forecast is the median');
    const G = join(tmp, 'G');
    const g = run('train', 'forecast', '--csv', GOOD, '--target', 'temp', '--features', 'wind', ...SHOWN, '--mode', 'recursive', '--cell', 'gru', '--out', G);
    assert.equal(g.status, 0, g.stderr);
    assert.match(g.stdout, /model \(GRU 1×6 \+ highway 12, recursive\)/);
    assert.equal(run('forecast', '--checkpoint', G).stdout.trim().split('\n').length, 7);
  });

  test('--dataset co2 reads the bundled CSV and reports the months it filled', CLI_TIMEOUT, () => {
    const r = run('train', 'forecast', '--dataset', 'co2', '--steps', '2', '--hidden', '4', '--out', join(tmp, 'co2'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /746 monthly rows, split 522 \/ 111 \/ 113/);
    assert.match(r.stdout, /filled \(--fill linear\): 3 places: Date row 3 \(1 missing row after it\)/);
    assert.match(r.stdout, /seasonal naive \(m = 12\) \| 2\.509 \| 2\.424 \| 1\.863 \|/);
    const f = run('forecast', '--checkpoint', join(tmp, 'co2'));
    assert.equal(f.stdout.split('\n')[1]!.split(',')[0], '2020-05-01');
  });
});

describe('bad input: one line on stderr, exit code 1, nothing written', () => {
  const fails = (name: string, args: string[], pattern: RegExp): void => {
    const out = join(tmp, `never-${name}`);
    assertOneLineError(run('train', 'forecast', ...args, ...TINY, '--out', out), pattern);
    assert.ok(!existsSync(out), `${out} was created`);
  };

  test('missing and non-numeric values name their row and column; --fill is the way out', CLI_TIMEOUT, () => {
    const holes = csv('holes.csv', 240, (c) => {
      c[9]![1] = '';
      c[30]![2] = 'calm';
    });
    fails('holes', ['--csv', holes, '--target', 'temp', '--features', 'wind'], /column 'temp' row 10 \(line 11\): expected a number, got an empty cell; also 1 missing or non-numeric cell \(fill them explicitly with --fill previous\|linear\|zero\)/);
    fails('calm', ['--csv', holes, '--target', 'wind'], /column 'wind' row 31 \(line 32\): expected a number, got 'calm'/);
    const ok = run('train', 'forecast', '--csv', holes, '--target', 'temp', '--features', 'wind', '--fill', 'previous', ...TINY, '--out', join(tmp, 'filled'));
    assert.equal(ok.status, 0, ok.stderr);
  });

  test('timestamps out of order, repeated or missing', CLI_TIMEOUT, () => {
    fails('order', ['--csv', csv('order.csv', 240, (c) => ([c[5], c[6]] = [c[6]!, c[5]!])), '--target', 'temp'], /increasing order, got row 7 \(line 8\) earlier than row 6 \(line 7\)/);
    fails('dup', ['--csv', csv('dup.csv', 240, (c) => (c[8]![0] = c[7]![0]!)), '--target', 'temp'], /row 9 \(line 10\) repeats the timestamp of row 8/);
    fails('gap', ['--csv', csv('gap.csv', 240, (c) => c.splice(50, 2)), '--target', 'temp'], /column 'date' row 50 \(line 51\): expected evenly spaced rows, got 2 missing rows after it/);
  });

  test('too little data, a constant target, a single row, a header alone', CLI_TIMEOUT, () => {
    fails('short', ['--csv', csv('short.csv', 40), '--target', 'temp'], /expected at least 42 training rows \(lookback 12 \+ differencing 24 \+ horizon 6\), got 28 of 40 rows/);
    fails('flat', ['--csv', csv('flat.csv', 240, (c) => c.forEach((r) => (r[1] = '5'))), '--target', 'temp'], /target 'temp': expected values that vary/);
    fails('one', ['--csv', csv('one.csv', 1), '--target', 'temp'], /got 0 of 1 rows/);
    writeFileSync(join(tmp, 'header.csv'), 'date,temp\n');
    fails('header', ['--csv', join(tmp, 'header.csv'), '--target', 'temp'], /at least one data row below the header, got none/);
  });

  test('unknown columns, conflicting and invalid options', CLI_TIMEOUT, () => {
    fails('column', ['--csv', GOOD, '--target', 'pressure'],
      /expected a column 'pressure', got columns \['date', 'temp', 'wind'\]/);
    fails('both', ['--csv', GOOD, '--dataset', 'co2', '--target', 'temp'], /either --csv FILE or --dataset co2\|seattle, got both/);
    fails('neither', ['--target', 'temp'], /got neither/);
    fails('quantile', ['--csv', GOOD, '--target', 'temp', '--loss', 'quantile', '--mode', 'recursive'], /quantiles need the direct mode/);
    fails('split', ['--csv', GOOD, '--target', 'temp', '--split', '0.9,0.2'], /--split/);
    fails('missing', ['--csv', join(tmp, 'no-such.csv'), '--target', 'temp'], /no-such\.csv.*no such file/);
  });

  test('forecast: a corrupt checkpoint, a CSV without the model\'s columns, an unwritable --out', CLI_TIMEOUT, () => {
    const D = join(tmp, 'D');
    writeFileSync(join(tmp, 'other.csv'), 'date,temp\n2021-01-01T00:00:00,1\n');
    assertOneLineError(run('forecast', '--checkpoint', D, '--csv', join(tmp, 'other.csv')), /expected a column 'wind'/);
    const out = join(tmp, 'no-dir', 'f.csv');
    assertOneLineError(run('forecast', '--checkpoint', D, '--out', out),
      /writing '.*no-dir\/f\.csv': expected a file this process can write, got no such file or directory/);
    assert.ok(!existsSync(out));
    const bad = join(D, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...manifestOf(join(D, 'best.json')), meta: { task: 'language-model' } }));
    assertOneLineError(run('forecast', '--checkpoint', bad), /expected a forecast checkpoint, got task '(lm|language-model)'/);
  });
});

describe('bptt train forecast --resume', () => {
  const EVERY = 20;
  const STEPS = 300;
  const RUN = ['train', 'forecast', '--csv', GOOD, '--target', 'temp', '--features', 'wind', '--lookback', '12', '--horizon', '6', '--hidden', '6', '--batch', '8',
    '--eval-every', String(EVERY), '--steps', String(STEPS)];
  const REF = join(tmp, 'resume-ref');
  const weightsOf = (dir: string): string => {
    const m = manifestOf(join(dir, 'last.json'));
    return m.sha256[m.weights]!;
  };
  /** The printed test scores: the table and the update of the best validation. */
  const scores = (stdout: string): string => [/best validation .* at update \d+/.exec(stdout)?.[0],
    stdout.slice(stdout.indexOf('\n') + 1)].join('\n');
  let reference = '';

  test('an uninterrupted run (the reference)', CLI_TIMEOUT, () => {
    const r = run(...RUN, '--out', REF);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`done: ${STEPS} updates`));
    reference = r.stdout.slice(r.stdout.indexOf('done:'));
  });

  test('SIGINT between checkpoints saves last at the interrupted update; --resume ends as the reference, bit for bit', { timeout: 180_000 }, async (t) => {
    const out = join(tmp, 'resume-sigint'), log = join(tmp, 'resume-sigint.jsonl');
    const updatesIn = (): number => (existsSync(log) ? (readFileSync(log, 'utf8').match(/"type":"update"/g) ?? []).length : 0);
    const child = start(...RUN, '--out', out, '--log', log);
    const done = exited(child);
    let finished = false;
    void done.then(() => (finished = true));
    // Between checkpoints, and past the first epoch's end (the window order of the second epoch must carry over).
    while (!finished && !(updatesIn() >= 2 * EVERY + 3 && updatesIn() % EVERY > 2)) await sleep(2);
    assert.ok(!finished, 'the run ended before it could be interrupted (make STEPS larger)');
    child.kill('SIGINT');
    const r = await done;
    const logged = updatesIn();
    t.diagnostic(`SIGINT at update ${logged}`);
    assert.equal(r.code, 130, r.stderr);
    assert.match(r.stderr, new RegExp(`(^|\\n)bptt: SIGINT: saved .*last\\.json at update ${logged}; continue with --resume\\n$`));
    const saved = manifestOf(join(out, 'last.json'));
    assert.equal((saved.meta as unknown as RunMeta).trainer!.progress.updates, logged, 'nothing lost: last.json is at the interrupted update');
    assert.ok(logged < STEPS);

    const resumed = run('train', 'forecast', '--resume', '--csv', GOOD, '--out', out, '--log', log);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stdout, new RegExp(`resuming at update ${logged}`));
    assert.match(resumed.stdout, new RegExp(`done: ${STEPS} updates`));
    assert.equal(weightsOf(out), weightsOf(REF), 'the same final weights, bit for bit');
    assert.equal(scores(resumed.stdout.slice(resumed.stdout.indexOf('done:'))), scores(reference), 'the same test scores printed');
    const updates = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; update?: number }).filter((x) => x.type === 'update').map((x) => x.update);
    assert.deepEqual(updates, Array.from({ length: STEPS }, (_, i) => i + 1), 'the log continues where the run stopped');
  });

  test('a finished run continues with a larger --steps', CLI_TIMEOUT, () => {
    const out = join(tmp, 'resume-more');
    const first = run(...RUN, '--steps', '20', '--out', out);
    assert.equal(first.status, 0, first.stderr);
    const more = run('train', 'forecast', '--resume', join(out, 'last.json'), '--csv', GOOD,
      '--steps', '30', '--out', out, '--log', join(tmp, 'more.jsonl'));
    assert.equal(more.status, 0, more.stderr);
    assert.match(more.stdout, /resuming at update 20/);
    assert.match(more.stdout, /done: 30 updates/);
    const log = readFileSync(join(tmp, 'more.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; update?: number });
    assert.deepEqual(log.filter((x) => x.type === 'update').map((x) => x.update), Array.from({ length: 10 }, (_, i) => 21 + i));
    assert.deepEqual(log.filter((x) => x.type === 'validation').map((x) => x.update), [30]);
  });

  test('another task\'s checkpoint, an old-format one, a conflicting option, a changed CSV: one line, exit code 1, nothing written', CLI_TIMEOUT, () => {
    const text = join(tmp, 'text.txt');
    writeFileSync(text, 'The whale rose from the deep, and the sailors watched it in silence.\n'.repeat(20));
    const lm = join(tmp, 'resume-lm');
    const l = run('train', '--text', text, '--steps', '1', '--hidden', '4', '--layers', '1', '--embed', '4', '--batch', '2', '--seq-len', '8', '--workers', '0', '--quiet', '--sample', '0', '--out', lm);
    assert.equal(l.status, 0, l.stderr);
    const changed = join(tmp, 'changed.csv');
    cpSync(GOOD, changed);
    const C = join(tmp, 'resume-changed');
    assert.equal(run('train', 'forecast', '--csv', changed, '--target', 'temp', ...TINY, '--out', C).status, 0);
    writeFileSync(changed, readFileSync(changed, 'utf8').replace(/\n(2021-01-01T05:00:00),[\d.]+,/, '\n$1,9.99,'));

    const fingerprint = (dir: string): string => readdirSync(dir).sort().map((f) => `${f}:${readFileSync(join(dir, f)).length}`).join() + readFileSync(join(dir, 'last.json'), 'utf8');
    const before = [fingerprint(REF), fingerprint(lm), fingerprint(C)];
    const fails = (name: string, args: string[], pattern: RegExp): void => {
      const out = join(tmp, `never-resume-${name}`);
      assertOneLineError(run('train', 'forecast', ...args, '--out', out), pattern);
      assert.ok(!existsSync(out), `${out} was created`);
    };
    fails('lm', ['--resume', join(lm, 'last.json')], /checkpoint '.*resume-lm\/last\.json': expected a forecast checkpoint, got task '(lm|language-model)'/);
    fails('old', ['--resume', join(OLD, 'last.json'), '--csv', join(OLD, 'tiny.csv')], new RegExp("forecast/last\\.json': "
      + 'expected a training state to resume from \\(written by this version of bptt\\), got a checkpoint of the format '
      + 'before it \\(it loads for use, not to resume\\)'));
    fails('hidden', ['--resume', join(REF, 'last.json'), '--hidden', '8'], /--resume .*resume-ref\/last\.json: expected --hidden 6 as saved, or no --hidden, got --hidden 8/);
    fails('calendar', ['--resume', join(REF, 'last.json'), '--no-calendar'],
      /expected --calendar true as saved, or no --calendar, got --calendar false/);
    fails('truncated', ['--resume', join(REF, 'last.json'), '--bptt', 'truncated:4'], /expected --bptt full as saved, or no --bptt/);
    fails('csv', ['--resume', join(REF, 'last.json'), '--csv', changed],
      new RegExp('expected --csv .*good\\.csv \\(sha256 \\w+\\), the data it was trained on, '
        + 'got .*changed\\.csv \\(sha256 \\w+\\)$'));
    fails('changed', ['--resume', join(C, 'last.json'), '--csv', changed],
      new RegExp('--resume .*resume-changed/last\\.json: expected --csv .*changed\\.csv \\(sha256 (\\w+)\\), '
        + 'the data it was trained on, got .*changed\\.csv \\(sha256 (?!\\1)\\w+\\)$'));
    fails('no csv', ['--resume', join(REF, 'last.json')],
      new RegExp('expected --csv .*good\\.csv \\(sha256 \\w+\\) as trained on, '
        + 'got no --csv \\(bptt does not read files named inside a checkpoint\\)$'));
    fails('none', ['--resume', join(tmp, 'no-such', 'last.json')], /no-such\/last\.json': expected an existing file or directory/);
    assert.deepEqual([fingerprint(REF), fingerprint(lm), fingerprint(C)], before, 'the checkpoints are untouched');
  });
});

describe('bptt train forecast through the runner', () => {
  const BASE = ['train', 'forecast', '--csv', GOOD, '--target', 'temp', '--lookback', '12', '--horizon', '6',
    '--hidden', '6', '--batch', '8', '--quiet'];
  type Record = { type: string; update?: number; lr?: number; progress?: number; stoppedBy?: string };
  const records = (log: string): Record[] => readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  const validations = (log: string): number[] => records(log).filter((x) => x.type === 'validation')
    .map((x) => x.update!);
  const train = (name: string, ...args: string[]): string => {
    const log = join(tmp, `${name}.jsonl`);
    const r = run(...BASE, ...args, '--out', join(tmp, name), '--log', log);
    assert.equal(r.status, 0, r.stderr);
    return log;
  };

  test('--patience stops a run whose validation stops improving', CLI_TIMEOUT, () => {
    const log = train('patience', '--lr', '1e-9', '--schedule', 'constant', '--warmup', '0', '--min-delta', '0.001',
      '--patience', '2', '--eval-every', '2', '--steps', '200');
    const done = records(log).at(-2)!;
    assert.equal(done.type, 'done');
    assert.equal(done.stoppedBy, 'patience');
    assert.deepEqual(validations(log), [2, 4, 6], 'the first is the best; two without improvement stop the run');
    assert.equal(done.update ?? (done as { updates?: number }).updates, 6);
  });

  test('--eval-every n and Xe: validations at those updates and at the end', CLI_TIMEOUT, () => {
    assert.deepEqual(validations(train('every-3', '--eval-every', '3', '--steps', '10')), [3, 6, 9, 10]);
    // 127 training windows in batches of 8: 16 batches an epoch, half an epoch is 8
    assert.deepEqual(validations(train('every-half', '--eval-every', '0.5e', '--steps', '20')), [8, 16, 20]);
    // auto: once an epoch (16 updates here), but at least 10 times over --steps and at most every 10 updates
    assert.deepEqual(validations(train('every-auto', '--steps', '40')), [10, 20, 30, 40]);
    assert.deepEqual(validations(train('every-auto-10', '--steps', '200')).slice(0, 3), [16, 32, 48]);
  });

  test('--time 4s ends within 4.4 s, the learning rate following the logged progress', { timeout: 60_000 }, () => {
    const log = join(tmp, 'time.jsonl');
    const t0 = performance.now();
    const r = run(...BASE, '--time', '4s', '--eval-every', '20', '--out', join(tmp, 'time'), '--log', log);
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(r.status, 0, r.stderr);
    assert.ok(seconds < 4.4, `${seconds.toFixed(2)} s`);
    const updates = records(log).filter((x) => x.type === 'update');
    assert.ok(updates.length > 20 && validations(log).length > 1, `${updates.length} updates`);
    let before = 0;
    for (const u of updates) {
      // the rate of update n is the schedule's at the progress before it (what the previous update logged)
      assert.equal(u.lr, learningRate({ kind: 'cosine', lr: 3e-3, warmup: 50, floor: 0 }, u.update!, before));
      before = u.progress!;
    }
  });

  test('N updates, then --resume to 2N: the weights of a 2N run, bit for bit', CLI_TIMEOUT, () => {
    const args = ['--schedule', 'constant', '--warmup', '0', '--eval-every', '7'];
    train('whole', ...args, '--steps', '24');
    train('half', ...args, '--steps', '12');
    const r = run('train', 'forecast', '--resume', join(tmp, 'half', 'last.json'), '--csv', GOOD, '--steps', '24',
      '--out', join(tmp, 'half'), '--quiet');
    assert.equal(r.status, 0, r.stderr);
    const weights = (dir: string): string => {
      const m = manifestOf(join(tmp, dir, 'last.json'));
      return m.sha256[m.weights]!;
    };
    assert.equal(weights('half'), weights('whole'));
  });

  test('--bptt truncated is refused (the loss comes after the whole window); checkpointed trains', CLI_TIMEOUT, () => {
    assertOneLineError(run(...BASE, '--bptt', 'truncated:4', '--out', join(tmp, 'never-truncated')),
      /expected --bptt full or checkpointed, got --bptt truncated \(the loss comes after the whole window/);
    assert.ok(!existsSync(join(tmp, 'never-truncated')));
    const log = train('checkpointed', '--bptt', 'checkpointed:4', '--steps', '4', '--workers', '0');
    assert.equal(records(log).at(-2)!.type, 'done');
  });

  test('--workers: data-parallel over the windows, each thread at least one window of the last, smaller batch',
    CLI_TIMEOUT, () => {
    // 127 training windows in batches of 4: the last of an epoch holds 3, so 3 threads of the 4 asked for
    const r = run(...BASE.filter((x) => x !== '--quiet'), '--batch', '4', '--workers', '3', '--steps', '40',
      '--out', join(tmp, 'workers'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /batch 4, 3 threads/);
    assert.match(r.stdout, /done: 40 updates/);
  });

  test('bptt forecast reads a checkpoint of the format before the run format as the old command did', CLI_TIMEOUT,
    () => {
    const r = run('forecast', '--checkpoint', OLD, '--csv', join(OLD, 'tiny.csv'));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'date,temp\n2021-01-04T08:00:00,12.436525\n2021-01-04T09:00:00,15.880377\n');
  });
});
