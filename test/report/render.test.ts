/** The HTML report rendered from a synthetic recorder, and the gradient-flow sampler on a real engine. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Bptt } from '../../src/bptt/index.js';
import { addingBatch } from '../../src/data/index.js';
import { Adam } from '../../src/optim/index.js';
import { ReportRecorder, renderReport } from '../../src/report/index.js';
import { ensureWritableReport, writeReport } from '../../src/report/node/write.js';
import { AddingModel } from '../../src/tasks/adding/index.js';
import { ConfigError, DataError, Rng } from '../../src/tensor/index.js';
import { rejects } from '../helpers.js';

function synthetic(): ReportRecorder {
  const r = new ReportRecorder('run <script>alert(1)</script>', { cell: 'lstm', note: 'a "quoted" & <b>bold</b> value' });
  for (let u = 1; u <= 1500; u++) r.step(u, { loss: 3 / Math.sqrt(u), lr: 1e-3, gradNorm: 1 + (u % 50), clipped: u % 50 > 45 });
  r.chart('grad-norm', { threshold: { label: 'clip 5', y: 5 } });
  for (let u = 100; u <= 1500; u += 100) r.validation(u, { loss: 3.2 / Math.sqrt(u), bleu: u / 100 });
  for (let u = 10; u <= 1500; u += 10) {
    for (const layer of ['lstm.l0', 'lstm.l1']) r.flowColumn(layer, u, Array.from({ length: 32 }, (_, t) => (t < 2 ? null : -3 + t / 10)));
    r.point('saturation', 'lstm.l0', u, u / 3000);
  }
  r.attention({ title: 'example <1>', rows: ['<s>', 'le', 'chat'], cols: ['the', 'cat', '</s>'], weights: [0.8, 0.1, 0.1, 0.1, 0.8, 0.1, 0.2, 0.2, 0.6] });
  r.attention({ title: 'nested', rows: ['a&b'], cols: ['x', 'y'], weights: [[0.3, 0.7]] });
  return r;
}

describe('renderReport', () => {
  const html = renderReport(synthetic().data);

  test('is one HTML page with every section and an SVG in each', () => {
    assert.match(html, /^<!doctype html>\n<html lang="en">/);
    assert.match(html, /<\/html>\n$/);
    for (const id of ['loss', 'lr', 'grad-norm', 'gradient-flow', 'gate-saturation', 'chart-bleu', 'attention']) {
      const m = new RegExp(`<section id="${id}">(.*?)</section>`, 's').exec(html);
      assert.ok(m, `section ${id}`);
      assert.match(m[1]!, /<svg /, `an SVG in section ${id}`);
    }
    assert.equal((html.match(/<svg /g) ?? []).length, (html.match(/<\/svg>/g) ?? []).length, 'balanced svg tags');
    assert.match(html, /aria-label="gradient flow of lstm\.l1"/);
    assert.match(html, /clipped \(\d+ updates\)/);
  });

  test('is self-contained: no script, no external reference', () => {
    assert.doesNotMatch(html, /https?:/i);
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /<link|@import|url\((?!#)/i);
  });

  test('escapes every label', () => {
    assert.ok(html.includes('run &lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('a &quot;quoted&quot; &amp; &lt;b&gt;bold&lt;/b&gt; value'));
    assert.ok(html.includes('&lt;s&gt;') && html.includes('&lt;/s&gt;') && html.includes('a&amp;b'));
    assert.ok(!html.includes('<b>bold'));
  });

  test('stays small: long series are bucketed, the heatmap thinned', () => {
    const r = synthetic();
    assert.ok(r.data.flow['lstm.l0']!.columns.length <= 160);
    assert.ok(html.length < 400_000, `${html.length} characters`);
  });

  test('renders no section for what was not recorded', () => {
    const empty = renderReport(new ReportRecorder('empty').data);
    assert.doesNotMatch(empty, /<section|<nav|<svg|class="score"/);
    const r = new ReportRecorder('some');
    r.step(1, { loss: 2, lr: 1e-3 });
    r.chart('grad-norm', { threshold: { label: 'clip 1', y: 1 } }); // a chart without a point
    r.chart('bleu', {});
    const some = renderReport(r.data);
    assert.deepEqual([...some.matchAll(/<section id="([^"]+)">/g)].map((m) => m[1]), ['loss', 'lr']);
    assert.deepEqual([...some.matchAll(/<a href="#([^"]+)">/g)].map((m) => m[1]), ['loss', 'lr'], 'and the contents');
  });

  test('shows the final score as the headline, and the samples of the model', () => {
    const r = synthetic();
    r.final({ score: { label: 'test BLEU', value: 23.456 }, details: { 'copy baseline <BLEU>': 3.1, best: 1400 } });
    r.sample({ title: 'dev translations', text: 'le chat\n<the cat> & co' });
    r.sample({ title: 'forecast', svg: '<svg viewBox="0 0 10 10"><path d="M0 0L10 10"/></svg>' });
    r.sample({ title: 'dev translations', text: 'le chien' }); // a better model's: replaces the first
    const page = renderReport(r.data);
    const top = page.slice(0, page.indexOf('<section'));
    assert.match(top, /<p class="score">test BLEU<strong>23\.5<\/strong><\/p>/);
    assert.match(top, /copy baseline &lt;BLEU&gt;<\/td><td>3\.1</);
    const samples = /<section id="samples">(.*?)<\/section>/s.exec(page)?.[1] ?? '';
    assert.match(samples, /<h3>dev translations<\/h3><pre>le chien<\/pre><h3>forecast<\/h3><svg viewBox="0 0 10 10">/);
    assert.doesNotMatch(page, /le chat/);
    r.sample({ title: 'text', text: '<script>alert(1)</script>' });
    assert.match(renderReport(r.data), /<pre>&lt;script&gt;alert\(1\)&lt;\/script&gt;<\/pre>/);
  });

  test('refuses an SVG sample with a script or an event handler', () => {
    const r = new ReportRecorder('x');
    for (const svg of ['<svg><script>alert(1)</script></svg>', '<svg onload="alert(1)"></svg>', '<img src=x>']) {
      rejects(() => r.sample({ title: 'bad', svg }), ConfigError, /^ReportRecorder\.sample: expected an <svg>/);
    }
    assert.deepEqual(r.data.samples, []);
  });
});

describe('FlowSampler', () => {
  test('samples the engine every N updates into the report', () => {
    const rng = new Rng(3);
    const model = new AddingModel('lstm', 8, rng.split());
    const report = new ReportRecorder('adding');
    const flow = report.flowSampler({ every: 4 });
    flow.attach([model.rnn]);
    const engine = new Bptt({ model, parameters: model.parameters(), optimizer: new Adam(model.parameters(), { lr: 1e-2 }), recorder: flow, strategy: { kind: 'truncated', k1: 10, k2: 10 } });
    for (let i = 0; i < 4; i++) engine.trainBatch(addingBatch(rng, 20, 4)); // 2 updates per batch
    const h = report.data.flow['lstm.l0']!;
    assert.deepEqual(h.updates, [1, 5]);
    assert.equal(h.columns[0]!.length, 10);
    assert.equal(h.columns[1]!.length, 10);
    assert.ok(h.columns.every((c) => c.every((v) => v === null || Number.isFinite(v))));
    const sat = report.data.charts.saturation!.lines['lstm.l0']!;
    assert.deepEqual(sat.x, [1, 5]);
    assert.ok(sat.y.every((v) => v >= 0 && v <= 1));
  });

  test('second windows of truncated BPTT start at their own step', () => {
    const rng = new Rng(4);
    const model = new AddingModel('gru', 8, rng.split());
    const report = new ReportRecorder('adding');
    const flow = report.flowSampler({ every: 2 });
    flow.attach([model.rnn]);
    const engine = new Bptt({ model, parameters: model.parameters(), optimizer: new Adam(model.parameters(), { lr: 1e-2 }), recorder: flow, strategy: { kind: 'truncated', k1: 10, k2: 10 } });
    engine.trainBatch(addingBatch(rng, 30, 4)); // updates 1, 2, 3: windows [0,10), [10,20), [20,30)
    const h = report.data.flow['gru.l0']!;
    assert.deepEqual(h.updates, [1, 3]);
    assert.equal(h.columns[1]!.length, 30);
    assert.ok(h.columns[1]!.slice(0, 20).every((v) => v === null));
  });
});

describe('writeReport', () => {
  test('writes atomically; a bad path is a DataError', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bptt-report-'));
    try {
      const path = join(dir, 'r.html');
      writeReport(path, synthetic().data);
      assert.match(readFileSync(path, 'utf8'), /<section id="gradient-flow">/);
      writeFileSync(join(dir, 'a-file'), 'not a directory');
      assert.throws(() => ensureWritableReport(join(dir, 'a-file', 'r.html')), (e: unknown) => e instanceof DataError && /--report .*ENOTDIR|--report .*EEXIST/.test(e.message));
      assert.throws(() => ensureWritableReport(dir), DataError);
      ensureWritableReport(join(dir, 'new.html'));
      ensureWritableReport(join(dir, 'missing', 'r.html')); // its directory is created, as --out's is
      assert.ok(statSync(join(dir, 'missing')).isDirectory());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
