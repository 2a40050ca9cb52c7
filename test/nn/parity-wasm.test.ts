import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kernels, setBackend, wasmBackend } from '../../src/kernels/index.js';
import { loadCases, parityFiles, runCase } from './parity-cases.js';

// The float32 PyTorch parity checks again, with the wasm backend active
// whatever BPTT_BACKEND selected as the default.
describe('PyTorch parity on the wasm backend', () => {
  let previous = 'reference';
  before(() => {
    assert.ok(wasmBackend(), 'the wasm backend did not load');
    previous = kernels().name;
    setBackend('wasm');
  });
  after(() => setBackend(previous));

  for (const file of parityFiles) {
    describe(file, () => {
      for (const c of loadCases(file)) {
        test(`${c.name} float32`, () => {
          assert.equal(kernels().name, 'wasm');
          runCase(c, 'float32');
        });
      }
    });
  }
});
