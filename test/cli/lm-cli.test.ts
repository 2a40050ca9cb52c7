/**
 * `bptt train` / `sample` / `eval` spawned as a user would run them, on a tiny
 * model and a few-KB text in a fresh temporary directory.
 */
import assert from 'node:assert/strict';
import type { SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadCheckpoint } from '../../src/io/node/checkpoint-files.js';
import { loadLanguageModel } from '../../src/tasks/language-model/node/checkpoint.js';
import { runStateOf } from '../../src/training/node/run-files.js';
import { cliSandbox, exited, manifestAt as manifestOf, savedUpdates, sleep } from './sandbox.js';

const { tmp, run, start } = cliSandbox('bptt-lm-cli-');


const TINY = ['--hidden', '16', '--layers', '1', '--embed', '8', '--batch', '4', '--seq-len', '16', '--workers', '1'];
const QUIET = ['--quiet', '--sample', '0'];
const CLI_TIMEOUT = { timeout: 120_000 };

const SENTENCES = [
  'The whale rose from the deep and the sailors watched it in silence.',
  'Call me Ishmael, said the young man to the old captain on the dock.',
  'The sea was calm that morning, and the ship moved slowly to the east.',
  'They spoke of home, of bread and of the long winter nights ashore.',
  'The harpoon flew, the line ran out, and the boat leapt over the waves.',
];
const TEXT = join(tmp, 'text.txt');
writeFileSync(TEXT, Array.from({ length: 12 }, (_, i) => [...SENTENCES.slice(i % 5), ...SENTENCES.slice(0, i % 5)].join(' ') + '\n').join('')); // 4 KB

const records = (log: string): Array<Record<string, unknown>> =>
  existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>) : [];
const updatesIn = (log: string): number => (existsSync(log) ? (readFileSync(log, 'utf8').match(/"type":"update"/g) ?? []).length : 0);

