export { fit, Trainer, type FitOptions, type Trainable, type UpdateEngine } from './runner.js';
export { ShuffledBatches, type Batches, type Drawn } from './batches.js';
export { validateBudget, TimeBudget, type Budget } from './budget.js';
export { cadenceOf, type Cadence } from './cadence.js';
export { checkProgress, type RunProgress, type RunState } from './state.js';
export type {
  Callback, FitResult, StoppedBy, UpdateEvent, Validation, ValidationEvent, BestValidated,
} from './events.js';
export {
  RUN_FORMAT, type DataSource, type RunMeta, type NamedModel, type TaskCodec,
} from './run-format.js';
export { decodeUntil, testedPart, type Decoded } from './deadline.js';
