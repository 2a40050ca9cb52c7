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
import type { SpeechMeta } from '../../src/tasks/speech/checkpoint.js';
import { cliSandbox, exited, sleep } from './sandbox.js';

const { tmp, run, start } = cliSandbox('bptt-speech-cli-');
const SAMPLE = fileURLToPath(new URL('../../../test/fixtures/speech-sample/', import.meta.url));
const CLI_TIMEOUT = { timeout: 120_000 };

function assertOneLineError(r: SpawnSyncReturns<string>, pattern: RegExp): void {
  assert.equal(r.status, 1, `exit status (stdout: ${r.stdout}, stderr: ${r.stderr})`);
  const err = r.stderr.replace(/\n$/, '');
  assert.ok(!err.includes('\n'), `a single line on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(err, /internal error|\n\s+at /);
  assert.match(err, pattern);
  assert.equal(r.stdout, '');
}



const manifestOf = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;
const progressOf = (m: Manifest) => (m.meta as unknown as SpeechMeta).progress;
/** The log's records of one type (a resumed run appends to the log of the run it continues). */
const logged = (log: string, type: string) => readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; update?: number }).filter((x) => x.type === type);
/** The figures of the summary lines (not the time). */
const figures = (stdout: string): string[] => [...stdout.matchAll(/best validation DER .* at update \d+|test: .*/g)].map((m) => m[0]);

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
    assert.match(r.stdout, /done: 200 updates \(200\.0 epochs, 1\.8k utterances\)/);
    assert.match(r.stdout, /test: 3 utterances, 6 digits; digit error rate greedy [\d.]+ % .* beam 8 [\d.]+ %/);
    assert.match(readFileSync(join(tmp, 'report.html'), 'utf8'), /test DER greedy %/, 'the --report page');
    const files = readdirSync(OUT);
    assert.ok(files.every((f) => /^(best|last)(\.json|-[0-9a-f]{8}(\.state)?\.safetensors)$/.test(f)), files.join(', '));
    const meta = (JSON.parse(readFileSync(join(OUT, 'best.json'), 'utf8')) as Manifest).meta as unknown as SpeechMeta;
    assert.equal(meta.task, 'speech');
    assert.deepEqual(meta.model.features, { kind: 'mfcc', size: 13, deltas: true, stack: 3, stride: 3 });
    assert.deepEqual([meta.data.train, meta.data.dev, meta.data.test], [9, 0, 3]);
    assert.equal(meta.test!.greedy.digits, 6);
    const log = readFileSync(join(tmp, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; loss?: number });
    assert.equal(log.filter((x) => x.type === 'update').length, 200);
    assert.ok(log.filter((x) => x.type === 'update').at(-1)!.loss! < 0.2);
    assert.equal(log.at(-1)!.type, 'done');
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
      assert.ok(stopped.bestUpdate! < 12, `the best update (${stopped.bestUpdate}) before the last, so its weights come from best.json`);

      const resumed = run('train', 'speech', '--resume', '--data', DATA, '--out', out, '--steps', '20', '--beam', '2',
        '--quiet', '--log', log);
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.match(resumed.stdout, /^done: 20 updates \(4\.0 epochs, 36 utterances\)/);
      assert.deepEqual(figures(resumed.stdout), figures(ref.stdout), 'the same best validation and test scores printed');
      for (const name of ['last', 'best']) {
        const a = manifestOf(join(out, `${name}.json`)), b = manifestOf(join(REF, `${name}.json`));
        assert.equal(a.sha256[a.weights], b.sha256[b.weights], `the same ${name} weights, bit for bit`);
        assert.deepEqual({ ...progressOf(a), elapsedMs: 0 }, { ...progressOf(b), elapsedMs: 0 }, `the same progress in ${name}.json`);
      }
      const last = manifestOf(join(out, 'last.json')), refLast = manifestOf(join(REF, 'last.json'));
      assert.equal(last.sha256[last.state!], refLast.sha256[refLast.state!], 'the same optimiser moments');
      assert.deepEqual(logged(log, 'validation'), logged(join(tmp, 'ref.jsonl'), 'validation'), 'the same validations logged, at the same updates');
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
      assert.deepEqual(logged(log, 'validation'), logged(join(tmp, 'cosine.jsonl'), 'validation'));
    });

    test('another task, a weights-only checkpoint, a changed setting or other data: a one-line error, exit 1', CLI_TIMEOUT, () => {
      const stopped = join(tmp, 'resume-stopped');
      const fc = join(tmp, 'resume-forecast');
      assert.equal(run('train', 'forecast', '--dataset', 'co2', '--steps', '1', '--hidden', '4', '--out', fc, '--quiet').status, 0);
      const other = dataDir('resume-other-data', train.slice(0, 4).map((l) => l.join('\t')).join('\n') + '\n');
      const edited = join(tmp, 'resume-edited');
      cpSync(stopped, edited, { recursive: true });
      const m = manifestOf(join(edited, 'last.json'));
      (m.meta as unknown as SpeechMeta).training.batch = 1e9;
      writeFileSync(join(edited, 'last.json'), JSON.stringify(m));
      const cases: Array<[string[], RegExp]> = [
        [['--resume', fc], /^bptt: checkpoint '.*resume-forecast.last\.json': expected a speech checkpoint, got task 'forecast'$/],
        [['--resume', join(stopped, 'best.json')], /^bptt: checkpoint '.*best\.json': expected training state .* to resume from, got weights only \(resume from a last\.json written by this version\)$/],
        [['--resume', stopped, '--hidden', '16'], /^bptt: --resume .*resume-stopped.last\.json: expected --hidden 8 as saved, or no --hidden, got --hidden 16$/],
        [['--resume', stopped, '--clip', 'none'], /^bptt: --resume .*last\.json: expected --clip 5 as saved, or no --clip, got --clip none$/],
        [['--resume', stopped, '--no-deltas'], /^bptt: --resume .*last\.json: expected deltas as saved, or no --no-deltas, got --no-deltas$/],
        [['--resume', stopped, '--data', other], /^bptt: --resume .*last\.json: expected the data it was trained on \(train\.tsv and dev\.tsv as in .*resume-data\), got --data .*resume-other-data with other manifests$/],
        [['--resume', stopped], new RegExp('^bptt: --resume .*resume-stopped.last\\.json: '
          + 'expected --data .*resume-data \\(manifests\' sha256 [0-9a-f]{16}\\), '
          + 'got no --data \\(bptt does not read files named inside a checkpoint\\)$')],
        [['--resume', edited, '--data', DATA], new RegExp('^bptt: checkpoint \'.*resume-edited.last\\.json\': '
          + 'meta\\.training\\.batch: expected an integer in \\[1, 100000\\], as --batch takes, got 1000000000$')],
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
});
