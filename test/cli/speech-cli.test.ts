/**
 * `bptt train speech` and `bptt transcribe` spawned as a user would run them,
 * on the committed sample (test/fixtures/speech-sample) and on broken inputs
 * in a fresh temporary directory.
 */
import assert from 'node:assert/strict';
import type { SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../../src/io/node/checkpoint-files.js';
import { learningRate } from '../../src/optim/index.js';
import type { SpeechModelConfig } from '../../src/tasks/speech/index.js';
import type { RunMeta } from '../../src/training/index.js';
import { cliSandbox, exited, sleep } from './sandbox.js';

const { tmp, run, start } = cliSandbox('bptt-speech-cli-');
const SAMPLE = fileURLToPath(new URL('../../../test/fixtures/speech-sample/', import.meta.url));
const CLI_TIMEOUT = { timeout: 120_000 };
const OLD = fileURLToPath(new URL('../../../test/fixtures/old-checkpoints/speech/', import.meta.url));

function assertOneLineError(r: SpawnSyncReturns<string>, pattern: RegExp): void {
  assert.equal(r.status, 1, `exit status (stdout: ${r.stdout}, stderr: ${r.stderr})`);
  const err = r.stderr.replace(/\n$/, '');
  assert.ok(!err.includes('\n'), `a single line on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(err, /internal error|\n\s+at /);
  assert.match(err, pattern);
  assert.equal(r.stdout, '');
}



const manifestOf = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;
const metaOf = (m: Manifest) => m.meta as unknown as RunMeta<SpeechModelConfig>;
const progressOf = (m: Manifest) => metaOf(m).trainer!.progress;
interface Logged { type: string; update?: number; lr?: number; progress?: number; stoppedBy?: string; final?: boolean }
/** The log's records of one type (a resumed run appends to the log of the run it continues). */
const logged = (log: string, type: string): Logged[] => readFileSync(log, 'utf8').trim().split('\n')
  .map((l) => JSON.parse(l) as Logged).filter((x) => x.type === type);
/** The validations logged, but whether each was a run's last (a run stopped by its budget validates at its end). */
const validations = (log: string) => logged(log, 'validation').map((v) => ({ ...v, final: undefined }));
/** The figures of the summary lines (not the time). */
const figures = (stdout: string): string[] => [...stdout.matchAll(/best validation .* at update \d+|test: .*/g)].map((m) => m[0]);

/** A copy of the sample whose train.tsv is `manifest` (lines path<TAB>digits). */
function dataDir(name: string, manifest: string, files: Record<string, string | Uint8Array> = {}): string {
  const dir = join(tmp, name);
  cpSync(SAMPLE, dir, { recursive: true });
  writeFileSync(join(dir, 'train.tsv'), manifest);
  for (const [f, content] of Object.entries(files)) writeFileSync(join(dir, f), content);
  return dir;
}

describe('bptt train speech / bptt transcribe', () => {
  const OUT = join(tmp, 'run');
  const train = readFileSync(join(SAMPLE, 'train.tsv'), 'utf8').trim().split('\n').map((l) => l.split('\t') as [string, string]);

  test('train learns the sample, writes checkpoints and scores the held-out-voice test split', CLI_TIMEOUT, () => {
    // 200 updates of the whole sample (batch 9), the same run as in test/tasks/speech.test.ts: loss 0.031 per digit, every training utterance transcribed right.
    const r = run('train', 'speech', '--data', SAMPLE, '--hidden', '32', '--dropout', '0', '--epochs', '200', '--batch', '9', '--lr', '3e-3', '--schedule', 'constant', '--warmup', '20', '--eval-every', '100', '--out', OUT, '--log', join(tmp, 'log.jsonl'), '--report', join(tmp, 'report.html'));
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /9 training, 0 validation, 3 test utterances/);
    assert.match(r.stdout, /bidirectional GRU 2×32 \+ CTC/);
    assert.match(r.stdout, /done: 200 updates, 1\.8k utt in /);
    assert.match(r.stdout, /test: 3 utterances, 6 digits; digit error rate greedy [\d.]+ % .* beam 8 [\d.]+ %/);
    assert.match(readFileSync(join(tmp, 'report.html'), 'utf8'), /test DER greedy %/, 'the --report page');
    const files = readdirSync(OUT);
    assert.ok(files.every((f) => /^(best|last)(\.json|-[0-9a-f]{8}(\.state)?\.safetensors)$/.test(f)), files.join(', '));
    const meta = metaOf(manifestOf(join(OUT, 'best.json')));
    assert.equal(meta.task, 'speech');
    assert.deepEqual(meta.model.features, { kind: 'mfcc', size: 13, deltas: true, stack: 3, stride: 3 });
    assert.deepEqual(meta.extra.utterances, { train: 9, dev: 0, test: 3 });
    assert.deepEqual(meta.data.map((d) => d.role), ['--data']);
    const log = readFileSync(join(tmp, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; loss?: number });
    assert.equal(log.filter((x) => x.type === 'update').length, 200);
    assert.ok(log.filter((x) => x.type === 'update').at(-1)!.loss! < 0.2);
    assert.deepEqual(log.slice(-2).map((x) => x.type), ['done', 'test']);
    assert.ok(Number.isFinite((log.at(-1) as Record<string, unknown>)['test DER beam 8 %']));
  });

  test('transcribe prints path<TAB>digits per file, greedy and with a beam', CLI_TIMEOUT, () => {
    const wavs = train.map(([p]) => join(SAMPLE, p));
    for (const beam of ['1', '4']) {
      const r = run('transcribe', '--checkpoint', OUT, '--beam', beam, ...wavs);
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n').map((l) => l.split('\t'));
      assert.deepEqual(lines.map((l) => l[0]), wavs);
      let wrong = 0;
      lines.forEach((l, i) => (wrong += l[1] === train[i]![1] ? 0 : 1));
      assert.ok(wrong <= 1, `utterances transcribed wrong: ${wrong} of 9\n${r.stdout}`);
    }
  });

  test('bad data: a one-line error, exit 1, no output directory', CLI_TIMEOUT, () => {
    const cases: Array<[string[], RegExp]> = [
      [['--data', join(tmp, 'missing')], /^bptt: --data '.*missing': expected an existing directory, got no such file or directory$/],
      [['--data', join(tmp, 'empty-dir')], /^bptt: manifest '.*train\.tsv': expected a readable file \(lines path<TAB>digits\), got no such file or directory/],
      [['--data', dataDir('malformed-line', 'wav/train/train-00001.wav\tfour\n')], /^bptt: manifest '.*train\.tsv' line 1: expected path<TAB>digits/],
      [['--data', dataDir('no-file', 'wav/train/nope.wav\t4\n')],
        /^bptt: audio '.*nope\.wav': expected a readable regular file, got no such file or directory$/],
      [['--data', dataDir('not-wav', 'wav/train/train-00001.wav\t4\nbad.wav\t5\n', { 'bad.wav': 'just some text, not audio' })], /^bptt: audio '.*bad\.wav': expected 'RIFF' \.\.\. 'WAVE' magic/],
      [['--data', dataDir('cut-wav', 'cut.wav\t4\n', { 'cut.wav': readFileSync(join(SAMPLE, 'wav/train/train-00001.wav')).subarray(0, 2000) })], /^bptt: audio '.*cut\.wav': expected a 'data' chunk of \d+ bytes as its header says, got \d+ bytes \(file truncated\)$/],
      [['--data', SAMPLE, '--stack', '2', '--stride', '3'], /^bptt: bptt train speech: expected --stride at most --stack \(2\), got 3/],
    ];
    mkdirSync(join(tmp, 'empty-dir'));
    cases.forEach(([args, pattern], i) => {
      const out = join(tmp, `never-${i}`);
      assertOneLineError(run('train', 'speech', ...args, '--epochs', '1', '--out', out), pattern);
      assert.ok(!existsSync(out), `no output directory for case ${i}`);
    });
  });

  test('transcribe: a bad file or checkpoint fails the whole command with nothing printed', CLI_TIMEOUT, () => {
    const good = join(SAMPLE, 'wav/test/test-00001.wav');
    writeFileSync(join(tmp, 'text.wav'), 'not audio');
    assertOneLineError(run('transcribe', '--checkpoint', OUT, good, join(tmp, 'text.wav')), /^bptt: audio '.*text\.wav': expected a RIFF\/WAVE header of 12 bytes, got 9 bytes \(file truncated\)$/);
    assertOneLineError(run('transcribe', '--checkpoint', OUT, good, join(tmp, 'absent.wav')),
      /^bptt: audio '.*absent\.wav': expected a readable regular file, got no such file or directory$/);
    assertOneLineError(run('transcribe', '--checkpoint', join(tmp, 'no-run'), good), /^bptt: checkpoint '.*no-run': expected an existing file or directory/);
    assertOneLineError(run('transcribe', '--checkpoint', OUT, '--beam', '0', good), /^error: option '--beam <n>' argument '0' is invalid/);
  });

  describe('--resume', () => {
    // dev.tsv: the test split's utterances. Two layers (dropout 0.2 between them), batches of 2 (5 an epoch).
    const DATA = join(tmp, 'resume-data');
    const TINY = ['--hidden', '8', '--batch', '2', '--lr', '0.01', '--warmup', '3', '--beam', '2', '--quiet'];
    const REF = join(tmp, 'resume-ref');
    before(() => {
      cpSync(SAMPLE, DATA, { recursive: true });
      writeFileSync(join(DATA, 'dev.tsv'), readFileSync(join(SAMPLE, 'test.tsv')));
    });

    test('a run stopped by its --steps and resumed to more ends bit for bit as the run that never stopped', CLI_TIMEOUT, () => {
      // A constant learning rate: a cosine schedule would follow the smaller budget of the first part.
      const args = ['--data', DATA, ...TINY, '--schedule', 'constant', '--eval-every', '4'];
      const ref = run('train', 'speech', ...args, '--steps', '20', '--out', REF, '--log', join(tmp, 'ref.jsonl'));
      assert.equal(ref.status, 0, ref.stderr);
      const out = join(tmp, 'resume-stopped'), log = join(tmp, 'stopped.jsonl');
      const first = run('train', 'speech', ...args, '--steps', '12', '--out', out, '--log', log);
      assert.equal(first.status, 0, first.stderr);
      const stopped = progressOf(manifestOf(join(out, 'last.json')));
      assert.equal(stopped.updates, 12);
      assert.ok(stopped.best!.update < 12, `the best update (${stopped.best!.update}) before the last: its weights are not the last`);

      const resumed = run('train', 'speech', '--resume', '--data', DATA, '--out', out, '--steps', '20', '--beam', '2',
        '--quiet', '--log', log);
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.match(resumed.stdout, /^done: 20 updates, 36 utt in /);
      assert.deepEqual(figures(resumed.stdout), figures(ref.stdout), 'the same best validation and test scores printed');
      for (const name of ['last', 'best']) {
        const a = manifestOf(join(out, `${name}.json`)), b = manifestOf(join(REF, `${name}.json`));
        assert.equal(a.sha256[a.weights], b.sha256[b.weights], `the same ${name} weights, bit for bit`);
        if (name === 'best') continue; // best.json holds weights only
        assert.deepEqual({ ...progressOf(a), elapsedMs: 0, trainMs: 0 }, { ...progressOf(b), elapsedMs: 0, trainMs: 0 },
          `the same progress in ${name}.json`);
      }
      const last = manifestOf(join(out, 'last.json')), refLast = manifestOf(join(REF, 'last.json'));
      assert.equal(last.sha256[last.state!], refLast.sha256[refLast.state!], 'the same optimiser moments and best weights');
      assert.deepEqual(validations(log), validations(join(tmp, 'ref.jsonl')), 'the same validations logged, at the same updates');
      assert.deepEqual(logged(log, 'update').map((u) => u.update), Array.from({ length: 20 }, (_, i) => i + 1));
    });

    test('SIGINT saves last.json at the interrupted update; --resume then ends as the run never interrupted (cosine schedule)', { timeout: 180_000 }, async () => {
      const args = ['--data', DATA, ...TINY, '--eval-every', '10', '--steps', '80'];
      const cosine = join(tmp, 'resume-cosine');
      const ref = run('train', 'speech', ...args, '--out', cosine, '--log', join(tmp, 'cosine.jsonl'));
      assert.equal(ref.status, 0, ref.stderr);
      const out = join(tmp, 'resume-sigint'), log = join(tmp, 'sigint.jsonl');
      const child = start('train', 'speech', ...args, '--out', out, '--log', log);
      const done = exited(child);
      let finished = false;
      void done.then(() => (finished = true));
      const updates = (): number => (existsSync(log) ? (readFileSync(log, 'utf8').match(/"type":"update"/g) ?? []).length : 0); // the last line may be half written
      while (!finished && !(updates() >= 13 && updates() % 10 > 2)) await sleep(2); // past a checkpoint, not at one
      assert.ok(!finished, 'the run ended before it could be interrupted');
      child.kill('SIGINT');
      const r = await done;
      assert.equal(r.code, 130, r.stderr);
      const at = progressOf(manifestOf(join(out, 'last.json'))).updates;
      assert.match(r.stderr, new RegExp(`^bptt: SIGINT: saved .*last\\.json at update ${at}; continue with --resume\\n$`));
      assert.equal(at, logged(log, 'update').length, 'nothing lost: saved at the interrupted update');

      const resumed = run('train', 'speech', '--resume', join(out, 'last.json'), '--data', DATA, '--out', out,
        '--beam', '2', '--quiet', '--log', log);
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.deepEqual(figures(resumed.stdout), figures(ref.stdout));
      const a = manifestOf(join(out, 'last.json')), b = manifestOf(join(cosine, 'last.json'));
      assert.equal(a.sha256[a.weights], b.sha256[b.weights], 'the same last weights, bit for bit');
      assert.deepEqual(validations(log), validations(join(tmp, 'cosine.jsonl')));
    });

    test('another task, an old-format checkpoint, a changed setting or other data: a one-line error, exit 1', CLI_TIMEOUT, () => {
      const stopped = join(tmp, 'resume-stopped');
      const fc = join(tmp, 'resume-forecast');
      assert.equal(run('train', 'forecast', '--dataset', 'co2', '--steps', '1', '--hidden', '4', '--out', fc, '--quiet').status, 0);
      const other = dataDir('resume-other-data', train.slice(0, 4).map((l) => l.join('\t')).join('\n') + '\n');
      const edited = join(tmp, 'resume-edited');
      cpSync(stopped, edited, { recursive: true });
      const m = manifestOf(join(edited, 'last.json'));
      metaOf(m).settings.batch = 1e9;
      writeFileSync(join(edited, 'last.json'), JSON.stringify(m));
      const cases: Array<[string[], RegExp]> = [
        [['--resume', fc], /^bptt: checkpoint '.*resume-forecast.last\.json': expected a speech checkpoint, got task 'forecast'$/],
        [['--resume', join(OLD, 'last.json'), '--data', SAMPLE], new RegExp("^bptt: checkpoint '.*old-checkpoints.speech.last\\.json': expected a training state to resume "
          + 'from \\(written by this version of bptt\\), got a checkpoint of the format before it '
          + '\\(it loads for use, not to resume\\)$')],
        [['--resume', stopped, '--hidden', '16'], /^bptt: --resume .*resume-stopped.last\.json: expected --hidden 8 as saved, or no --hidden, got --hidden 16$/],
        [['--resume', stopped, '--clip', 'none'], /^bptt: --resume .*last\.json: expected --clip 5 as saved, or no --clip, got --clip \(unset\)$/],
        [['--resume', stopped, '--no-deltas'], /^bptt: --resume .*last\.json: expected --deltas true as saved, or no --deltas, got --deltas false$/],
        [['--resume', stopped, '--data', other], new RegExp('^bptt: --resume .*last\\.json: expected --data .*resume-data '
          + '\\(sha256 [0-9a-f]{16}\\), the data it was trained on, got .*resume-other-data \\(sha256 [0-9a-f]{16}\\)$')],
        [['--resume', stopped], new RegExp('^bptt: --resume .*resume-stopped.last\\.json: '
          + 'expected --data .*resume-data \\(sha256 [0-9a-f]{16}\\) as trained on, '
          + 'got no --data \\(bptt does not read files named inside a checkpoint\\)$')],
        [['--resume', edited, '--data', DATA], new RegExp('^bptt: checkpoint \'.*resume-edited.last\\.json\': '
          + 'meta\\.settings\\.batch: expected an integer in \\[1, 100000\\], as --batch takes, got 1000000000$')],
        [['--data', DATA, '--bptt', 'truncated:5'], new RegExp('^bptt: bptt train speech: --bptt: expected full, got '
          + 'truncated:5:5 \\(a bidirectional layer reads each utterance from both ends, and CTC scores it whole\\)$')],
        [['--resume', join(tmp, 'no-such-run')], /^bptt: checkpoint '.*no-such-run': expected an existing file or directory/],
        [[], /^bptt: bptt train speech: expected --data <dir>, or --resume to continue a run, got neither$/],
      ];
      cases.forEach(([args, pattern], i) => {
        const out = join(tmp, `never-resumed-${i}`);
        assertOneLineError(run('train', 'speech', ...args, '--out', out), pattern);
        assert.ok(!existsSync(out), `no output directory for case ${i}`);
      });
    });
  });

  describe('through the runner', () => {
    const DATA = join(tmp, 'runner-data');
    const TINY = ['--data', DATA, '--hidden', '8', '--batch', '2', '--lr', '0.01', '--warmup', '3', '--quiet'];
    before(() => {
      cpSync(SAMPLE, DATA, { recursive: true });
      writeFileSync(join(DATA, 'dev.tsv'), readFileSync(join(SAMPLE, 'test.tsv')));
    });

    test('--patience stops a run whose validation stops improving, before its budget', CLI_TIMEOUT, () => {
      // A learning rate too small to change a transcription: the first validation stays the best.
      const log = join(tmp, 'patience.jsonl');
      const r = run('train', 'speech', ...TINY, '--lr', '1e-9', '--schedule', 'constant', '--eval-every', '2',
        '--patience', '2', '--steps', '60', '--out', join(tmp, 'patience'), '--log', log);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /early stop: 2 validations without improvement/);
      const [done] = logged(log, 'done') as Array<Logged & { updates: number }>;
      assert.equal(done!.stoppedBy, 'patience');
      assert.equal(done!.updates, 6, 'best at update 2, no better at 4 and 6');
      assert.deepEqual(logged(log, 'validation').map((v) => v.update), [2, 4, 6]);
      assert.equal(logged(log, 'update').length, 6);
    });

    test('--eval-every: validations every n updates, or every share of an epoch, and at the end', CLI_TIMEOUT, () => {
      // 9 training utterances in batches of 2: 5 batches an epoch.
      for (const [every, at] of [['3', [3, 6, 9, 10]], ['1e', [5, 10]], ['0.4e', [2, 4, 6, 8, 10]]] as const) {
        const log = join(tmp, `cadence-${every}.jsonl`);
        const r = run('train', 'speech', ...TINY, '--eval-every', every, '--steps', '10', '--out', join(tmp, `cadence-${every}`),
          '--log', log);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(logged(log, 'validation').map((v) => v.update), at, `--eval-every ${every}`);
        assert.deepEqual(logged(log, 'validation').map((v) => v.final), at.map((_, i) => i === at.length - 1));
      }
    });

    test('--time 4s: the whole run within 4.4 s, the learning rate following the progress of training', { timeout: 60_000 }, () => {
      const log = join(tmp, 'time.jsonl');
      const t0 = performance.now();
      const r = run('train', 'speech', ...TINY, '--time', '4s', '--eval-every', '5', '--out', join(tmp, 'time'), '--log', log);
      const seconds = (performance.now() - t0) / 1000;
      assert.equal(r.status, 0, r.stderr);
      assert.ok(seconds < 4.4, `${seconds.toFixed(2)} s`);
      const updates = logged(log, 'update');
      assert.ok(updates.length > 10 && logged(log, 'validation').length > 2, `${updates.length} updates`);
      const schedule = { kind: 'cosine', lr: 0.01, warmup: 3, floor: 0 } as const;
      // each update's rate is the schedule's at the progress logged with the update before (0 at the first)
      updates.forEach((u, i) => assert.equal(u.lr, learningRate(schedule, u.update!, i ? updates[i - 1]!.progress! : 0),
        `update ${u.update}`));
      assert.ok(updates.at(-1)!.progress! > 0.9, `the schedule reaches the end of the budget: ${updates.at(-1)!.progress}`);
    });
  });
});
