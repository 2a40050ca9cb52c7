/**
 * Node-only additions to the public API (they import node: modules, so they
 * stay out of the browser-safe `src/index.ts`): data-parallel training over
 * worker threads. Import from `bptt/node` (package export "./node"), or from
 * dist/src/node.js.
 */
export * from './index.js';
export {
  DataParallel, WorkerError, rowRange, shardTensor, shardFlags, sliceRows,
  type DataParallelOptions, type ReplicaModule, type Replica,
} from './bptt/parallel.js';
