/**
 * `bptt train speech` and `bptt transcribe` spawned as a user would run them,
 * on the committed sample (test/fixtures/speech-sample) and on broken inputs
 * in a fresh temporary directory.
 */
import assert from 'node:assert/strict';
import type { SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../../src/io/checkpoint-files.js';
import type { SpeechMeta } from '../../src/tasks/speech/checkpoint.js';
import { cliSandbox } from './sandbox.js';

const { tmp, run } = cliSandbox('bptt-speech-cli-');
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
    assert.ok(files.every((f) => /^(best|last)(\.json|-[0-9a-f]{8}\.safetensors)$/.test(f)), files.join(', '));
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
      [['--data', dataDir('no-file', 'wav/train/nope.wav\t4\n')], /^bptt: audio '.*nope\.wav': expected a readable WAV file, got no such file or directory$/],
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
    assertOneLineError(run('transcribe', '--checkpoint', OUT, good, join(tmp, 'absent.wav')), /^bptt: audio '.*absent\.wav': expected a readable WAV file, got no such file or directory$/);
    assertOneLineError(run('transcribe', '--checkpoint', join(tmp, 'no-run'), good), /^bptt: checkpoint '.*no-run': expected an existing file or directory/);
    assertOneLineError(run('transcribe', '--checkpoint', OUT, '--beam', '0', good), /^error: option '--beam <n>' argument '0' is invalid/);
  });
});
