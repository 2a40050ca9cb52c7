import { dropout as dropoutOp, embedding, linear, type Variable } from '../autograd/index.js';
import {
  ConfigError, Rng, Tensor, expected, rejectUnknownOptions, requireBoolean, requireDType, requirePositiveInt, show,
  type DType,
} from '../tensor/index.js';
import { Module, type Parameter } from './module.js';

export interface LinearOptions {
  bias?: boolean;
  rng?: Rng;
  dtype?: DType;
}

/** y = x·Wᵀ + b, W [out, in]; PyTorch's default init U(±1/√in) for both. */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(readonly inFeatures: number, readonly outFeatures: number, options: LinearOptions = {}) {
    super();
    rejectUnknownOptions('Linear', options, ['bias', 'rng', 'dtype']);
    requirePositiveInt('Linear', 'inFeatures', inFeatures);
    requirePositiveInt('Linear', 'outFeatures', outFeatures);
    const bias = requireBoolean('Linear', 'bias', options.bias, true);
    const rng = options.rng ?? new Rng(0);
    const dtype = requireDType('Linear', options.dtype, 'float32');
    const bound = 1 / Math.sqrt(inFeatures);
    this.weight = this.addUniform('weight', [outFeatures, inFeatures], bound, rng, dtype);
    this.bias = bias ? this.addUniform('bias', [outFeatures], bound, rng, dtype) : null;
  }

  forward(x: Variable): Variable {
    return linear(x, this.weight, this.bias);
  }
}

export interface EmbeddingOptions {
  rng?: Rng;
  dtype?: DType;
}

/** A lookup table [num, dim], initialised N(0, 1) like PyTorch. */
export class Embedding extends Module {
  readonly weight: Parameter;

  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    rejectUnknownOptions('Embedding', options, ['rng', 'dtype']);
    requirePositiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    requirePositiveInt('Embedding', 'embeddingDim', embeddingDim);
    const dtype = requireDType('Embedding', options.dtype, 'float32');
    const rng = options.rng ?? new Rng(0);
    this.weight = this.addParameter('weight', Tensor.zeros([numEmbeddings, embeddingDim], dtype));
    for (let i = 0; i < this.weight.data.length; i++) this.weight.data[i] = rng.normal();
  }

  /** ids of any shape → [...shape, dim]. */
  forward(ids: ArrayLike<number>, shape: readonly number[] = [ids.length]): Variable {
    return embedding(this.weight, ids, shape);
  }
}

/** Inverted dropout, active only in training mode. */
export class Dropout extends Module {
  /** draws the masks; public so a trainer can reseed it (exact resume, checkpointed recomputation) */
  readonly rng: Rng;

  constructor(readonly p: number, rng: Rng = new Rng(0)) {
    super();
    if (!(typeof p === 'number' && p >= 0 && p < 1)) throw new ConfigError(expected('Dropout', 'p in [0, 1)', show(p)));
    this.rng = rng;
  }

  forward(x: Variable): Variable {
    return this.training ? dropoutOp(x, this.p, this.rng) : x;
  }
}
