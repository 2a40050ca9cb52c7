export { Variable, Node, noGrad, isGradEnabled, record, backward, output } from './variable.js';
export { add, sub, mul, scale, tanh, sigmoid, relu, exp, log, square, sum, mean } from './ops/elementwise.js';
export { matmul, linear } from './ops/matmul.js';
export { concat, slice, split, reshape, transpose01, constant } from './ops/shape.js';
export { embedding } from './ops/embedding.js';
export { dropout } from './ops/dropout.js';
export { zerosLike, addInto, checkSameDtype } from './ops/util.js';
export { gradcheck, gradcheckDirectional, type GradcheckOptions, type DirectionalOptions, type GradcheckReport, type GradcheckWorst } from './gradcheck.js';
export { batchedDot, weightedSum, addAtEveryStep, maskedSoftmax, validSteps, dotAttentionAll } from './ops/attention.js';
