import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { kernels, registerBackend, setBackend, wasmBackend } from '../../src/kernels/index.js';
import { loadWasmKernelsSync } from '../../src/kernels/wasm/wasm.js';
import { loadCases, parityFiles, runCase } from './parity-cases.js';

// The float32 PyTorch parity checks again, with the wasm backend active
// whatever BPTT_BACKEND selected as the default. The fixtures are small (B 3,
// H 4): this instance keeps them in wasm instead of handing them to reference.
describe('PyTorch parity on the wasm backend', () => {
  let previous = 'reference';
  before(() => {
    const active = wasmBackend();
    assert.ok(active, 'the wasm backend did not load');
    previous = kernels().name;
    registerBackend(loadWasmKernelsSync({ simd: active.relaxedSimd ? 'relaxed-simd' : 'simd', delegateSmall: false }));
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
