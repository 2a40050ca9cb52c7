import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const indexUrl = new URL('../../src/kernels/index.js', import.meta.url).href;

/** Imports the kernels in a fresh process with BPTT_BACKEND set and prints the active backend. */
function activeWith(value: string | undefined): { status: number | null; stdout: string; stderr: string } {
  const env = { ...process.env };
  if (value === undefined) delete env.BPTT_BACKEND;
  else env.BPTT_BACKEND = value;
  const code = `import { kernels, backendNames } from '${indexUrl}'; console.log(kernels().name, backendNames().join(','));`;
  return spawnSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8' });
}

test('wasm is the default backend in Node; BPTT_BACKEND=reference|wasm chooses; both stay registered', () => {
  assert.equal(activeWith(undefined).stdout.trim(), 'wasm reference,wasm');
  assert.equal(activeWith('').stdout.trim(), 'wasm reference,wasm');
  assert.equal(activeWith('wasm').stdout.trim(), 'wasm reference,wasm');
  assert.equal(activeWith('reference').stdout.trim(), 'reference reference,wasm');
});

test('an unknown BPTT_BACKEND is a ConfigError at import, not silently ignored', () => {
  const r = activeWith('gpu');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /ConfigError: BPTT_BACKEND: expected one of reference, wasm, got 'gpu'/);
});

test('the relaxed-SIMD build is the default in Node; BPTT_WASM_BUILD=simd pins plain SIMD; a bad value is a ConfigError', () => {
  const build = (value: string | undefined) => {
    const env = { ...process.env };
    delete env.BPTT_BACKEND;
    if (value === undefined) delete env.BPTT_WASM_BUILD;
    else env.BPTT_WASM_BUILD = value;
    const code = `import { kernels } from '${indexUrl}'; console.log(kernels().relaxedSimd);`;
    return spawnSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8' });
  };
  assert.equal(build(undefined).stdout.trim(), 'true');
  assert.equal(build('relaxed-simd').stdout.trim(), 'true');
  assert.equal(build('simd').stdout.trim(), 'false');
  const bad = build('avx');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /ConfigError: BPTT_WASM_BUILD: expected one of simd, relaxed-simd, got 'avx'/);
});
