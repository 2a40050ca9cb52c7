import type { Variable } from '../autograd/variable.js';
import { ConfigError, expected, type Arr, type Tensor } from '../tensor/index.js';
import { Optimizer, flagOption, numberOption, readOptions, zerosLike, type ParamState } from './optimizer.js';

export interface SGDOptions {
  /** Required: PyTorch's historical SGD has no default learning rate. */
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

export type SGDConfig = { momentum: number; dampening: number; nesterov: boolean; weightDecay: number };
type SGDBuffers = { momentumBuffer?: Arr };

const KEYS = ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay'] as const;

/** Stochastic gradient descent with optional (Nesterov) momentum: `torch.optim.SGD`. */
export class SGD extends Optimizer<SGDBuffers> {
  readonly config: Readonly<SGDConfig>;

  constructor(params: readonly Variable[], options: SGDOptions) {
    const o = readOptions('SGD', options, KEYS);
    const lr = numberOption('SGD', o, 'lr', undefined);
    const config: SGDConfig = {
      momentum: numberOption('SGD', o, 'momentum', 0),
      // Dampening is the weight kept from the old buffer's complement; outside [0, 1] it flips signs.
      dampening: numberOption('SGD', o, 'dampening', 0, { max: 1 }),
      nesterov: flagOption('SGD', o, 'nesterov', false),
      weightDecay: numberOption('SGD', o, 'weightDecay', 0),
    };
    if (config.nesterov && (config.momentum <= 0 || config.dampening !== 0)) {
      const got = `momentum ${config.momentum}, dampening ${config.dampening}`;
      throw new ConfigError(expected('SGD', 'momentum > 0 and dampening 0 with nesterov', got));
    }
    super('SGD', params, lr);
    this.config = Object.freeze(config);
  }

  protected initBuffers(value: Tensor): SGDBuffers {
    return this.config.momentum !== 0 ? { momentumBuffer: zerosLike(value) } : {};
  }

  protected update(param: Arr, grad: Arr, s: ParamState<SGDBuffers>): void {
    const { momentum, dampening, nesterov, weightDecay } = this.config;
    const lr = this.lr;
    const buf = s.buffers.momentumBuffer;
    // PyTorch starts the buffer as a copy of the first gradient (no dampening on step 1).
    const first = s.step === 1;
    for (let i = 0; i < param.length; i++) {
      let d = grad[i]! + weightDecay * param[i]!;
      if (buf) {
        const b = first ? d : momentum * buf[i]! + (1 - dampening) * d;
        buf[i] = b;
        d = nesterov ? d + momentum * buf[i]! : buf[i]!;
      }
      param[i] = param[i]! - lr * d;
    }
  }
}
