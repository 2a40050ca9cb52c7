/**
 * Hostile inputs to the command line: texts that are empty, binary or one
 * 50 MB line; CSV files that are binary, ragged, unterminated or hold cells
 * that are not finite numbers; checkpoints that are truncated, corrupt, of
 * another task, or whose manifest was edited (also to a huge model), whose
 * optimiser state is corrupt, or whose weights make the resumed run diverge.
 * Each ends with one line on stderr ("bptt: ..."), exit code 1, no stack
 * trace, and nothing written (or a run that trains normally, for valid input).
 */
import assert from 'node:assert/strict';
import type { SpawnSyncReturns } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import type { Manifest } from '../../src/io/node/checkpoint-files.js';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors.js';
import { assertOneLineError, cliSandbox } from './sandbox.js';

const { tmp, run } = cliSandbox('bptt-hostile-');
const TIMEOUT = { timeout: 180_000 };
const LM_TINY = ['--hidden', '8', '--layers', '1', '--embed', '4', '--batch', '2', '--seq-len', '8', '--workers', '0', '--steps', '2', '--quiet', '--sample', '0'];
const FC_TINY = ['--lookback', '12', '--horizon', '6', '--hidden', '4', '--steps', '2', '--eval-every', '2', '--batch', '4', '--quiet'];

const file = (name: string, content: string | Uint8Array): string => {
  const p = join(tmp, name);
  writeFileSync(p, content);
  return p;
};
const manifestOf = (path: string): Manifest => JSON.parse(readFileSync(path, 'utf8')) as Manifest;

/** `bptt ARGS --out <fresh dir>` fails with one line and leaves no output directory. */
function failsWritingNothing(args: string[], pattern?: RegExp): void {
  const out = join(tmp, `never-${Math.random().toString(36).slice(2)}`);
  assertOneLineError(run(...args, '--out', out), pattern);
  assert.ok(!existsSync(out), `${out} was created`);
}

/** An hourly CSV of `rows` rows; `edit` changes the cells before writing. */
function csv(name: string, rows = 120, edit: (cells: string[][]) => void = () => undefined): string {
  const cells = Array.from({ length: rows }, (_, k) => [
    new Date(Date.UTC(2021, 0, 1) + k * 3_600_000).toISOString().slice(0, 19),
    (10 + 4 * Math.sin((2 * Math.PI * k) / 24) + 0.1 * Math.cos(k)).toFixed(2),
  ]);
  edit(cells);
  return file(name, ['date,temp', ...cells.map((r) => r.join(','))].join('\n') + '\n');
}

const TEXT = file('text.txt', 'The whale rose from the deep, and the sailors watched it in silence.\n'.repeat(30));
const LM = join(tmp, 'lm'), FC = join(tmp, 'fc');

before(() => {
  for (const [args, out] of [[['train', '--text', TEXT, ...LM_TINY], LM], [['train', 'forecast', '--csv', csv('good.csv'), '--target', 'temp', ...FC_TINY], FC]] as const) {
    const r = run(...args, '--out', out);
    assert.equal(r.status, 0, r.stderr);
  }
});

describe('bptt train --text: hostile texts', () => {
  test('empty, whitespace only, binary, not UTF-8, a directory', TIMEOUT, () => {
    failsWritingNothing(['train', '--text', file('empty.txt', ''), ...LM_TINY], /empty file/);
    failsWritingNothing(['train', '--text', file('blank.txt', ' \n\t\r\n '), ...LM_TINY], /only whitespace/);
    failsWritingNothing(['train', '--text', file('elf.bin', Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0)), ...LM_TINY], /binary file \(a NUL byte at offset 7\)/);
    failsWritingNothing(['train', '--text', file('latin1.txt', Uint8Array.from([...Buffer.from('caf'), 0xe9, 0x20, 0x6e, 0x6f, 0x69, 0x72])), ...LM_TINY], /not valid UTF-8/);
    failsWritingNothing(['train', '--text', tmp, ...LM_TINY], /a directory/);
  });

  test('a single 50 MB line without a newline: words give one token (an error); characters train', TIMEOUT, () => {
    const big = file('one-line.txt', 'abcdefghij'.repeat(5_000_000)); // 50 MB, no newline, no space
    failsWritingNothing(['train', '--text', big, '--level', 'word', ...LM_TINY], /enough tokens for a validation split, got 1 tokens in all/);
    const out = join(tmp, 'big-char');
    const r = run('train', '--text', big, ...LM_TINY, '--val-fraction', '0.0001', '--out', out); // 5,000 characters to validate on
    if (r.status === 0) {
      assert.match(r.stdout, /done: 2 updates/);
      assert.ok(existsSync(join(out, 'last.json')));
    } else {
      assertOneLineError(r); // out of memory, say, must still be one line
    }
  });

  test('eval --text of a binary or empty file', TIMEOUT, () => {
    assertOneLineError(run('eval', '--checkpoint', LM, '--text', join(tmp, 'elf.bin')), /binary file/);
    assertOneLineError(run('eval', '--checkpoint', LM, '--text', join(tmp, 'empty.txt')), /empty file/);
  });
});

