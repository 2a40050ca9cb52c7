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
} from './bptt/parallel.js';
export { readTextFile, mobyDick } from './data/text-files.js';
export {
  saveCheckpoint, loadCheckpoint, ensureWritableDir, assertFinite,
  type CheckpointContent, type LoadedCheckpoint, type LoadOptions, type Manifest,
} from './io/checkpoint-files.js';
export { writeFileSafe, appendFileSafe, readFileSafe, type ReadOptions } from './io/safe-files.js';
export { lockRunFolder, type RunLock } from './io/run-lock.js';
export { useFsLayer, type FsLayer } from './io/fs-layer.js';
export { LmTrainer, type LmTrainingOptions, type TrainerState, type TrainerProgress, type StepReport } from './tasks/language-model/trainer.js';
export { saveLmCheckpoint, loadLanguageModel, trainerStateOf, type LmMeta, type LmCheckpoint } from './tasks/language-model/checkpoint.js';
export { readKerasH5, isHdf5 } from './io/interop/keras-h5.js';
export { readLines, readParallelFiles, type LinePair } from './data/parallel-files.js';
export { cmudict } from './data/cmudict.js';
export { gettextPairs, type GettextPairs } from './data/gettext.js';
export { writeReport, openReport, ensureWritableReport, type ReportFile } from './report/write.js';
