/** The public API of bptt. */
export * from './tensor/index.js';
export { kernels, setBackend, registerBackend, backendNames, reference, type Kernels, type AdamStep, type Nonlinearity } from './kernels/index.js';
export * from './autograd/index.js';
export * from './nn/index.js';
export * from './losses/index.js';
export * from './optim/index.js';
export * from './data/index.js';
export * from './bptt/index.js';
export * from './decode/index.js';
export * from './io/index.js';
export * from './tasks/language-model/index.js';
export * from './tasks/forecast/index.js';
export * from './tasks/translate/index.js';
export * from './tasks/speech/index.js';
export * from './tasks/adding/index.js';
export * from './audio/index.js';
export * from './metrics/index.js';
export * from './report/index.js';
