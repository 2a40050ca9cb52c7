export { Optimizer, type OptimizerStateDict, type ParamState, type Hyper } from './optimizer.js';
export { SGD, type SGDOptions, type SGDConfig } from './sgd.js';
export { Adam, AdamW, AdamBase, type AdamOptions, type AdamConfig } from './adam.js';
export { RMSprop, type RMSpropOptions, type RMSpropConfig } from './rmsprop.js';
export { Adagrad, type AdagradOptions, type AdagradConfig } from './adagrad.js';
export { clipGradNorm, clipGradValue, gradNorm, scaleToNorm } from './clip.js';
export { learningRate, validateSchedule, type Schedule } from './schedule.js';
