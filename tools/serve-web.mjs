#!/usr/bin/env node
/**
 * Serves web/dist (build it first: node tools/build-web.mjs) on localhost,
 * with no dependency: node:http and static files only. The page is
 * cross-origin isolated (COOP/COEP), so the wasm kernels may use shared memory.
 *
 *   node tools/serve-web.mjs [port]      # default 8080; 0 picks a free port
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.map': 'application/json', '.txt': 'text/plain; charset=utf-8', '.json': 'application/json', '.wasm': 'application/wasm',
  '.png': 'image/png', '.svg': 'image/svg+xml',
};

/** Starts the server; resolves to { server, url }. */
export function serveWeb({ dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'web', 'dist'), port = 8080, host = '127.0.0.1' } = {}) {
  const rootDir = normalize(dir);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    let file = normalize(join(rootDir, path));
    if (file !== rootDir && !file.startsWith(rootDir + sep)) return end(res, 403, 'forbidden');
    let stat = statSync(file, { throwIfNoEntry: false });
    if (stat?.isDirectory()) (file = join(file, 'index.html')), (stat = statSync(file, { throwIfNoEntry: false }));
    if (!stat?.isFile()) return end(res, 404, 'not found');
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': stat.size, 'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
    });
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      resolve({ server, url: `http://${host}:${actual}/` });
    });
  });
}

function end(res, status, text) {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const port = process.argv[2] === undefined ? 8080 : Number(process.argv[2]);
  const { url } = await serveWeb({ port });
  console.log(`bptt playground: ${url} (Ctrl-C to stop)`);
}
