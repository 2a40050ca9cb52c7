import type { Variable } from '../autograd/variable.js';
import type { Arr, Tensor } from '../tensor/index.js';
import { Optimizer, numberOption, readOptions, zerosLike, type ParamState } from './optimizer.js';

export interface AdagradOptions {
  lr?: number;
  lrDecay?: number;
  weightDecay?: number;
  initialAccumulatorValue?: number;
  eps?: number;
}

export type AdagradConfig = { lrDecay: number; weightDecay: number; initialAccumulatorValue: number; eps: number };
type AdagradBuffers = { sum: Arr };

const KEYS = ['lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps'] as const;

/** Adagrad (`torch.optim.Adagrad`): per-coordinate steps shrink with the accumulated squared gradient. */
export class Adagrad extends Optimizer<AdagradBuffers> {
  readonly config: Readonly<AdagradConfig>;

  constructor(params: readonly Variable[], options: AdagradOptions = {}) {
    const o = readOptions('Adagrad', options, KEYS);
    const lr = numberOption('Adagrad', o, 'lr', 1e-2);
    const config: AdagradConfig = {
      lrDecay: numberOption('Adagrad', o, 'lrDecay', 0),
      weightDecay: numberOption('Adagrad', o, 'weightDecay', 0),
      initialAccumulatorValue: numberOption('Adagrad', o, 'initialAccumulatorValue', 0),
      eps: numberOption('Adagrad', o, 'eps', 1e-10),
    };
    super('Adagrad', params, lr);
    this.config = Object.freeze(config);
  }

  protected initBuffers(value: Tensor): AdagradBuffers {
    const sum = zerosLike(value);
    sum.fill(this.config.initialAccumulatorValue);
    return { sum };
  }

  protected update(param: Arr, grad: Arr, s: ParamState<AdagradBuffers>): void {
    const { lrDecay, weightDecay, eps } = this.config;
    // The decay counts this parameter's own steps, so the first step uses the full lr.
    const clr = this.lr / (1 + (s.step - 1) * lrDecay);
    const sum = s.buffers.sum;
    for (let i = 0; i < param.length; i++) {
      const g = grad[i]! + weightDecay * param[i]!;
      sum[i] = sum[i]! + g * g;
      param[i] = param[i]! - clr * (g / (Math.sqrt(sum[i]!) + eps));
    }
  }
}
