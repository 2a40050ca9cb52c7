export type { Unrollable, Unrolled } from './unrolled.js';
export { Bptt, type BpttOptions, type Stepper, type UpdateReport, type GradientSync, type LossTerms } from './engine.js';
export { windows, segmentLength, validateStrategy, type Strategy, type Window } from './strategy.js';
export { FlowRecorder, type FlowRecord, type LayerFlow, type GateStats } from './diagnostics.js';
export { detachState, leafState, resetRows, mapState, stateVariables, type StateTree } from './state.js';
export { firstNonFinite, locateFirstBadStep } from './guard.js';
export { checkpointedGradient } from './checkpointed.js';
