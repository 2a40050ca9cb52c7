import type { Variable } from '../autograd/variable.js';
import { ConfigError, expected, show, type Arr, type Tensor } from '../tensor/index.js';
import { kernels, residentZeros, type AdamStep } from '../kernels/index.js';
import { Optimizer, checkNumber, flagOption, numberOption, readOptions, zerosLike, type ParamState } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  betas?: readonly [number, number];
  eps?: number;
  weightDecay?: number;
  amsgrad?: boolean;
}

export type AdamConfig = { betas: readonly [number, number]; eps: number; weightDecay: number; amsgrad: boolean };
type AdamBuffers = { expAvg: Arr; expAvgSq: Arr; maxExpAvgSq?: Arr };

const KEYS = ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad'] as const;

/**
 * Shared by Adam and AdamW, which differ only in how weight decay enters:
 * added to the gradient (L2, Adam) or applied to the weights (decoupled, AdamW).
 */
export abstract class AdamBase extends Optimizer<AdamBuffers> {
  readonly config: Readonly<AdamConfig>;
  readonly #decoupled: boolean;

  protected constructor(type: string, params: readonly Variable[], options: AdamOptions, defaultDecay: number, decoupled: boolean) {
    const o = readOptions(type, options, KEYS);
    const lr = numberOption(type, o, 'lr', 1e-3);
    const config: AdamConfig = {
      betas: readBetas(type, o['betas'] ?? [0.9, 0.999]),
      eps: numberOption(type, o, 'eps', 1e-8),
      weightDecay: numberOption(type, o, 'weightDecay', defaultDecay),
      amsgrad: flagOption(type, o, 'amsgrad', false),
    };
    super(type, params, lr);
    this.config = Object.freeze(config);
    this.#decoupled = decoupled;
  }

  protected initBuffers(value: Tensor): AdamBuffers {
    // The moments live where the adam kernel reads them (wasm memory when it can): no copy in and out per step.
    const b: AdamBuffers = { expAvg: residentZeros(value.size, value.dtype), expAvgSq: residentZeros(value.size, value.dtype) };
    if (this.config.amsgrad) b.maxExpAvgSq = zerosLike(value);
    return b;
  }

  protected update(param: Arr, grad: Arr, s: ParamState<AdamBuffers>): void {
    const { betas, eps, weightDecay, amsgrad } = this.config;
    const step: AdamStep = {
      lr: this.lr,
      beta1: betas[0],
      beta2: betas[1],
      eps,
      bc1: 1 - betas[0] ** s.step,
      bc2: 1 - betas[1] ** s.step,
      weightDecay: this.#decoupled ? 0 : weightDecay,
      decoupledDecay: this.#decoupled ? this.lr * weightDecay : 0,
    };
    const { expAvg, expAvgSq, maxExpAvgSq } = s.buffers;
    if (amsgrad) amsgradUpdate(param, grad, expAvg, expAvgSq, maxExpAvgSq!, step);
    else kernels().adam(param, grad, expAvg, expAvgSq, step);
  }
}

/** Adam (`torch.optim.Adam`): weight decay is an L2 term added to the gradient. */
export class Adam extends AdamBase {
  constructor(params: readonly Variable[], options: AdamOptions = {}) {
    super('Adam', params, options, 0, false);
  }
}

/** AdamW (`torch.optim.AdamW`): weights shrink by lr·weightDecay each step, apart from the adaptive update. */
export class AdamW extends AdamBase {
  constructor(params: readonly Variable[], options: AdamOptions = {}) {
    super('AdamW', params, options, 1e-2, true);
  }
}

function readBetas(where: string, v: unknown): readonly [number, number] {
  if (!Array.isArray(v) || v.length !== 2) throw new ConfigError(expected(where, 'betas to be a pair [beta1, beta2]', show(v)));
  // Each beta must be < 1: at 1 the running average never moves and the bias correction divides by zero.
  const b1 = checkNumber(where, 'betas[0]', v[0], { max: 1, openTop: true });
  const b2 = checkNumber(where, 'betas[1]', v[1], { max: 1, openTop: true });
  return Object.freeze([b1, b2] as const);
}

/**
 * AMSGrad normalises by the running maximum of the second moment. Kept in plain
 * TS (the kernel has no max buffer); same operation order as the `adam` kernel.
 */
function amsgradUpdate(param: Arr, grad: Arr, m: Arr, v: Arr, vMax: Arr, s: AdamStep): void {
  const stepSize = s.lr / s.bc1;
  const sqrtBc2 = Math.sqrt(s.bc2);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i]! + s.weightDecay * param[i]!;
    const p = param[i]! * (1 - s.decoupledDecay);
    m[i] = s.beta1 * m[i]! + (1 - s.beta1) * g;
    v[i] = s.beta2 * v[i]! + (1 - s.beta2) * g * g;
    vMax[i] = Math.max(vMax[i]!, v[i]!);
    param[i] = p - (stepSize * m[i]!) / (Math.sqrt(vMax[i]!) / sqrtBc2 + s.eps);
  }
}