/** A failed command: non-zero exit, one line on stderr (a trailing newline aside), no stack trace. */
function assertOneLineError(r: SpawnSyncReturns<string>, pattern?: RegExp): void {
  assert.notEqual(r.status, 0, `exit status (stdout: ${r.stdout})`);
  assert.equal(r.signal, null);
  const err = r.stderr.replace(/\n$/, '');
  assert.ok(err.length > 0, 'an error message');
  assert.ok(!err.includes('\n'), `a single line on stderr, got:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  assert.doesNotMatch(r.stderr, /internal error/);
  if (pattern) assert.match(err, pattern);
}

describe('bptt train / sample / eval', () => {
  const D = join(tmp, 'D');
  const L = join(tmp, 'L.jsonl');

  test('train writes checkpoints, a JSON log and a sample', CLI_TIMEOUT, () => {
    const r = run('train', '--text', TEXT, '--steps', '6', '--eval-every', '3', '--out', D, '--log', L, '--sample', '40', ...TINY);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /done: 6 updates/);
    assert.match(r.stdout, /--- sample/);
    const files = readdirSync(D);
    for (const name of ['best', 'last']) {
      assert.ok(files.includes(`${name}.json`), `${name}.json in ${files.join(', ')}`);
      const m = manifestOf(join(D, `${name}.json`));
      assert.ok(files.includes(m.weights), m.weights);
      assert.ok(m.state && files.includes(m.state), String(m.state));
    }
    assert.ok(files.every((f) => /^(best|last)(\.json|-[0-9a-f]+(\.state)?\.safetensors)$/.test(f)), `only checkpoint files: ${files.join(', ')}`);
    const log = records(L);
    for (const rec of log) assert.ok(['update', 'validation', 'done'].includes(rec.type as string), JSON.stringify(rec));
    assert.deepEqual(log.filter((x) => x.type === 'update').map((x) => x.update), [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(log.filter((x) => x.type === 'validation').map((x) => x.update), [3, 6]);
    assert.equal(log.at(-1)!.type, 'done');
    assert.equal(log.at(-1)!.updates, 6);
    assert.equal(savedUpdates(join(D, 'last.json')), 6);
  });

  test('sample: the same seed twice gives the same text', CLI_TIMEOUT, () => {
    const a = run('sample', '--checkpoint', D, '--length', '30', '--seed', '3');
    const b = run('sample', '--checkpoint', D, '--length', '30', '--seed', '3');
    assert.equal(a.status, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.equal(Array.from(a.stdout.replace(/\n$/, '')).length, 30);
  });

  test('sample: --temperature 0 equals --top-k 1; --beam 3 works; --prime is continued', CLI_TIMEOUT, () => {
    const greedy = run('sample', '--checkpoint', D, '--length', '30', '--temperature', '0');
    const top1 = run('sample', '--checkpoint', D, '--length', '30', '--top-k', '1', '--seed', '9');
    assert.equal(greedy.status, 0, greedy.stderr);
    assert.equal(top1.stdout, greedy.stdout);
    const beam = run('sample', '--checkpoint', D, '--length', '20', '--beam', '3');
    assert.equal(beam.status, 0, beam.stderr);
    assert.ok(beam.stdout.length > 0);
    const primed = run('sample', '--checkpoint', join(D, 'last.json'), '--length', '20', '--prime', 'The ');
    assert.equal(primed.status, 0, primed.stderr);
    assert.ok(primed.stdout.startsWith('The '), JSON.stringify(primed.stdout));
    assert.equal(primed.stderr, '', 'every prime character is in the vocabulary');
  });

  test('eval prints bits per character, or JSON', CLI_TIMEOUT, () => {
    const r = run('eval', '--checkpoint', D, '--text', TEXT);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /bits per character/);
    const j = run('eval', '--checkpoint', D, '--text', TEXT, '--json');
    assert.equal(j.status, 0, j.stderr);
    const s = JSON.parse(j.stdout) as { bits: number; tokens: number; level: string; perplexity: number };
    assert.ok(s.bits > 0 && Number.isFinite(s.bits), String(s.bits));
    assert.ok(s.tokens > 1000);
    assert.equal(s.level, 'char');
    assert.ok(Math.abs(s.perplexity - 2 ** s.bits) < 1e-6 * s.perplexity);
  });

  test('sample of a word-level model continues the prime after a space', {
    ...CLI_TIMEOUT,
  }, () => {
    const W = join(tmp, 'W');
    const r = run('train', '--text', TEXT, '--level', 'word', '--steps', '2', '--out', W, ...TINY, ...QUIET);
    assert.equal(r.status, 0, r.stderr);
    const s = run('sample', '--checkpoint', W, '--length', '5', '--prime', 'The whale');
    assert.equal(s.status, 0, s.stderr);
    assert.match(s.stdout, /^The whale( |[.,;:!?\n])/);
  });

  test("--clip none turns clipping off (commander would store the parser's null as '')", CLI_TIMEOUT, () => {
    const r = run('train', '--text', TEXT, ...TINY, '--steps', '2', '--clip', 'none', '--out', 'noclip', ...QUIET);
    assert.equal(r.status, 0, r.stderr);
    const meta = manifestOf(join(tmp, 'noclip', 'last.json')).meta as { settings: { clip: unknown } };
    assert.equal(meta.settings.clip, null);
  });

  test('train lm --help lists every option', CLI_TIMEOUT, () => {
    const r = run('train', 'lm', '--help');
    assert.equal(r.status, 0, r.stderr);
    for (const o of ['--text', '--level', '--cell', '--hidden', '--layers', '--dropout', '--bptt', '--seq-len', '--batch', '--lr', '--betas', '--steps', '--time', '--seed', '--resume', '--log', '--quiet', '--out']) {
      assert.match(r.stdout, new RegExp(`^\\s+(-\\w, )?${o}\\b`, 'm'), o);
    }
  });
});

describe('interrupting and resuming', () => {
  test('SIGINT saves last.json; --resume then ends bit-identical to an uninterrupted run', CLI_TIMEOUT, async (t) => {
    for (const steps of [40, 400, 2000]) {
      const common = ['train', '--text', TEXT, '--steps', String(steps), '--eval-every', '1000', ...TINY, ...QUIET];
      const A = join(tmp, `A${steps}`), B = join(tmp, `B${steps}`), LB = join(tmp, `B${steps}.jsonl`);
      const child = start(...common, '--out', B, '--log', LB);
      const done = exited(child);
      let finished = false;
      void done.then(() => (finished = true));
      while (!finished && updatesIn(LB) < 5) await sleep(5);
      if (!finished) child.kill('SIGINT');
      const b = await done;
      if (b.code === 0) {
        t.diagnostic(`the run of ${steps} updates ended before SIGINT; retrying with more`);
        continue;
      }
      assert.equal(b.code, 130, b.stderr);
      assert.match(b.stderr, /SIGINT: saved .*last\.json at update \d+; continue with --resume/);
      const at = savedUpdates(join(B, 'last.json'));
      assert.ok(at >= 5, `interrupted at ${at}`);
      if (at >= steps) {
        t.diagnostic(`SIGINT came after the last of ${steps} updates; retrying with more`);
        continue;
      }

      const a = run(...common, '--out', A);
      assert.equal(a.status, 0, a.stderr);
      assert.match(a.stdout, new RegExp(`done: ${steps} updates`));

      const resumed = run('train', '--resume', '--text', TEXT, '--out', B, '--log', LB, ...QUIET);
      assert.equal(resumed.status, 0, resumed.stderr);
      assert.match(resumed.stdout, new RegExp(`done: ${steps} updates`));
      const ma = manifestOf(join(A, 'last.json')), mb = manifestOf(join(B, 'last.json'));
      assert.equal(savedUpdates(join(B, 'last.json')), steps);
      assert.equal(mb.sha256[mb.weights], ma.sha256[ma.weights], 'the same weights, bit for bit');
      assert.equal(updatesIn(LB), steps, 'each update logged once over both sessions');
      t.diagnostic(`interrupted at update ${at} of ${steps}`);
      return;
    }
    assert.fail('every run ended before SIGINT');
  });

  test('SIGKILL at any moment leaves loadable checkpoints', CLI_TIMEOUT, async (t) => {
    const K = join(tmp, 'K');
    for (const ms of [300, 700, 1100]) {
      const resume = existsSync(join(K, 'last.json'));
      const args = resume
        ? ['train', '--resume', '--text', TEXT, '--out', K, ...QUIET]
        : ['train', '--text', TEXT, '--steps', '400', '--eval-every', '1', '--out', K, ...TINY, ...QUIET];
      const child = start(...args);
      const done = exited(child);
      await sleep(ms);
      child.kill('SIGKILL');
      const r = await done;
      assert.ok(r.signal === 'SIGKILL' || r.code === 0, `killed, or already done (${r.code}, ${r.signal}): ${r.stderr}`);
      const found: string[] = [];
      for (const name of ['last', 'best']) {
        const path = join(K, `${name}.json`);
        if (!existsSync(path)) continue;
        loadCheckpoint(path); // every file checked against its SHA-256
        const m = manifestOf(path);
        for (const f of [m.weights, m.state]) assert.ok(f && existsSync(join(K, f)), `${name}: ${f}`);
        const at = runStateOf(loadLanguageModel(path)).state.progress.updates;
        assert.equal(at, savedUpdates(path));
        found.push(`${name}@${at}`);
      }
      const stray = existsSync(K) ? readdirSync(K).filter((f) => !/^(best|last)(\.json|-[0-9a-f]+(\.state)?\.safetensors)$/.test(f)) : [];
      t.diagnostic(`${resume ? 'resumed' : 'fresh'} run killed after ${ms} ms: ${found.join(', ') || 'no checkpoint yet'}${stray.length ? `; other files: ${stray.join(', ')}` : ''}`);
    }
  });
});

describe('bad input: one line on stderr, a non-zero exit, nothing written', () => {
  const good = ['--steps', '2', ...TINY];
  const outDir = (name: string): string => join(tmp, `never-${name}`);
  const fails = (name: string, args: string[], pattern?: RegExp): void => {
    const out = outDir(name);
    const r = run('train', ...args, '--out', out);
    assertOneLineError(r, pattern);
    assert.ok(!existsSync(out), `${out} was created`);
  };

  test('a missing, empty or binary --text file', CLI_TIMEOUT, () => {
    fails('missing', ['--text', join(tmp, 'no-such.txt'), ...good], /no-such\.txt.*no such file/);
    writeFileSync(join(tmp, 'empty.txt'), '');
    fails('empty', ['--text', join(tmp, 'empty.txt'), ...good], /empty file/);
    writeFileSync(join(tmp, 'binary.dat'), Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x00, 0x41));
    fails('binary', ['--text', join(tmp, 'binary.dat'), ...good], /binary file/);
    fails('dir', ['--text', tmp, ...good], /a directory/);
  });

  test('an unknown option and invalid numbers', CLI_TIMEOUT, () => {
    fails('frobnicate', ['--text', TEXT, '--frobnicate', ...good], /unknown option '--frobnicate'/);
    fails('lr', ['--text', TEXT, '--lr', 'abc', ...good], /--lr.*'abc'/);
    fails('batch', ['--text', TEXT, ...good, '--batch', '0'], /--batch.*'0'/);
    fails('time', ['--text', TEXT, '--time', '5x', ...good], /--time.*'5x'/);
    fails('dropout', ['--text', TEXT, '--dropout', '1.5', ...good], /--dropout.*'1\.5'/);
    fails('steps', ['--text', TEXT, ...good, '--steps', '-3'], /--steps/);
    fails('bptt', ['--text', TEXT, '--bptt', 'sideways', ...good], /--bptt/);
    fails('betas', ['--text', TEXT, '--betas', '0.9,1', ...good], /--betas.*'0\.9,1'/);
    fails('betas-one', ['--text', TEXT, '--betas', '0.9', ...good], /--betas.*two numbers/);
  });

  const tooShort = (): string => {
    const p = join(tmp, 'short.txt');
    writeFileSync(p, 'The whale swam in the deep blue sea now.'); // 40 characters: 38 to train on
    return p;
  };

  test('a text too short for the batch is a DataError that says so', CLI_TIMEOUT, () => {
    const r = run('train', '--text', tooShort(), ...good, '--batch', '64', '--out', outDir('short-msg'));
    assertOneLineError(r, /^bptt: training text: expected at least 65 tokens for 64 streams, got 38 tokens/);
  });

  test('a text too short for the batch leaves no output directory or log behind', {
    ...CLI_TIMEOUT,
  }, () => {
    const log = join(tmp, 'never-short.jsonl');
    fails('short', ['--text', tooShort(), ...good, '--batch', '64', '--log', log], /at least 65 tokens/);
    assert.ok(!existsSync(log), 'the log was created');
    const tiny = join(tmp, 'tiny.txt');
    writeFileSync(tiny, 'abcdefgh');
    fails('tiny', ['--text', tiny, ...good], /validation/);
  });

  test('an unwritable output directory', CLI_TIMEOUT, () => {
    const file = join(tmp, 'regular-file');
    writeFileSync(file, 'not a directory');
    const r = run('train', '--text', TEXT, ...good, '--out', join(file, 'sub'));
    assertOneLineError(r, /output directory .*regular-file\/sub.*a path through a file/);
  });

  describe('sample --checkpoint of something that is not a good checkpoint', () => {
    const sampleFails = (path: string, pattern: RegExp): void => assertOneLineError(run('sample', '--checkpoint', path, '--length', '5'), pattern);
    const copy = (name: string): string => {
      const dir = join(tmp, name);
      cpSync(join(tmp, 'D'), dir, { recursive: true });
      return dir;
    };

    test('a flipped byte', CLI_TIMEOUT, () => {
      const dir = copy('corrupt');
      const file = join(dir, manifestOf(join(dir, 'best.json')).weights);
      const bytes = readFileSync(file);
      bytes[bytes.length - 5] ^= 0x40;
      writeFileSync(file, bytes);
      sampleFails(dir, /SHA-256/);
    });

    test('a JSON file that is not a checkpoint, a missing path', CLI_TIMEOUT, () => {
      const p = join(tmp, 'package.json');
      writeFileSync(p, JSON.stringify({ name: 'x', version: '1.0.0' }));
      sampleFails(p, /a bptt-checkpoint manifest/);
      sampleFails(join(tmp, 'no-such-run'), /no-such-run.*no such file/);
      sampleFails(join(tmp, 'no-such-run', 'best.json'), /no such file/);
    });

    test('a checkpoint of another model (meta.model.hidden edited)', CLI_TIMEOUT, () => {
      const dir = copy('edited');
      for (const name of ['best', 'last']) {
        const p = join(dir, `${name}.json`);
        const m = manifestOf(p);
        (m.meta.model as { hidden: number }).hidden = 32;
        writeFileSync(p, JSON.stringify(m));
      }
      sampleFails(dir, /checkpoint '.*edited\/best\.json'/);
    });
  });

  test('--resume with another --hidden names --hidden', CLI_TIMEOUT, () => {
    const out = outDir('resume');
    const r = run('train', '--resume', join(tmp, 'D', 'last.json'), '--out', out, '--hidden', '32', '--steps', '8');
    assertOneLineError(r, /--hidden/);
    assert.match(r.stderr, /expected --hidden 16 as saved, or no --hidden, got --hidden 32/);
    assert.ok(!existsSync(out));
  });

  test('--debug prints the stack trace', CLI_TIMEOUT, () => {
    for (const args of [['--debug', 'train', '--text', join(tmp, 'no-such.txt'), ...good], ['train', '--text', join(tmp, 'no-such.txt'), ...good, '--debug']]) {
      const r = run(...args, '--out', outDir('debug'));
      assert.equal(r.status, 1, args.join(' '));
      assert.match(r.stderr, /DataError: text file .*no such file/);
      assert.match(r.stderr, /\n\s+at /);
    }
  });
});
