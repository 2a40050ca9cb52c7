/**
 * The command line on an unlucky machine and against a hostile user: a disk
 * that fills (a 4 MB tmpfs, when the tests run as root), links planted where
 * bptt writes, files that are links to devices or secrets, FIFOs, and weights
 * that are not finite. Each ends with one error line and nothing lost.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, truncateSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Manifest } from '../../src/io/node/checkpoint-files.js';
import { assertOneLineError, cliSandbox } from './sandbox.js';

const { tmp, run } = cliSandbox('bptt-safe-cli-');
const TEXT = join(tmp, 'text.txt');
writeFileSync(TEXT, 'the whale rose from the deep , and the sailors watched it in silence . '.repeat(60));
const TINY_REST = ['--hidden', '8', '--layers', '1', '--embed', '4', '--batch', '2', '--seq-len', '8', '--workers', '0',
  '--quiet', '--sample', '0'];
const TINY = ['--text', TEXT, ...TINY_REST];
const LM = join(tmp, 'lm');
const manifestOf = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;
const ok = (r: ReturnType<typeof run>): void => assert.equal(r.status, 0, r.stderr);

before(() => ok(run('train', ...TINY, '--steps', '2', '--out', LM)));

describe('links where bptt writes: refused, naming the path; what they point at is untouched', () => {
  const victim = join(tmp, 'victim.txt');
  const planted = (dir: string, name: string): void => {
    writeFileSync(victim, 'precious');
    mkdirSync(dir, { recursive: true });
    symlinkSync(victim, join(dir, name));
  };
  const untouched = (): void => assert.equal(readFileSync(victim, 'utf8'), 'precious');

  test('bptt train --out with best.json or last.json a link: refused before training', () => {
    for (const name of ['best.json', 'last.json']) {
      const out = join(tmp, `link-${name}`);
      planted(out, name);
      assertOneLineError(run('train', ...TINY, '--steps', '2', '--out', out),
        new RegExp(`'.*${name}': expected .*, got a symbolic link`));
      untouched();
    }
  });

  test('--log and --report that are links', () => {
    const dir = join(tmp, 'link-log');
    planted(dir, 'log.jsonl');
    assertOneLineError(run('train', ...TINY, '--steps', '2', '--out', join(dir, 'run'),
      '--log', join(dir, 'log.jsonl')), /symbolic link/);
    untouched();
    planted(dir, 'report.html');
    assertOneLineError(run('train', ...TINY, '--steps', '2', '--out', join(dir, 'run2'),
      '--report', join(dir, 'report.html')), /symbolic link/);
    untouched();
  });

  test('bptt export --out and bptt import --out', () => {
    const dir = join(tmp, 'link-export');
    planted(dir, 'model.onnx');
    assertOneLineError(run('export', '--checkpoint', LM, '--format', 'onnx', '--out', join(dir, 'model.onnx')),
      /symbolic link/);
    untouched();
    const weights = join(tmp, 'weights.safetensors');
    ok(run('export', '--checkpoint', LM, '--format', 'torch', '--out', weights));
    const imported = join(tmp, 'link-import');
    planted(imported, 'last.json');
    assertOneLineError(run('import', '--from', 'torch', '--weights', weights, '--like', LM, '--out', imported),
      /last\.json/);
    untouched();
  });

  test('bptt data gettext --out', (t) => {
    const out = join(tmp, 'link-gettext');
    planted(out, 'train.en');
    const r = run('data', 'gettext', '--lang', 'fr', '--out', out);
    if (r.status === 1 && /at least 20 sentence pairs/.test(r.stderr)) {
      return t.skip('no French catalogs on this machine');
    }
    assertOneLineError(r, /train\.en': expected a file to write, got a symbolic link/);
    untouched();
  });
});

describe('files a checkpoint names: regular files only', () => {
  const withWeights = (name: string, make: (path: string) => void): string => {
    const dir = join(tmp, name);
    cpSync(LM, dir, { recursive: true });
    const m = manifestOf(join(dir, 'best.json'));
    rmSync(join(dir, m.weights));
    make(join(dir, m.weights));
    return dir;
  };

  test('weights that are a link to /dev/zero or /etc/passwd, a FIFO, or 3 GB: one line at once, nothing leaked', () => {
    const zero = withWeights('zero', (p) => symlinkSync('/dev/zero', p));
    assertOneLineError(run('sample', '--checkpoint', zero, '--length', '5'),
      /expected a readable regular file, got a symbolic link/);
    const passwd = withWeights('passwd', (p) => symlinkSync('/etc/passwd', p));
    const r = run('eval', '--checkpoint', passwd, '--text', TEXT);
    assertOneLineError(r, /symbolic link/);
    assert.doesNotMatch(r.stderr, /root/);
    // Sparse: no disk used.
    const huge = withWeights('huge', (p) => truncateSync((writeFileSync(p, ''), p), 3 * 2 ** 30));
    assertOneLineError(run('sample', '--checkpoint', huge, '--length', '5'),
      /expected a file of at most \d+ bytes, got 3221225472 bytes/);
    const linked = join(tmp, 'linked-manifest'); // a folder whose best.json is a link: bptt picked the name, so no link
    mkdirSync(linked);
    symlinkSync('/etc/passwd', join(linked, 'best.json'));
    const l = run('sample', '--checkpoint', linked, '--length', '5');
    assertOneLineError(l, /best\.json': expected a readable regular file, got a symbolic link/);
    assert.doesNotMatch(l.stderr, /root/);
    const fifo = withWeights('fifo', (p) => assert.equal(spawnSync('mkfifo', [p]).status, 0));
    const main = join(import.meta.dirname, '../../src/cli/main.js');
    const f = spawnSync(process.execPath, [main, 'sample', '--checkpoint', fifo],
      { encoding: 'utf8', timeout: 60_000 });
    assertOneLineError(f, /expected a regular file, got a FIFO/);
  });
});

describe('weights that are not finite', () => {
  test('bptt eval and bptt export refuse a checkpoint holding NaN (its hash updated); nothing is written', () => {
    const dir = join(tmp, 'nan');
    cpSync(LM, dir, { recursive: true });
    const path = join(dir, 'best.json');
    const m = manifestOf(path);
    const bytes = readFileSync(join(dir, m.weights));
    bytes.writeFloatLE(NaN, bytes.length - 4);
    writeFileSync(join(dir, m.weights), bytes);
    m.sha256[m.weights] = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(path, JSON.stringify(m));
    assertOneLineError(run('eval', '--checkpoint', dir, '--text', TEXT), /expected finite weights, got NaN/);
    for (const format of ['torch', 'onnx']) {
      const out = join(tmp, `nan.${format}`);
      assertOneLineError(run('export', '--checkpoint', dir, '--format', format, '--out', out),
        /expected finite weights, got NaN/);
      assert.ok(!existsSync(out));
    }
  });
});

describe('a full disk (a 4 MB tmpfs)', () => {
  const mount = join(tmp, 'full');
  let mounted = false;
  before(() => {
    mkdirSync(mount);
    mounted = process.getuid?.() === 0
      && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mount]).status === 0;
  });
  after(() => {
    if (mounted) spawnSync('umount', [mount]);
  });
  const fill = (leave: number): void => {
    const free = (): number => {
      const s = spawnSync('df', ['-B1', '--output=avail', mount], { encoding: 'utf8' }).stdout.trim().split('\n')[1];
      return Number(s);
    };
    writeFileSync(join(mount, 'filler'), Buffer.alloc(Math.max(0, free() - leave)));
  };

  test('a word-level run resumed into a nearly full disk: one error line, last.json as it was, '
    + '--resume works after', (t) => {
    if (!mounted) {
      return t.skip(process.getuid?.() === 0
        ? 'mount -t tmpfs failed'
        : 'needs root to mount a tmpfs (the injected layer covers this everywhere)');
    }
    const out = join(mount, 'run');
    const words = join(tmp, 'words.txt'); // 2,000 distinct words: a manifest of about 30 KB, as in the report
    writeFileSync(words, Array.from({ length: 6000 }, (_, i) => `w${(i * 7919) % 2000}`).join(' '));
    const TINY = ['--text', words, '--vocab-size', '5000', ...TINY_REST];
    ok(run('train', ...TINY, '--level', 'word', '--steps', '2', '--eval-every', '2', '--out', out));
    const before = readFileSync(join(out, 'last.json'));
    const files = readdirSync(out).sort();
    fill(40_000);
    const r = run('train', ...TINY, '--level', 'word', '--steps', '4', '--eval-every', '2', '--out', out, '--resume');
    assertOneLineError(r,
      /^bptt: writing '.*': expected room for \d+ bytes, got ENOSPC: the disk is full \(\d+ bytes free\)/);
    assert.deepEqual(readFileSync(join(out, 'last.json')), before, 'last.json untouched');
    assert.deepEqual(readdirSync(out).sort(), files, 'nothing added or removed');
    ok(run('sample', '--checkpoint', join(out, 'last.json'), '--length', '3'));
    const exported = join(mount, 'model.onnx');
    assertOneLineError(run('export', '--checkpoint', out, '--format', 'onnx', '--out', exported), /ENOSPC/);
    assert.ok(!existsSync(exported), 'no truncated export');
    rmSync(join(mount, 'filler'));
    ok(run('train', ...TINY, '--level', 'word', '--steps', '4', '--eval-every', '2', '--out', out, '--resume'));
    const { trainer } = manifestOf(join(out, 'last.json')).meta as { trainer: { progress: { updates: number } } };
    assert.equal(trainer.progress.updates, 4);
  });
});
