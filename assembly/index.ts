export { gemm, packB, packedBFloats, gemmWorkspace, gemmWorkspaceFloats } from './gemm';
export function heapBase(): usize {
  return __heap_base;
}
