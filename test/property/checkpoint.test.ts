/**
 * Property tests of checkpoint loading: a manifest edited anywhere, manifest or
 * safetensors bytes damaged (with or without the SHA-256 updated to match), a
 * checkpoint of the other task: loadCheckpoint, loadLanguageModel (and the
 * trainer state --resume reads), loadRun of a forecast, a translation and a speech model return or
 * throw a BpttError, and never hang.
 * The checkpoints come from the CLI itself (tiny runs), so they are real ones.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { loadCheckpoint, type Manifest } from '../../src/io/node/checkpoint-files.js';
import { forecastCodec } from '../../src/tasks/forecast/codec.js';
import { loadLanguageModel } from '../../src/tasks/language-model/node/checkpoint.js';
import { speechCodec } from '../../src/tasks/speech/codec.js';
import { translateCodec } from '../../src/tasks/translate/index.js';
import { loadRun, runStateOf } from '../../src/training/node/run-files.js';
import { DataError } from '../../src/tensor/index.js';
import { applyDamage, damage, valueOrBpttError } from './arbitraries.js';

const bin = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'bptt-prop-ckpt-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
const LM = join(tmp, 'lm'), FC = join(tmp, 'fc'), TR = join(tmp, 'tr'), SP = join(tmp, 'sp');
const fixture = (name: string) => fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url));

before(() => {
  writeFileSync(join(tmp, 'text.txt'), 'The whale rose from the deep, and the sailors watched it in silence.\n'.repeat(20));
  const cli = (...args: string[]): void => {
    const r = spawnSync(process.execPath, [bin, ...args, '--quiet'], { cwd: tmp, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  };
  cli('train', '--text', 'text.txt', '--steps', '2', '--hidden', '6', '--layers', '2', '--embed', '4', '--batch', '2', '--seq-len', '8', '--workers', '0', '--out', LM, '--sample', '0');
  cli('train', 'forecast', '--dataset', 'co2', '--steps', '2', '--hidden', '4', '--out', FC);
  const pairs = (side: string) => fixture(`gettext-fr-sample/test.${side}`);
  cli('train', 'translate', '--source', pairs('en'), '--target', pairs('fr'), '--embed', '4', '--hidden', '8', '--steps', '2', '--batch', '4', '--out', TR);
  cli('train', 'speech', '--data', fixture('speech-sample'), '--hidden', '4', '--layers', '1', '--dropout', '0', '--epochs', '1', '--batch', '9', '--out', SP);
});

const loaders = {
  lm: (p: string) => {
    const ck = loadLanguageModel(p);
    runStateOf(ck);
    return ck;
  },
  forecast: (p: string) => runStateOf(loadRun(p, forecastCodec)),
  translate: (p: string) => {
    const run = loadRun(p, translateCodec);
    runStateOf(run);
    return run;
  },
  speech: (p: string) => {
    const run = loadRun(p, speechCodec);
    runStateOf(run);
    return run;
  },
  files: (p: string) => loadCheckpoint(p),
};

let copies = 0;
/** A copy of a checkpoint directory to damage. */
function copyOf(dir: string): string {
  const to = join(tmp, `copy${copies++}`);
  cpSync(dir, to, { recursive: true });
  return to;
}

/** Every path to a value inside a JSON tree. */
function paths(x: unknown, at: Array<string | number> = []): Array<Array<string | number>> {
  const here = [at];
  if (Array.isArray(x)) return [...here, ...x.flatMap((v, i) => paths(v, [...at, i]))];
  if (x && typeof x === 'object') return [...here, ...Object.entries(x).flatMap(([k, v]) => paths(v, [...at, k]))];
  return here;
}

/** Sets (or, with `undefined`, deletes) the value at `path` of a JSON tree; the root path replaces the whole. */
function edit(root: unknown, path: Array<string | number>, value: unknown): unknown {
  if (path.length === 0) return value;
  if (typeof root !== 'object' || root === null) return root;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let node = copy;
  for (const k of path.slice(0, -1)) {
    node = node?.[k] as Record<string | number, unknown>;
    if (typeof node !== 'object' || node === null) return copy; // an earlier edit removed the place
  }
  const last = path[path.length - 1]!;
  if (value === undefined && !Array.isArray(node)) delete node[last];
  else node[last] = value;
  return copy;
}

