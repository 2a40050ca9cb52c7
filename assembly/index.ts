// Entry point of the WebAssembly kernels (built twice: plain SIMD and relaxed SIMD).
// Memory is imported (env.memory) and managed from JavaScript: see src/kernels/wasm/heap.ts.

export { gemm, packB, packedBFloats, gemmWorkspace, gemmWorkspaceFloats } from './gemm';
export {
  lstmForward, lstmBackward, gruForward, gruBackward,
  gruResetGates, gruResetOutput, gruResetBackwardZN, gruResetBackwardR,
  rnnForward, rnnBackward,
} from './cells';
export { addRowVector, sumRows, logSoftmax, adam } from './misc';
export { mapMath } from './math';

/** First byte past the module's static data: JavaScript allocates from here. */
export function heapBase(): usize {
  return __heap_base;
}
