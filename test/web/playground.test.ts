/**
 * The browser playground in Chromium (playwright-core, no browser download):
 * build web/dist, serve it on a random localhost port, train the language
 * model for a few dozen updates and check that the loss falls and the
 * gradient-flow heatmap is drawn; then the adding-problem tab. Needs
 * /usr/bin/chromium (`apt-get install chromium`).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

const CHROMIUM = process.env.BPTT_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const root = fileURLToPath(new URL('../../../', import.meta.url));
const tool = (name: string): string => pathToFileURL(join(root, 'tools', name)).href;

describe('web playground', { timeout: 120_000 }, () => {
  let browser: Browser | null = null;
  let server: Server | null = null;
  let url = '';
  let page: Page;
  const errors: string[] = [];
  const shots = mkdtempSync(join(tmpdir(), 'bptt-web-'));

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: the browser tests need it; install it with \`apt-get install chromium\` (or set BPTT_CHROMIUM)`);
    const { buildWeb } = (await import(tool('build-web.mjs'))) as { buildWeb: () => Promise<string> };
    await buildWeb();
    const { serveWeb } = (await import(tool('serve-web.mjs'))) as { serveWeb: (o: { port: number }) => Promise<{ server: Server; url: string }> };
    ({ server, url } = await serveWeb({ port: 0 }));
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    page = await browser.newPage({ viewport: { width: 900, height: 1300 } });
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`page: ${e.message}`));
    page.on('requestfailed', (r) => errors.push(`request: ${r.url()} ${r.failure()?.errorText ?? ''}`));
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => (server ? server.close(r) : r(null)));
    rmSync(shots, { recursive: true, force: true });
  });

  test('loads without console errors, with the wasm kernels', async () => {
    await page.goto(url);
    await page.waitForFunction('document.getElementById("status").textContent.startsWith("ready")', null, { timeout: 30_000 });
    assert.match((await page.textContent('#status'))!, /kernels: wasm/);
    assert.ok((await page.inputValue('#lm-text')).startsWith('CHAPTER 1. Loomings.'), 'Moby Dick chapter 1 loaded');
    assert.deepEqual(errors, []);
  });

  test('trains the language model: the loss falls and the heatmap is drawn', async () => {
    await page.fill('#lm-hidden', '48');
    await page.click('#lm-start');
    await page.waitForFunction('Number(document.getElementById("lm-update").textContent) >= 40', null, { timeout: 45_000 });
    const first = Number(await page.textContent('#lm-initial-loss'));
    const now = Number(await page.textContent('#lm-loss'));
    assert.ok(first > 4 && now < first - 0.5, `loss from ${first} to ${now} bits/char`);
    await page.waitForFunction('document.querySelectorAll("#lm-flow svg.cells path").length > 0', null, { timeout: 10_000 });
    const cells = await page.evaluate<number>('[...document.querySelectorAll("#lm-flow svg.cells path")].reduce((n, p) => n + p.getAttribute("d").length, 0)');
    assert.ok(cells > 100, `heatmap paths: ${cells} characters`);
    assert.ok(((await page.evaluate<number>('document.querySelectorAll("#lm-chart svg path").length')) as number) > 0, 'a loss curve');
    await page.waitForFunction('document.getElementById("lm-sample").textContent.length > 20', null, { timeout: 10_000 });
    const shot = join(shots, 'lm.png');
    await page.screenshot({ path: shot, fullPage: true, timeout: 60_000 });
    assert.ok(statSync(shot).size > 10_000);
    await page.click('#lm-stop');
    assert.deepEqual(errors, []);
  });

  test('adding problem: RNN and LSTM side by side', async () => {
    await page.click('#tab-adding');
    await page.fill('#adding-steps', '40');
    await page.click('#adding-start');
    await page.waitForFunction('Number(document.getElementById("adding-update").textContent) >= 15', null, { timeout: 30_000 });
    await page.waitForFunction('document.querySelectorAll("#adding-flow svg.cells").length === 2 && document.querySelectorAll("#adding-profile svg path").length >= 2', null, { timeout: 10_000 });
    for (const id of ['#adding-rnn-loss', '#adding-lstm-loss']) assert.ok(Number.isFinite(Number(await page.textContent(id))), id);
    await page.screenshot({ path: join(shots, 'adding.png'), fullPage: true, timeout: 60_000 });
    await page.click('#adding-stop');
    assert.deepEqual(errors, []);
  });
});
