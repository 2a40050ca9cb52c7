// Every wasm kernel test again, on the plain-SIMD build (the default build is relaxed SIMD where the engine has it).
process.env.BPTT_TEST_WASM_BUILD = 'simd';
await import('./wasm.test.js');
