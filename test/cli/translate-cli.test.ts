/**
 * `bptt data gettext`, `bptt train translate`, `bptt train g2p` and
 * `bptt translate` spawned as a user would run them, with tiny budgets.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../../src/io/node/checkpoint-files.js';
import { learningRate } from '../../src/optim/index.js';
import { Seq2Seq, buildVocabulary, translateCodec } from '../../src/tasks/translate/index.js';
import type { RunMeta } from '../../src/training/index.js';
import { saveRun } from '../../src/training/node/run-files.js';
import { cliSandbox } from './sandbox.js';

const { tmp, run, start } = cliSandbox('bptt-translate-cli-');
const bin = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const sample = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/gettext-fr-sample/${name}`, import.meta.url));
const TINY = ['--embed', '8', '--hidden', '16', '--steps', '6', '--eval-every', '3', '--batch', '16', '--dev-limit', '10', '--quiet'];

function withInput(input: string, ...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: tmp, input });
}

function assertOneLineError(r: SpawnSyncReturns<string>, pattern: RegExp): void {
  assert.equal(r.status, 1, `exit status (stdout: ${r.stdout}, stderr: ${r.stderr})`);
  const err = r.stderr.replace(/\n$/, '');
  assert.ok(!err.includes('\n'), `a single line on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(err, /internal error|\n\s+at /);
  assert.match(err, pattern);
}

function file(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

describe('bptt train translate / bptt translate', { timeout: 180_000 }, () => {
  test('trains on the committed gettext sample, scores the test part against the copy baseline, then translates stdin with attention weights', () => {
    const r = run('train', 'translate', '--source', sample('train.en'), '--target', sample('train.fr'), '--test-source', sample('test.en'), '--test-target', sample('test.fr'), ...TINY, '--beam', '2', '--out', 'tr', '--report', 'tr-report.html');
    assert.equal(r.status, 0, r.stderr);
    const html = readFileSync(join(tmp, 'tr-report.html'), 'utf8');
    assert.equal((html.match(/<h3>dev \d: /g) ?? []).length, 4, 'the attention of 4 dev examples');
    assert.doesNotMatch(html, /https?:/);
    assert.match(r.stdout, /\| copy the source \| [\d.]+ \| [\d.]+ \|/);
    assert.match(r.stdout, /\| model, greedy \| [\d.]+ \| [\d.]+ \|\n\| model, beam 2 \|/);
    const manifest = JSON.parse(readFileSync(join(tmp, 'tr', 'best.json'), 'utf8')) as Manifest;
    const meta = manifest.meta as unknown as RunMeta;
    assert.equal(meta.task, 'translate');
    assert.equal(meta.extra.kind, 'text');
    assert.match(r.stdout, /^test: 40 sentences$/m);

    const known = readFileSync(sample('train.en'), 'utf8').split('\n')[0]!; // every token in the vocabulary
    const t = withInput(`${known}\n\nqwertyuiop zxcv\n`, 'translate', '--checkpoint', 'tr', '--beam', '3', '--attention', 'att.json');
    assert.equal(t.status, 0, t.stderr);
    const lines = t.stdout.split('\n');
    assert.equal(lines.length, 4, 'one output line per input line');
    assert.equal(lines[1], '', 'an empty line stays empty');
    assert.match(t.stderr, /2 input token\(s\) not in the model's source vocabulary were read as <unk> \(line 3\)/);
    const att = JSON.parse(readFileSync(join(tmp, 'att.json'), 'utf8')) as { sourceTokens: string[]; outputTokens: string[]; weights: number[][] }[];
    assert.equal(att.length, 3);
    assert.equal(att[0]!.sourceTokens.join(''), known.replace(/\s+/g, ''));
    assert.ok(att[0]!.weights.every((row) => row.length === att[0]!.sourceTokens.length));
    assert.equal(att[0]!.weights.length, att[0]!.outputTokens.length);
    for (const row of att[0]!.weights) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-3);
  });

  test('mismatched line counts: one line naming both files and counts, nothing written', () => {
    const r = run('train', 'translate', '--source', file('a.en', 'one two three\nfour five six\n'), '--target', file('a.fr', 'un deux trois\n'), ...TINY, '--out', 'never1');
    assertOneLineError(r, /the same number of lines .*got 2 and 1 lines/);
    assert.ok(!existsSync(join(tmp, 'never1')));
  });

  test('an empty line: one line naming the file and line, nothing written', () => {
    const r = run('train', 'translate', '--source', file('b.en', 'one two three\n\nfour\n'), '--target', file('b.fr', 'un deux\ntrois\nquatre\n'), ...TINY, '--out', 'never2');
    assertOneLineError(r, /b\.en' line 2: expected a non-empty line/);
    assert.ok(!existsSync(join(tmp, 'never2')));
  });

  test('a binary file and a dev source without its target are refused', () => {
    assertOneLineError(run('train', 'translate', '--source', file('c.en', 'ab\0cd\n'), '--target', file('c.fr', 'x\n'), ...TINY, '--out', 'never3'), /NUL byte/);
    assertOneLineError(run('train', 'translate', '--source', sample('train.en'), '--target', sample('train.fr'), '--dev-source', sample('test.en'), ...TINY, '--out', 'never4'), /--dev-source and --dev-target together/);
    assert.ok(!existsSync(join(tmp, 'never3')) && !existsSync(join(tmp, 'never4')));
  });

  test('translate replaces an output <unk> by the attended source word, or keeps it with --keep-unk', () => {
    const v = buildVocabulary(['b a a', 'c a'], 'word');
    const model = new Seq2Seq({ cell: 'lstm', sourceVocab: v.size, targetVocab: v.size, embed: 4, hidden: 4, layers: 1, bidirectional: true, attention: 'general', inputFeeding: false, dropout: 0, shareEmbeddings: false, seed: 1 });
    model.generator.bias!.data[0] = 50; // the model says <unk> at every step
    saveRun(join(tmp, 'unk'), 'best', translateCodec, { model, config: model.config, data: [], settings: {},
      extra: { kind: 'text', vocab: { source: v.toJSON(), target: v.toJSON() } }, writtenBy: 'test', state: null });
    const kept = withInput('Zurich a\n', 'translate', '--checkpoint', 'unk', '--beam', '1', '--max-length', '2', '--keep-unk');
    assert.equal(kept.status, 0, kept.stderr);
    assert.equal(kept.stdout, '<unk> <unk>\n');
    const replaced = withInput('Zurich a\n', 'translate', '--checkpoint', 'unk', '--beam', '1', '--max-length', '2');
    assert.equal(replaced.status, 0, replaced.stderr);
    assert.match(replaced.stdout, /^(Zurich|a) (Zurich|a)\n$/);
  });

  test('translate refuses a checkpoint of another task and a missing one', () => {
    assertOneLineError(withInput('x\n', 'translate', '--checkpoint', join(tmp, 'nothing-here')), /checkpoint/);
  });
});

describe('bptt train translate --resume', { timeout: 240_000 }, () => {
  const STEPS = 24, EVERY = 8;
  const FILES = ['--source', sample('train.en'), '--target', sample('train.fr')];
  const TRAIN = ['train', 'translate', ...FILES, '--embed', '8', '--hidden', '16', '--dropout', '0.2',
    '--batch', '16', '--steps', String(STEPS), '--eval-every', String(EVERY), '--dev-limit', '10', '--workers', '0', '--quiet'];
  const manifest = (dir: string, name: string) => JSON.parse(readFileSync(join(tmp, dir, `${name}.json`), 'utf8')) as Manifest;
  const weightsHash = (m: Manifest) => m.sha256[m.weights];
  const trained = (dir: string, name: string) => (manifest(dir, name).meta as unknown as RunMeta).trainer!.progress;
  const updatesIn = (log: string): number => (existsSync(log) ? (readFileSync(log, 'utf8').match(/"type":"update"/g) ?? []).length : 0);

  test('SIGINT between checkpoints saves the interrupted update; --resume ends with the weights and scores of an uninterrupted run', async () => {
    const ref = run(...TRAIN, '--out', 'rs-ref');
    assert.equal(ref.status, 0, ref.stderr);
    const log = join(tmp, 'rs.jsonl');
    const child = start(...TRAIN, '--out', 'rs', '--log', log);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let finished = false;
    void exited.then(() => (finished = true));
    while (!finished && !(updatesIn(log) >= EVERY + 3)) await new Promise((r) => setTimeout(r, 2));
    assert.ok(!finished, 'the run ended before it could be interrupted');
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    const at = trained('rs', 'last').updates;
    assert.ok(at > EVERY && at < STEPS && at % EVERY !== 0, `interrupted between checkpoints, saved at update ${at}`);
    assert.match(stderr, new RegExp(`^bptt: SIGINT: saved .*last\\.json at update ${at}; continue with --resume\\n$`));

    const resumed = run('train', 'translate', '--resume', ...FILES, '--out', 'rs', '--quiet');
    assert.equal(resumed.status, 0, resumed.stderr);
    for (const name of ['last', 'best']) assert.equal(weightsHash(manifest('rs', name)), weightsHash(manifest('rs-ref', name)), `${name}: the same weights, bit for bit`);
    assert.deepEqual(trained('rs', 'best').best, trained('rs-ref', 'best').best, 'the same best dev scores');
    assert.equal(resumed.stdout.replace(/ in [^;]+;/, ''), ref.stdout.replace(/ in [^;]+;/, '').replace('rs-ref', 'rs'), 'the same summary, but for the time');
    // A finished run resumed again (its best.json holds the best weights with the final progress) has nothing
    // left to do.
    const again = run('train', 'translate', '--resume', ...FILES, '--out', 'rs', '--quiet');
    assert.equal(again.status, 0, again.stderr);
    assert.equal(weightsHash(manifest('rs', 'best')), weightsHash(manifest('rs-ref', 'best')));
  });

  test('--resume needs no best.json: last.json keeps the best weights (best.json older or gone)', () => {
    const short = TRAIN.map((a, i) => (TRAIN[i - 1] === '--steps' || TRAIN[i - 1] === '--eval-every' ? '4' : a));
    assert.equal(run(...short, '--out', 'old').status, 0);
    assert.equal(run(...short.map((a) => (a === '4' ? '8' : a)), '--out', 'kb').status, 0); // its only validation, at update 8, is the best
    assert.equal(trained('kb', 'last').best?.update, 8);
    // best.json as if the kill came before it was written: an older one
    for (const f of readdirSync(join(tmp, 'kb'))) if (f.startsWith('best')) rmSync(join(tmp, 'kb', f));
    for (const f of readdirSync(join(tmp, 'old'))) if (f.startsWith('best')) copyFileSync(join(tmp, 'old', f), join(tmp, 'kb', f));
    const r = run('train', 'translate', '--resume', ...FILES, '--out', 'kb', '--steps', '12', '--quiet');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /done: 12 updates/);
  });

  test('--resume refuses another setting, a checkpoint without training state and one of bptt train g2p', () => {
    assertOneLineError(run('train', 'translate', '--resume', join(tmp, 'rs', 'last.json'), '--hidden', '32', '--quiet'), /--hidden 16 as saved, or no --hidden/);
    const old = fileURLToPath(new URL('../../../test/fixtures/old-checkpoints/translate/last.json', import.meta.url));
    assertOneLineError(run('train', 'translate', '--resume', old, '--quiet', '--out', 'never5'),
      /expected a training state to resume from \(written by this version of bptt\), got a checkpoint of the format before it/);
    assertOneLineError(run('train', 'g2p', '--resume', join(tmp, 'rs', 'last.json'), '--quiet'), /a checkpoint of bptt train g2p, got one of bptt train translate/);
    assertOneLineError(run('train', 'translate', '--target', sample('train.fr'), '--quiet', '--out', 'never5'), /--source <file>/);
    assert.ok(!existsSync(join(tmp, 'never5')));
  });

  test('--resume reads the parallel files named again (never those the manifest names), with the recorded hashes, '
    + 'and checks each saved setting', () => {
    const resume = (last: string, ...args: string[]) =>
      run('train', 'translate', '--resume', last, ...args, '--quiet', '--out', 'never6');
    const last = join(tmp, 'rs', 'last.json');
    assertOneLineError(resume(last),
      new RegExp('^bptt: --resume .*rs/last\\.json: expected --source .*train\\.en \\(sha256 [0-9a-f]{16}\\) as '
        + 'trained on, got no --source \\(bptt does not read files named inside a checkpoint\\)$'));
    assertOneLineError(resume(last, '--source', sample('train.fr'), '--target', sample('train.fr')),
      new RegExp('expected --source .*train\\.en \\(sha256 [0-9a-f]{16}\\), the data it was trained on, '
        + 'got .*train\\.fr \\(sha256 [0-9a-f]{16}\\)$'));
    assertOneLineError(resume(last, ...FILES, '--dev-source', sample('test.en'), '--dev-target', sample('test.fr')),
      /expected no --dev-source, as saved, got --dev-source .*test\.en$/);
    const edited = (name: string, edit: (meta: Record<string, any>) => void): string => {
      cpSync(join(tmp, 'rs'), join(tmp, name), { recursive: true });
      const m = manifest(name, 'last');
      edit(m.meta);
      writeFileSync(join(tmp, name, 'last.json'), JSON.stringify(m));
      return join(tmp, name, 'last.json');
    };
    const cases: Array<[string, (meta: Record<string, any>) => void, RegExp]> = [
      ['rs-hidden', (m) => (m.settings.hidden = 32), /expected the model of meta\.model \(hidden 16\), got 32 /],
      ['rs-workers', (m) => (m.settings.workers = 1000),
        /meta\.settings\.workers: expected an integer in \[0, 64\], as --workers takes, got 1000$/],
      ['rs-batch', (m) => (m.settings.batch = 1e6),
        /meta\.settings\.batch: expected an integer in \[1, 100000\], as --batch takes, got 1000000$/],
      ['rs-settings', (m) => delete m.settings, /meta\.settings: expected an object, got undefined$/],
      ['rs-data', (m) => delete m.data, /meta\.data: expected a list of \{ role, name, sha256 \}, got undefined$/],
    ];
    for (const [name, edit, pattern] of cases) assertOneLineError(resume(edited(name, edit), ...FILES), pattern);
    assert.ok(!existsSync(join(tmp, 'never6')));
  });
});

describe('bptt train translate on the runner: early stopping, validation cadence, time budget, resume',
  { timeout: 240_000 }, () => {
  const BASE = ['train', 'translate', '--source', sample('train.en'), '--target', sample('train.fr'), '--embed', '8',
    '--hidden', '16', '--batch', '16', '--dev-limit', '10', '--workers', '0', '--quiet'];
  const records = (log: string, type: string) => readFileSync(join(tmp, log), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as Record<string, any>).filter((r) => r.type === type);

  test('--patience stops a run whose validation stops improving (a learning rate too small to change a score)', () => {
    const r = run(...BASE, '--lr', '1e-9', '--schedule', 'constant', '--steps', '40', '--eval-every', '2',
      '--patience', '2', '--out', 'es', '--log', 'es.jsonl');
    assert.equal(r.status, 0, r.stderr);
    const [done] = records('es.jsonl', 'done');
    assert.equal(done!.stoppedBy, 'patience');
    assert.equal(done!.updates, 6, 'the best at update 2, then two validations without improvement');
    assert.deepEqual(records('es.jsonl', 'validation').map((v) => v.sinceBest), [0, 1, 2]);
    assert.match(r.stdout, /done: 6 updates, .*\(early stop: 2 validations without improvement\)/);
  });

  test('--eval-every n and Xe: validations at every nth update, or every share of an epoch (10 batches here)', () => {
    for (const [every, at] of [['4', [4, 8, 10]], ['0.5e', [5, 10]]] as const) {
      const log = `ev-${every}.jsonl`;
      const r = run(...BASE, '--steps', '10', '--eval-every', every, '--out', `ev-${every}`, '--log', log);
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(records(log, 'validation').map((v) => v.update), at, `--eval-every ${every}`);
      assert.equal(records(log, 'validation').at(-1)!.final, true);
    }
  });

  test('--time 4s: the whole run takes at most 4.4 s, and the learning rate follows the logged training progress',
    () => {
      const t0 = performance.now();
      const r = run(...BASE, '--time', '4s', '--warmup', '5', '--eval-every', '5', '--out', 'tb', '--log', 'tb.jsonl');
      const seconds = (performance.now() - t0) / 1000;
      assert.equal(r.status, 0, r.stderr);
      assert.ok(seconds <= 4.4, `the run took ${seconds.toFixed(2)} s`);
      const updates = records('tb.jsonl', 'update');
      assert.ok(updates.length > 10 && records('tb.jsonl', 'validation').length > 1, 'it trained and validated');
      let before = 0; // the progress the update's learning rate was set with: the share spent before it
      for (const u of updates) {
        const lr = learningRate({ kind: 'cosine', lr: 3e-3, warmup: 5, floor: 0 }, u.update, before);
        assert.ok(Math.abs(u.lr - lr) <= 1e-12, `update ${u.update}: lr ${u.lr}, the schedule at ${before}: ${lr}`);
        before = u.progress;
      }
      assert.ok(before > 0.9, `the schedule reached the end of the budget (${before})`);
    });

  test('--resume: N updates and N more give the weights of 2N in one run, bit for bit', () => {
    const args = [...BASE, '--schedule', 'constant', '--warmup', '0', '--eval-every', '3'];
    assert.equal(run(...args, '--steps', '12', '--out', 'two-n').status, 0);
    assert.equal(run(...args, '--steps', '6', '--out', 'n').status, 0);
    const r = run('train', 'translate', '--resume', '--source', sample('train.en'), '--target', sample('train.fr'),
      '--steps', '12', '--out', 'n', '--quiet');
    assert.equal(r.status, 0, r.stderr);
    const weights = (dir: string, name: string) => {
      const m = JSON.parse(readFileSync(join(tmp, dir, `${name}.json`), 'utf8')) as Manifest;
      return m.sha256[m.weights];
    };
    for (const name of ['last', 'best']) assert.equal(weights('n', name), weights('two-n', name), name);
  });
});

describe('bptt train g2p on the runner: early stopping, validation cadence, time budget, resume',
  { timeout: 240_000 }, () => {
  const BASE = ['train', 'g2p', '--embed', '8', '--hidden', '16', '--batch', '16', '--dev-limit', '10',
    '--test-limit', '20', '--beam', '2', '--workers', '0', '--quiet'];
  const records = (log: string, type: string) => readFileSync(join(tmp, log), 'utf8').trim().split('\n')
    .map((l) => JSON.parse(l) as Record<string, any>).filter((r) => r.type === type);

  test('--patience and --eval-every n and Xe', () => {
    const r = run(...BASE, '--lr', '1e-9', '--schedule', 'constant', '--steps', '40', '--eval-every', '2',
      '--patience', '2', '--out', 'g-es', '--log', 'g-es.jsonl');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(records('g-es.jsonl', 'done').map((d) => [d.stoppedBy, d.updates]), [['patience', 6]]);
    const e = run(...BASE, '--steps', '8', '--eval-every', '0.001e', '--out', 'g-ev', '--log', 'g-ev.jsonl');
    assert.equal(e.status, 0, e.stderr);
    // an epoch is 111,487 words / 16 = 6,968 batches: 0.001e is every 7
    assert.deepEqual(records('g-ev.jsonl', 'validation').map((v) => v.update), [7, 8]);
  });

  test('--time 4s: at most 4.4 s with the test part, the learning rate following the logged progress', () => {
    const t0 = performance.now();
    const r = run(...BASE, '--time', '4s', '--test-limit', '6194', '--out', 'g-tb', '--log', 'g-tb.jsonl');
    const seconds = (performance.now() - t0) / 1000;
    assert.equal(r.status, 0, r.stderr);
    assert.ok(seconds <= 4.4, `the run took ${seconds.toFixed(2)} s`);
    assert.match(r.stdout, /^test: /m);
    let before = 0;
    for (const u of records('g-tb.jsonl', 'update')) {
      const lr = learningRate({ kind: 'cosine', lr: 3e-3, warmup: 100, floor: 0 }, u.update, before);
      assert.ok(Math.abs(u.lr - lr) <= 1e-12, `update ${u.update}: lr ${u.lr}, the schedule at ${before}: ${lr}`);
      before = u.progress;
    }
  });

  test('--resume: N updates and N more give the weights of 2N in one run, bit for bit', () => {
    const args = [...BASE, '--schedule', 'constant', '--warmup', '0', '--eval-every', '3'];
    assert.equal(run(...args, '--steps', '8', '--out', 'g-two-n').status, 0);
    assert.equal(run(...args, '--steps', '4', '--out', 'g-n').status, 0);
    const r = run('train', 'g2p', '--resume', '--steps', '8', '--out', 'g-n', '--quiet');
    assert.equal(r.status, 0, r.stderr);
    const weights = (dir: string, name: string) => {
      const m = JSON.parse(readFileSync(join(tmp, dir, `${name}.json`), 'utf8')) as Manifest;
      return m.sha256[m.weights];
    };
    for (const name of ['last', 'best']) assert.equal(weights('g-n', name), weights('g-two-n', name), name);
  });
});

describe('bptt train g2p', { timeout: 180_000 }, () => {
  test('runs the CMUdict task and prints PER and WER for greedy and beam; the checkpoint spells words', () => {
    const r = run('train', 'g2p', ...TINY, '--test-limit', '50', '--beam', '2', '--out', 'g2p');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /test: 50 words/);
    assert.match(r.stdout, /\| greedy \| [\d.]+ % \| [\d.]+ % \|\n\| beam 2 \| [\d.]+ % \| [\d.]+ % \|/);
    const t = withInput('Hello\n', 'translate', '--checkpoint', 'g2p', '--beam', '1');
    assert.equal(t.status, 0, t.stderr);
    assert.equal(t.stdout.split('\n').length, 2);
    assert.match(t.stdout, /^[A-Z ]*\n$/, 'ARPAbet phonemes (or nothing from so short a training)');
  });
});

describe('bptt data gettext', () => {
  test('refuses a malformed language code', () => {
    assertOneLineError(run('data', 'gettext', '--lang', '../etc', '--out', 'gt'), /locale name/);
    assert.ok(!existsSync(join(tmp, 'gt')));
  });
});
