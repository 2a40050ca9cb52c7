/** `--report` on `bptt train` (lm) and `bptt train forecast`, spawned as a user runs them. */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cliSandbox } from '../cli/sandbox.js';

const { tmp, run } = cliSandbox('bptt-report-cli-');
const TIMEOUT = { timeout: 120_000 };
const SECTIONS = ['loss', 'lr', 'grad-norm', 'gradient-flow', 'gate-saturation'];
const TEXT = join(tmp, 'text.txt');
writeFileSync(TEXT, 'The whale rose from the deep and the sailors watched it in silence. Call me Ishmael, said the young man. '.repeat(40));
const TINY = ['--text', TEXT, '--hidden', '16', '--layers', '2', '--embed', '8', '--batch', '4', '--seq-len', '16', '--workers', '1', '--quiet', '--sample', '0'];

function assertReport(path: string): string {
  assert.ok(existsSync(path), `${path} written`);
  const html = readFileSync(path, 'utf8');
  assert.match(html, /^<!doctype html>/);
  for (const id of SECTIONS) assert.match(html, new RegExp(`<section id="${id}">`), `section ${id}`);
  assert.match(html, /<section id="gradient-flow">.*<svg .*aria-label="gradient flow of /s, 'a drawn heatmap');
  assert.doesNotMatch(html, /https?:|<script/i);
  assert.doesNotMatch(html, /<section id="attention">/, 'no section for the attention these models do not have');
  return html;
}

describe('--report', () => {
  test('bptt train --steps 30 --report writes the report', TIMEOUT, () => {
    const path = join(tmp, 'lm.html');
    const r = run('train', ...TINY, '--steps', '30', '--out', join(tmp, 'lm'), '--report', path);
    assert.equal(r.status, 0, r.stderr);
    const html = assertReport(path);
    assert.match(html, /gradient flow of lstm\.l1/);
    assert.match(html, /<section id="gate-saturation">.*<svg /s);
  });

  test('bptt train forecast --report writes the report (its directory created as --out\'s is)', TIMEOUT, () => {
    const path = join(tmp, 'new', 'dir', 'forecast.html');
    const r = run('train', 'forecast', '--dataset', 'co2', '--steps', '30', '--hidden', '8', '--quiet', '--out', join(tmp, 'fc'), '--report', path);
    assert.equal(r.status, 0, r.stderr);
    const html = assertReport(path);
    assert.match(html, /<section id="chart-mase">/);
    assert.match(html, /test MASE/);
  });

  for (const [name, args] of [['lm', ['train', ...TINY]], ['forecast', ['train', 'forecast', '--dataset', 'co2', '--quiet']]] as const) {
    test(`${name}: a bad --report path is a one-line error before training`, TIMEOUT, () => {
      const out = join(tmp, `bad-${name}`);
      writeFileSync(join(tmp, 'a-file'), 'not a directory');
      for (const bad of [join(tmp, 'a-file', 'r.html'), tmp]) {
        const r = run(...args, '--steps', '30', '--out', out, '--report', bad);
        assert.equal(r.status, 1, r.stdout);
        const err = r.stderr.replace(/\n$/, '');
        assert.match(err, /^bptt: --report '.*': expected an HTML file path in a writable directory, got /);
        assert.ok(!err.includes('\n'), `one line, got:\n${r.stderr}`);
        assert.ok(!existsSync(out), 'nothing written');
      }
    });
  }
});
