import type { Variable } from '../autograd/variable.js';
import type { Arr, Tensor } from '../tensor/index.js';
import { Optimizer, flagOption, numberOption, readOptions, zerosLike, type ParamState } from './optimizer.js';

export interface RMSpropOptions {
  lr?: number;
  alpha?: number;
  eps?: number;
  weightDecay?: number;
  momentum?: number;
  centered?: boolean;
}

export type RMSpropConfig = { alpha: number; eps: number; weightDecay: number; momentum: number; centered: boolean };
type RMSpropBuffers = { squareAvg: Arr; gradAvg?: Arr; momentumBuffer?: Arr };

const KEYS = ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered'] as const;

/** RMSprop (`torch.optim.RMSprop`): eps is added after the square root, as PyTorch does (TF adds it inside). */
export class RMSprop extends Optimizer<RMSpropBuffers> {
  readonly config: Readonly<RMSpropConfig>;

  constructor(params: readonly Variable[], options: RMSpropOptions = {}) {
    const o = readOptions('RMSprop', options, KEYS);
    const lr = numberOption('RMSprop', o, 'lr', 1e-2);
    const config: RMSpropConfig = {
      // alpha is a moving-average weight; above 1 the squared average could go negative.
      alpha: numberOption('RMSprop', o, 'alpha', 0.99, { max: 1 }),
      eps: numberOption('RMSprop', o, 'eps', 1e-8),
      weightDecay: numberOption('RMSprop', o, 'weightDecay', 0),
      momentum: numberOption('RMSprop', o, 'momentum', 0),
      centered: flagOption('RMSprop', o, 'centered', false),
    };
    super('RMSprop', params, lr);
    this.config = Object.freeze(config);
  }

  protected initBuffers(value: Tensor): RMSpropBuffers {
    const b: RMSpropBuffers = { squareAvg: zerosLike(value) };
    if (this.config.centered) b.gradAvg = zerosLike(value);
    if (this.config.momentum > 0) b.momentumBuffer = zerosLike(value);
    return b;
  }

  protected update(param: Arr, grad: Arr, s: ParamState<RMSpropBuffers>): void {
    const { alpha, eps, weightDecay, momentum } = this.config;
    const lr = this.lr;
    const { squareAvg, gradAvg, momentumBuffer } = s.buffers;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i]! + weightDecay * param[i]!;
      squareAvg[i] = alpha * squareAvg[i]! + (1 - alpha) * g * g;
      let variance = squareAvg[i]!;
      if (gradAvg) {
        // Centered: divide by an estimate of the gradient's variance instead of its raw second moment.
        gradAvg[i] = alpha * gradAvg[i]! + (1 - alpha) * g;
        variance -= gradAvg[i]! * gradAvg[i]!;
      }
      const avg = Math.sqrt(variance) + eps;
      if (momentumBuffer) {
        momentumBuffer[i] = momentum * momentumBuffer[i]! + g / avg;
        param[i] = param[i]! - lr * momentumBuffer[i]!;
      } else {
        param[i] = param[i]! - lr * (g / avg);
      }
    }
  }
}