/** What a hand edit might put in a field: another type, an extreme number, a huge size, or nothing. */
const replacement = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(undefined, null, 0, -1, 1.5, 1e9, 2 ** 31, 2 ** 53, -(2 ** 31), 1e308, '', 'lstm', 'gru', 'char', 'word', [], {}, [0], ['month']),
);

describe('checkpoint loading properties', () => {
  for (const [task, dir] of [['lm', LM], ['forecast', FC], ['translate', TR], ['speech', SP]] as const) {
    test(`${task}: a manifest edited at any one place loads or throws a BpttError`, { timeout: 60_000 }, () => {
      const manifestPath = join(dir, 'last.json');
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as unknown;
      const all = paths(manifest);
      const work = copyOf(dir);
      fc.assert(fc.property(fc.nat(), replacement, fc.nat({ max: 2 }), (i, value, extra) => {
        let edited = edit(manifest, all[i % all.length]!, value);
        for (let k = 0; k < extra; k++) edited = edit(edited, all[(i * 7 + k * 13) % all.length]!, value); // sometimes a few places
        writeFileSync(join(work, 'last.json'), JSON.stringify(edited) ?? '');
        valueOrBpttError(() => loaders[task](join(work, 'last.json')));
        valueOrBpttError(() => loaders.files(join(work, 'last.json')));
      }), { numRuns: 150 });
    });

    test(`${task}: damaged manifest bytes load or throw a BpttError`, () => {
      const work = copyOf(dir);
      const bytes = readFileSync(join(dir, 'last.json'));
      fc.assert(fc.property(damage, (d) => {
        writeFileSync(join(work, 'last.json'), applyDamage(bytes, d));
        valueOrBpttError(() => loaders[task](join(work, 'last.json')));
      }), { numRuns: 100 });
    });

    test(`${task}: damaged weights are a DataError naming the SHA-256; with the hash updated, a value or a BpttError`, () => {
      const work = copyOf(dir);
      const manifest = JSON.parse(readFileSync(join(dir, 'last.json'), 'utf8')) as Manifest;
      const files = [manifest.weights, ...(manifest.state ? [manifest.state] : [])];
      fc.assert(fc.property(fc.nat({ max: files.length - 1 }), damage, (k, d) => {
        const file = files[k]!;
        const good = readFileSync(join(dir, file));
        const bad = applyDamage(good, d);
        writeFileSync(join(work, file), bad);
        writeFileSync(join(work, 'last.json'), JSON.stringify(manifest));
        const same = Buffer.from(bad).equals(good);
        if (!same) assert.throws(() => loaders[task](join(work, 'last.json')), (e) => e instanceof DataError && /SHA-256/.test(e.message));
        const sha256 = { ...manifest.sha256, [file]: createHash('sha256').update(bad).digest('hex') };
        writeFileSync(join(work, 'last.json'), JSON.stringify({ ...manifest, sha256 }));
        valueOrBpttError(() => loaders[task](join(work, 'last.json')));
        writeFileSync(join(work, file), good);
      }), { numRuns: 100 });
    });
  }

  test('a checkpoint of the other task, or of neither, is a DataError', () => {
    assert.throws(() => loadRun(LM, forecastCodec), (e) => e instanceof DataError && /a forecast checkpoint/.test(e.message));
    assert.throws(() => loadLanguageModel(FC), (e) => e instanceof DataError && /an lm checkpoint/.test(e.message));
    assert.throws(() => loadRun(SP, translateCodec),
      (e) => e instanceof DataError && /a translate checkpoint/.test(e.message));
    assert.throws(() => loadRun(TR, speechCodec), (e) => e instanceof DataError && /a speech checkpoint/.test(e.message));
    for (const bad of [join(LM, 'text.txt'), join(LM, 'nothing.json'), tmp]) {
      assert.throws(() => loadLanguageModel(bad), DataError, bad);
    }
  });
});