describe('bptt train forecast --csv: hostile tables', () => {
  const train = (path: string, pattern: RegExp): void => failsWritingNothing(['train', 'forecast', '--csv', path, '--target', 'temp', ...FC_TINY], pattern);

  test('missing cells, non-numeric and non-finite cells each name their row and column', TIMEOUT, () => {
    train(csv('empty-cell.csv', 120, (c) => (c[9]![1] = '')), /column 'temp' row 10 \(line 11\): expected a number, got an empty cell/);
    for (const bad of ['abc', 'NaN', 'Infinity', '1e999', '--3', '1,5']) {
      const quoted = bad.includes(',') ? `"${bad}"` : bad;
      train(csv(`bad-${bad.replace(/\W/g, '_')}.csv`, 120, (c) => (c[20]![1] = quoted)), new RegExp(`column 'temp' row 21 \\(line 22\\): expected a number, got '${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`));
    }
  });

  test('a cell whose scaling overflows (1e308: σ was saved as null) names its row and column', TIMEOUT, () => {
    train(csv('huge.csv', 120, (c) => (c[30]![1] = '1e308')),
      /CSV '.*huge\.csv': column 'temp' row 31 \(line 32\): expected a value whose scaling stays finite/);
  });

  test('a missing field, an extra field, an unclosed quote, a binary file, an empty file, a bad date', TIMEOUT, () => {
    train(csv('short-row.csv', 120, (c) => c[30]!.pop()), /2 fields on every line, as in the header, got 1 on line 32/);
    train(csv('long-row.csv', 120, (c) => c[30]!.push('7')), /2 fields on every line, as in the header, got 3 on line 32/);
    train(csv('quote.csv', 120, (c) => (c[40]![1] = '"12.5')), /well-formed CSV/);
    train(file('binary.csv', Uint8Array.of(0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00)), /binary file/);
    train(file('empty.csv', ''), /empty file/);
    train(csv('date.csv', 120, (c) => (c[50]![0] = '2021-02-30T00:00:00')), /row 51|2021-02-30/);
  });
});

let copies = 0;
const copyOf = (dir: string): string => {
  const to = join(tmp, `ck${copies++}`);
  cpSync(dir, to, { recursive: true });
  return to;
};

