/**
 * Node-only additions to the public API (they import node: modules, so they
 * stay out of the browser-safe `src/index.ts`): data-parallel training over
 * worker threads, files (checkpoints, the safe writer and reader, the run
 * lock). Import from `bptt/node` (package export "./node"), or from
 * dist/src/node.js.
 */
export * from './index.js';
export {
  DataParallel, WorkerError, rowRange, shardTensor, shardFlags, sliceRows,
  type DataParallelOptions, type ReplicaModule, type Replica,
} from './bptt/node/parallel.js';
export { readTextFile, mobyDick } from './data/node/text-files.js';
export {
  saveCheckpoint, loadCheckpoint, ensureWritableDir, assertFinite,
  type CheckpointContent, type LoadedCheckpoint, type LoadOptions, type Manifest,
} from './io/node/checkpoint-files.js';
export { writeFileSafe, appendFileSafe, readFileSafe, type ReadOptions } from './io/node/safe-files.js';
export { lockRunFolder, type RunLock } from './io/node/run-lock.js';
export { useFsLayer, type FsLayer } from './io/node/fs-layer.js';
export { loadLanguageModel, type LmCheckpoint } from './tasks/language-model/node/checkpoint.js';
export { saveRun, loadRun, runStateOf, type LoadedRun, type RunContent } from './training/node/run-files.js';
export { dataParallel } from './training/node/data-parallel.js';
export { stopOnSignals } from './training/node/stop-signals.js';
export { jsonLog } from './training/node/json-log.js';
export { checkpointWriter, type CheckpointOptions } from './training/node/checkpoints.js';
export { progressCallback } from './report/progress-callback.js';
export { Progress } from './report/progress.js';
export { readKerasH5, isHdf5 } from './io/interop/keras-h5.js';
export { readLines, readParallelFiles, type LinePair } from './data/node/parallel-files.js';
export { cmudict } from './data/node/cmudict.js';
export { gettextPairs, type GettextPairs } from './data/node/gettext.js';
export { writeReport, openReport, ensureWritableReport, type ReportFile } from './report/node/write.js';