describe('--checkpoint: truncated, corrupt, mismatched or edited checkpoints', () => {
  const users = (dir: string): Array<SpawnSyncReturns<string>> => [
    run('sample', '--checkpoint', dir, '--length', '5'),
    run('eval', '--checkpoint', dir, '--text', TEXT),
  ];

  test('a truncated or emptied weights file, a truncated manifest, a manifest that is not JSON', TIMEOUT, () => {
    const a = copyOf(LM);
    const weights = join(a, manifestOf(join(a, 'best.json')).weights);
    writeFileSync(weights, readFileSync(weights).subarray(0, 100));
    for (const r of users(a)) assertOneLineError(r, /SHA-256/);
    writeFileSync(weights, '');
    for (const r of users(a)) assertOneLineError(r, /SHA-256/);
    const b = copyOf(LM);
    writeFileSync(join(b, 'best.json'), readFileSync(join(b, 'best.json')).subarray(0, 50));
    for (const r of users(b)) assertOneLineError(r, /invalid JSON/);
    writeFileSync(join(b, 'best.json'), Uint8Array.of(0, 1, 2, 255));
    for (const r of users(b)) assertOneLineError(r, /invalid JSON/);
    const c = copyOf(LM);
    writeFileSync(join(c, 'best.json'), 'null');
    for (const r of users(c)) assertOneLineError(r, /a bptt-checkpoint manifest/);
  });

  test('weights replaced by a corrupt safetensors file whose SHA-256 the manifest was edited to match', TIMEOUT, () => {
    const a = copyOf(LM);
    const m = manifestOf(join(a, 'best.json'));
    const bytes = readFileSync(join(a, m.weights));
    bytes.writeUInt32LE(0xffffff, 0); // the header length now runs past the end
    writeFileSync(join(a, m.weights), bytes);
    writeFileSync(join(a, 'best.json'), JSON.stringify({ ...m, sha256: { ...m.sha256, [m.weights]: createHash('sha256').update(bytes).digest('hex') } }));
    for (const r of users(a)) assertOneLineError(r, /header length/);
  });

  test('a checkpoint of the other task, or another model\'s weights', TIMEOUT, () => {
    for (const r of users(FC)) assertOneLineError(r, /expected an lm checkpoint, got task 'forecast'/);
    assertOneLineError(run('forecast', '--checkpoint', LM), /expected a forecast checkpoint, got task 'lm'/);
    const a = copyOf(LM);
    const lm = manifestOf(join(a, 'best.json')), fc = manifestOf(join(FC, 'best.json'));
    cpSync(join(FC, fc.weights), join(a, fc.weights));
    writeFileSync(join(a, 'best.json'), JSON.stringify({ ...lm, weights: fc.weights, sha256: { ...lm.sha256, [fc.weights]: fc.sha256[fc.weights] } }));
    for (const r of users(a)) assertOneLineError(r, /weights/);
  });

  test('a manifest edited to a huge model is an error at once, not gigabytes allocated', TIMEOUT, () => {
    const a = copyOf(LM);
    const m = manifestOf(join(a, 'best.json'));
    (m.meta.model as { hidden: number }).hidden = 1_000_000_000;
    writeFileSync(join(a, 'best.json'), JSON.stringify(m));
    for (const r of users(a)) assertOneLineError(r, /weights for the model its metadata describes/);
    const f = copyOf(FC);
    const fm = manifestOf(join(f, 'best.json'));
    (fm.meta.model as { horizon: number }).horizon = 2 ** 30;
    writeFileSync(join(f, 'best.json'), JSON.stringify(fm));
    assertOneLineError(run('forecast', '--checkpoint', f), /checkpoint '.*best\.json'/);
  });

  test('--resume from a manifest whose training state was edited', TIMEOUT, () => {
    const edits = [['trainer', 'optimizer', null, 'trainer.optimizer'], ['trainer', 'data', { batches: 1, rng: [1, 2] },
      'trainer.data'], ['settings', 'workers', 1e9, 'settings.workers'], ['trainer', 'progress', 'lots', 'trainer']];
    for (const [part, field, value, named] of edits) {
      const a = copyOf(LM);
      const m = manifestOf(join(a, 'last.json'));
      (m.meta[part as string] as Record<string, unknown>)[field as string] = value;
      writeFileSync(join(a, 'last.json'), JSON.stringify(m));
      const before = readdirSync(a).sort();
      assertOneLineError(run('train', '--resume', '--out', a, '--text', TEXT, '--quiet'),
        new RegExp(`checkpoint '.*last\\.json': meta\\.${named}\\b`));
      assert.deepEqual(readdirSync(a).sort(), before, 'nothing written into the run directory');
    }
  });

  /** Sets value 0 of a tensor of the checkpoint's weights or state file, and the manifest's SHA-256 to match. */
  const editTensor = (dir: string, file: 'weights' | 'state', name: string, value: number): void => {
    const m = manifestOf(join(dir, 'last.json'));
    const path = join(dir, m[file]!);
    const { tensors } = decodeSafetensors(readFileSync(path));
    tensors.get(name)!.data[0] = value;
    const bytes = encodeSafetensors(tensors);
    writeFileSync(path, bytes);
    const sha256 = { ...m.sha256, [m[file]!]: createHash('sha256').update(bytes).digest('hex') };
    writeFileSync(join(dir, 'last.json'), JSON.stringify({ ...m, sha256 }));
  };
  /** The run directory as it was: the same files, last.json byte for byte. */
  const snapshotOf = (dir: string) => ({
    files: readdirSync(dir).sort(), last: readFileSync(join(dir, 'last.json'), 'utf8'),
  });
  const resume = {
    lm: ['train', '--resume', '--text', TEXT, '--quiet'],
    forecast: ['train', 'forecast', '--resume', '--csv', join(tmp, 'good.csv'), '--quiet'],
  };
  const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  test('--resume from a state whose optimiser moments or step counts were edited (SHA-256 to match)', TIMEOUT, () => {
    const squares = 'finite values >= 0 (a sum of squares)';
    const edits = [
      ['expAvgSq', -1, squares], ['expAvgSq', NaN, squares], ['expAvg', Infinity, 'finite values']
    ] as const;
    for (const [task, dir, param] of [['lm', LM, 'head.weight'], ['forecast', FC, 'rnn.weight_hh_l0']] as const) {
      for (const [buffer, value, want] of edits) {
        const a = copyOf(dir);
        const tensor = `optimizer.${param}.${buffer}`;
        editTensor(a, 'state', tensor, value);
        const before = snapshotOf(a);
        const message = `last.json': state tensor '${tensor}': expected ${want}, got ${value} at index 0`;
        assertOneLineError(run(...resume[task], '--out', a), new RegExp(`checkpoint '.*${escape(message)}$`));
        assert.deepEqual(snapshotOf(a), before, `${task} ${buffer} ${value}: nothing written`);
      }
    }
    for (const step of [0, 3]) { // saved after 2 updates
      const a = copyOf(LM);
      const m = manifestOf(join(a, 'last.json'));
      (m.meta as { trainer: { optimizer: { state: Array<{ step: number }> } } }).trainer.optimizer.state[0]!.step = step;
      writeFileSync(join(a, 'last.json'), JSON.stringify(m));
      const before = snapshotOf(a);
      const message = `meta.trainer.optimizer.state[0].step: expected a count from 1 to stepCount (2), got ${step}`;
      assertOneLineError(run(...resume.lm, '--out', a), new RegExp(`${escape(message)}$`));
      assert.deepEqual(snapshotOf(a), before);
    }
  });

  test('a resumed run that diverges stops at the 10th update skipped in a row, naming the first', TIMEOUT, () => {
    // A finite weight so large that the loss overflows: every update is skipped, the weights never change. Checkpoints
    // are due at updates 5 and 10, inside the run of skips: the last good one must stay.
    for (const [task, dir, param] of [['lm', LM, 'head.bias'], ['forecast', FC, 'head.weight']] as const) {
      const a = copyOf(dir);
      editTensor(a, 'weights', param, 1e38);
      const before = snapshotOf(a);
      const r = run(...resume[task], '--out', a, '--steps', '50', '--eval-every', '5');
      const message = 'updates skipped by the NaN guard, got 10, updates 3 to 12; the first, update 3: loss is ';
      assertOneLineError(r, new RegExp(`: expected fewer than 10 consecutive ${message}`));
      assert.deepEqual(snapshotOf(a), before, `${task}: last.json is the one resumed from`);
    }
  });

  test('a manifest edited to a 10 MB task name (one line, cut), '
    + 'or to a model nested a million deep (export)', TIMEOUT, () => {
    const a = copyOf(LM);
    const m = manifestOf(join(a, 'best.json'));
    const task = `language-model\n${'x'.repeat(10_000_000)}`;
    writeFileSync(join(a, 'best.json'), JSON.stringify({ ...m, meta: { ...m.meta, task } }));
    for (const r of users(a)) {
      assertOneLineError(r, new RegExp('expected an lm checkpoint, '
        + `got task 'language-model\\\\nx+…' \\(${task.length} characters\\)$`));
      assert.ok(r.stderr.length < 1000, `${r.stderr.length} characters on stderr`);
    }
    const b = copyOf(FC); // exported as is: a language model's would be refused as a model first
    const deep = readFileSync(join(b, 'best.json'), 'utf8')
      .replace(/"model":\s*/, `"model":${'['.repeat(1e6)}${']'.repeat(1e6)},"was":`);
    writeFileSync(join(b, 'best.json'), deep);
    assertOneLineError(run('export', '--checkpoint', b, '--format', 'torch', '--out', join(tmp, 'deep.safetensors')),
      /expected JSON nested at most 32 deep|meta\.model: expected a value JSON can write/);
  });

  test('forecast --out is never partially written', TIMEOUT, () => {
    const out = join(tmp, 'never.csv');
    assertOneLineError(run('forecast', '--checkpoint', FC, '--csv', csv('holes.csv', 120, (c) => (c[5]![1] = 'x')), '--fill', 'none', '--out', out), /expected a number/);
    assert.ok(!existsSync(out));
  });
});

describe('--resume: no file named in the manifest is read, no value in it is taken unchecked', () => {
  const sha = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');
  /** A copy of the run in `dir` whose last.json metadata `edit` changed. */
  const edited = (dir: string, edit: (meta: Record<string, any>) => void): string => {
    const a = copyOf(dir);
    const m = manifestOf(join(a, 'last.json'));
    edit(m.meta);
    writeFileSync(join(a, 'last.json'), JSON.stringify(m));
    return a;
  };
  const LM_RESUME = ['train', '--resume', '--quiet', '--sample', '0'];
  const FC_RESUME = ['train', 'forecast', '--resume', '--quiet'];
  /** Resuming the run in `dir` fails with one line and writes nothing into it. */
  const resumeFails = (dir: string, args: string[], pattern: RegExp): void => {
    const before = readdirSync(dir).sort().map((f) => `${f}:${readFileSync(join(dir, f)).length}`);
    assertOneLineError(run(...args, '--out', dir), pattern);
    assert.deepEqual(readdirSync(dir).sort().map((f) => `${f}:${readFileSync(join(dir, f)).length}`), before,
      'nothing written into the run');
  };

  test('lm: the text is never read from the path meta.data names, only from --text given again, '
    + 'with the recorded hash', TIMEOUT, () => {
    const secret = file('secret.txt', 'Not a text to train on: a file an edited manifest names.\n'.repeat(40));
    const a = edited(LM, (m) => (m.data[0] = { role: '--text', name: secret, sha256: sha(readFileSync(secret, 'utf8')) }));
    resumeFails(a, LM_RESUME,
      new RegExp('^bptt: --resume .*last\\.json: expected --text .*secret\\.txt \\(sha256 [0-9a-f]{16}\\) as trained '
        + 'on, got no --text \\(bptt does not read files named inside a checkpoint\\)$'));
    resumeFails(a, [...LM_RESUME, '--text', TEXT],
      new RegExp('expected --text .*secret\\.txt \\(sha256 [0-9a-f]{16}\\), the data it was trained on, '
        + 'got .*text\\.txt \\(sha256 [0-9a-f]{16}\\)$'));
    resumeFails(copyOf(LM), LM_RESUME, /expected --text .*text\.txt \(sha256 [0-9a-f]{16}\) as trained on, got no --text/);
    const moved = file('moved.txt', readFileSync(TEXT));
    const b = copyOf(LM);
    const r = run(...LM_RESUME, '--text', moved, '--steps', '3', '--out', b);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /done: 3 updates/);
    assert.deepEqual(manifestOf(join(b, 'last.json')).meta.data, [{ role: '--text', name: moved, sha256: sha(readFileSync(moved)) }],
      'the same text, moved: the new checkpoints name where it is now');
  });

  test('forecast: the CSV is never read from the path meta.settings.csv names, only from --csv given again, '
    + 'with the recorded hash', TIMEOUT, () => {
    resumeFails(copyOf(FC), FC_RESUME,
      new RegExp('^bptt: --resume .*last\\.json: expected --csv .*good\\.csv \\(sha256 [0-9a-f]{16}\\) as trained '
        + 'on, got no --csv \\(bptt does not read files named inside a checkpoint\\)$'));
    const moved = file('moved.csv', readFileSync(join(tmp, 'good.csv')));
    const a = edited(FC, (m) => (m.data[0].name = join(tmp, 'secret.txt')));
    const r = run(...FC_RESUME, '--csv', moved, '--steps', '3', '--out', a);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((manifestOf(join(a, 'last.json')).meta.data as Array<{ name: string }>)[0]!.name, moved,
      'the new checkpoints name the CSV given');
  });

  test('lm: each setting of the manifest is checked as the command line would check it, '
    + 'and bounded by the text', TIMEOUT, () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['seqLen', 1e9, new RegExp('meta\\.settings\\.seqLen: expected at most \\d+, '
        + 'the steps in each of 2 streams of the \\d+ training tokens, got 1000000000$')],
      ['batch', 1e6,
        /meta\.settings\.batch: expected at most \d+ \(a stream needs 2 of the \d+ training tokens\), got 1000000$/],
      ['evalEvery', 0, /meta\.settings\.evalEvery: expected a number of updates .*, as --eval-every takes, got 0$/],
      ['seqLen', '8', /meta\.settings\.seqLen: expected 8 \(the value of --seq-len 8\), got "8"$/],
      ['bptt', { kind: 'truncated', k1: 4, k2: 2 }, new RegExp('meta\\.settings\\.bptt: '
        + 'expected full, truncated:K1\\[:K2\\] \\(K2 >= K1\\) or checkpointed\\[:SEGMENT\\], as --bptt takes')],
    ];
    for (const [field, value, pattern] of cases) {
      resumeFails(edited(LM, (m) => (m.settings[field] = value)), [...LM_RESUME, '--text', TEXT], pattern);
    }
  });

  test('forecast: each saved setting is checked as the command line would check it', TIMEOUT, () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['batch', 1e6, /meta\.settings\.batch: expected an integer in \[1, 100000\], as --batch takes, got 1000000$/],
      ['hidden', 5000, /meta\.settings\.hidden: expected an integer in \[1, 4096\], as --hidden takes, got 5000$/],
      ['calendar', 'yes', /meta\.settings\.calendar: expected true or false, as --no-calendar takes, got "yes"$/],
    ];
    for (const [field, value, pattern] of cases) {
      resumeFails(edited(FC, (m) => (m.settings[field] = value)), [...FC_RESUME, '--csv', join(tmp, 'good.csv')],
        pattern);
    }
    resumeFails(edited(FC, (m) => (m.settings.time = -1)), [...FC_RESUME, '--csv', join(tmp, 'good.csv')],
      /meta\.settings\.time: expected a duration .*, as --time takes, got -1$/);
  });

  test('a manifest missing a field a resumed run needs: a DataError naming it, not an internal error', TIMEOUT, () => {
    for (const field of ['model', 'extra', 'settings', 'data']) {
      resumeFails(edited(LM, (m) => delete m[field]), [...LM_RESUME, '--text', TEXT],
        new RegExp(`: meta\\.${field}: expected .*, got undefined$`));
    }
    resumeFails(edited(LM, (m) => delete m.trainer.progress), [...LM_RESUME, '--text', TEXT],
      /: meta\.trainer: progress: expected an object, got undefined$/);
    resumeFails(edited(LM, (m) => delete m.trainer), [...LM_RESUME, '--text', TEXT],
      /: expected a training state to resume from .*, got weights only$/);
    for (const field of ['settings', 'extra', 'data']) {
      resumeFails(edited(FC, (m) => delete m[field]), [...FC_RESUME, '--csv', join(tmp, 'good.csv')],
        new RegExp(`: meta\\.${field}: expected .*, got undefined$`));
    }
    resumeFails(edited(FC, (m) => delete m.trainer.progress), [...FC_RESUME, '--csv', join(tmp, 'good.csv')],
      /: meta\.trainer: progress: expected an object, got undefined$/);
  });
});
