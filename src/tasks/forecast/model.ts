import { add, concat, constant, reshape, slice, type Variable } from '../../autograd/index.js';
import type { Unrollable, Unrolled } from '../../bptt/index.js';
import {
  GRU, LSTM, Linear, Module, rejectUnknownOptions, requirePositiveInt, type HiddenState, type Recurrent,
} from '../../nn/index.js';
import { ConfigError, Rng, Tensor, expected, quoted, show, textOf } from '../../tensor/index.js';
import { forecastLoss, validateLoss, type LossSpec } from './losses.js';
import type { ForecastBatch } from './windows.js';

/**
 * direct: one head reads the last state and outputs all H offsets at once;
 * recursive: a one-step head whose prediction is fed back as the next input,
 *   H times, with the error sent back through the whole recursion.
 */
export type ForecastMode = 'direct' | 'recursive';

/** Everything needed to rebuild the model (saved with every checkpoint). */
export interface ForecasterConfig {
  cell: 'lstm' | 'gru';
  hidden: number;
  layers: number;
  mode: ForecastMode;
  /** series columns read (and, recursive, predicted): the target first */
  series: number;
  /** calendar features per step */
  calendar: number;
  lookback: number;
  horizon: number;
  /** the differencing lag D: the recursive mode sums its predictions every D steps into level offsets */
  lag: number;
  /** μ/σ per series column: what each differencing step adds to a level offset when z = 0 (zeros for D = 0) */
  drift: number[];
  loss: LossSpec;
  /**
   * P > 0 adds a linear autoregressive "highway" (LSTNet, Lai et al. 2018):
   * a linear map of the target's last P inputs added to the head's output,
   * so the recurrent network learns what a linear model cannot
   */
  highway: number;
  /** LSTM: initial forget-gate bias */
  forgetBias: number;
  seed: number;
}

const KEYS = ['cell', 'hidden', 'layers', 'mode', 'series', 'calendar', 'lookback', 'horizon', 'lag', 'drift', 'loss', 'highway', 'forgetBias', 'seed'];

export function validateForecasterConfig(c: ForecasterConfig, where = 'Forecaster'): ForecasterConfig {
  if (c === null || typeof c !== 'object') throw new ConfigError(expected(where, 'a config object', textOf(c)));
  rejectUnknownOptions(where, c, KEYS);
  if (c.cell !== 'lstm' && c.cell !== 'gru') {
    throw new ConfigError(expected(where, "cell 'lstm' or 'gru'", quoted(c.cell)));
  }
  if (c.mode !== 'direct' && c.mode !== 'recursive') {
    throw new ConfigError(expected(where, "mode 'direct' or 'recursive'", quoted(c.mode)));
  }
  for (const k of ['hidden', 'layers', 'series', 'lookback', 'horizon'] as const) requirePositiveInt(where, k, c[k]);
  for (const k of ['calendar', 'lag', 'highway', 'seed'] as const) {
    if (!(Number.isInteger(c[k]) && c[k] >= 0)) {
      throw new ConfigError(expected(where, `${k} an integer >= 0`, show(c[k])));
    }
  }
  if (!(Array.isArray(c.drift) && c.drift.length === c.series && c.drift.every(Number.isFinite))) throw new ConfigError(expected(where, `drift: ${c.series} finite numbers`, textOf(c.drift)));
  if (!Number.isFinite(c.forgetBias) || (c.forgetBias !== 0 && c.cell !== 'lstm')) {
    throw new ConfigError(expected(where, 'forgetBias finite, and 0 unless the cell is an LSTM', show(c.forgetBias)));
  }
  if (c.highway > c.lookback) {
    throw new ConfigError(expected(where, `highway <= lookback (${c.lookback})`, show(c.highway)));
  }
  validateLoss(c.loss, `${where}: loss`);
  if (c.mode === 'recursive' && c.loss.kind === 'quantile') {
    throw new ConfigError(expected(where, 'a point loss (mse, mae, huber) in recursive mode', 'quantile', 'quantiles need the direct mode: a fed-back prediction must be one value'));
  }
  return c;
}

/** The recursion's carried values: the recurrent state and the predictions made so far (on the tape). */
export interface ForecastState {
  rnn: HiddenState | null;
  preds: Variable[];
}

/**
 * An LSTM or GRU forecaster over windows of a multivariate series, with the
 * parameter names of this PyTorch module (direct mode; recursive: head = Linear(hidden, series)):
 *     class Forecaster(nn.Module):
 *         def __init__(self, inputs, hidden, layers, horizon, quantiles=1):
 *             super().__init__()
 *             self.rnn = nn.LSTM(inputs, hidden, layers)
 *             self.head = nn.Linear(hidden, horizon * quantiles)
 * It predicts level offsets v (see scaling.ts), which the caller turns into levels.
 */
export class Forecaster extends Module implements Unrollable<ForecastBatch, ForecastState> {
  readonly config: ForecasterConfig;
  readonly rnn: Recurrent;
  readonly head: Linear;
  readonly highway: Linear | null;

  constructor(config: ForecasterConfig) {
    super();
    const c = (this.config = validateForecasterConfig({ ...config }));
    const rng = new Rng(c.seed);
    const common = { inputSize: c.series + c.calendar, hiddenSize: c.hidden, numLayers: c.layers, rng: rng.split() };
    this.rnn = this.addModule('rnn', c.cell === 'lstm' ? new LSTM(common) : new GRU(common));
    if (c.forgetBias) {
      for (const [name, p] of this.rnn.namedParameters()) if (name.startsWith('bias_hh_')) p.value.data.fill(c.forgetBias, c.hidden, 2 * c.hidden); // gates i, f, g, o
    }
    const outputs = c.mode === 'direct' ? c.horizon * this.outputsPerStep : c.series;
    this.head = this.addModule('head', new Linear(c.hidden, outputs, { rng: rng.split() }));
    this.highway = c.highway ? this.addModule('highway', new Linear(c.highway, outputs, { bias: false, rng: rng.split() })) : null;
  }

  /** values per forecast step: the quantiles, or one point forecast */
  get outputsPerStep(): number {
    return this.config.loss.kind === 'quantile' ? this.config.loss.quantiles!.length : 1;
  }

  steps(b: ForecastBatch): number {
    return this.config.mode === 'direct' ? b.lookback : b.lookback + b.horizon - 1;
  }

  /**
   * Steps [from, to): first the observed lookback, then (recursive) one step
   * per fed-back prediction. The loss, over all H level offsets, comes with the last step.
   */
  unroll(b: ForecastBatch, from: number, to: number, state: ForecastState | null, wantLoss: boolean): Unrolled<ForecastState> {
    this.checkBatch(b);
    const { lookback: L, batch: B } = b;
    const F = this.config.series + this.config.calendar;
    let rnn = state?.rnn ?? null;
    const preds = [...(state?.preds ?? [])];
    const step = (x: Variable): Variable => {
      const r = this.rnn.forward(x, rnn ?? undefined);
      rnn = r.state;
      const T = x.shape[0]!;
      const out = this.head.forward(reshape(slice(r.output, 0, T - 1, T), [B, this.config.hidden]));
      return this.highway ? add(out, this.highway.forward(this.recentTarget(b, preds))) : out;
    };
    if (from < L) {
      const end = Math.min(to, L);
      const x = this.constant(b.inputs.subarray(from * B * F, end * B * F), [end - from, B, F]);
      if (end === L) preds.push(step(x));
      else rnn = this.rnn.forward(x, rnn ?? undefined).state;
    }
    for (let k = Math.max(from, L); k < to; k++) {
      // Step k reads the prediction of row t + h, h = k − L + 1, with that row's calendar.
      const C = this.config.calendar;
      const fed = C ? concat([preds[preds.length - 1]!, this.constant(b.future.subarray((k - L) * B * C, (k - L + 1) * B * C), [B, C])], 1) : preds[preds.length - 1]!;
      preds.push(step(reshape(fed, [1, B, F])));
    }
    const next = { rnn, preds };
    if (!wantLoss || to < this.steps(b)) return { state: next, loss: null, terms: 0 };
    if (!b.targets) throw new ConfigError(expected('Forecaster.unroll', 'a batch with targets to compute a loss', 'a batch without'));
    const v = this.offsets(preds, B);
    const target = this.config.mode === 'direct' ? this.targetColumn(b) : Tensor.from(b.targets, [B, b.horizon, this.config.series], this.dtype);
    const loss = forecastLoss(this.config.loss, v, target);
    return { state: next, loss, terms: target.size };
  }

  /** The predicted level offsets [B, H, Q] of the target (Q = quantiles or 1), no tape. */
  predictOffsets(b: ForecastBatch): Float64Array {
    const wasTraining = this.training;
    this.eval();
    try {
      const { state } = this.unroll(b, 0, this.steps(b), null, false);
      const v = this.offsets(state.preds, b.batch).data;
      const Q = this.outputsPerStep, S = this.config.series;
      if (this.config.mode === 'direct') return Float64Array.from(v);
      return Float64Array.from({ length: b.batch * b.horizon * Q }, (_, i) => v[i * S]!); // column 0, the target
    } finally {
      this.train(wasTraining);
    }
  }

  /**
   * Direct: the head's output as [B, H, Q]. Recursive: the predicted z of
   * every step integrated into level offsets, v_h = v_{h−D} + z_h + μ/σ
   * (v_h = z_h without differencing), as [B, H, series].
   */
  private offsets(preds: readonly Variable[], B: number): Variable {
    const { horizon: H, lag: D, series: S } = this.config;
    if (this.config.mode === 'direct') return reshape(preds[0]!, [B, H, this.outputsPerStep]);
    const drift = D ? this.constant(Array.from({ length: B * S }, (_, i) => this.config.drift[i % S]!), [B, S]) : null;
    const v: Variable[] = [];
    preds.forEach((z, i) => {
      const h = i + 1;
      const step = drift ? add(z, drift) : z;
      v.push(D && h > D ? add(v[h - D - 1]!, step) : step);
    });
    return concat(v.map((x) => reshape(x, [B, 1, S])), 1);
  }

  /**
   * The target's last P inputs before the next prediction, [B, P]: observed
   * rows of the window, then (recursive) the predictions fed back since.
   */
  private recentTarget(b: ForecastBatch, preds: readonly Variable[]): Variable {
    const P = this.config.highway, B = b.batch, L = b.lookback, F = this.config.series + this.config.calendar;
    const fed = this.config.mode === 'recursive' ? Math.min(P, preds.length) : 0;
    const parts: Variable[] = [];
    const seen = P - fed;
    if (seen > 0) {
      const values = new Float64Array(B * seen);
      for (let i = 0; i < B; i++) for (let j = 0; j < seen; j++) values[i * seen + j] = b.inputs[((L - seen + j) * B + i) * F]!;
      parts.push(this.constant(values, [B, seen]));
    }
    for (const z of preds.slice(preds.length - fed)) parts.push(slice(z, 1, 0, 1));
    return parts.length === 1 ? parts[0]! : concat(parts, 1);
  }

  private targetColumn(b: ForecastBatch): Tensor {
    const S = this.config.series;
    const n = b.batch * b.horizon;
    const shape = this.config.loss.kind === 'quantile' ? [b.batch, b.horizon] : [b.batch, b.horizon, 1];
    return Tensor.from(Array.from({ length: n }, (_, i) => b.targets![i * S]!), shape, this.dtype);
  }

  private constant(values: ArrayLike<number>, shape: number[]): Variable {
    return constant(values, shape, this.head.weight);
  }

  private checkBatch(b: ForecastBatch): void {
    const c = this.config;
    if (b.lookback !== c.lookback || b.horizon !== c.horizon) {
      throw new ConfigError(expected('Forecaster', `windows of lookback ${c.lookback} and horizon ${c.horizon}`, `lookback ${b.lookback}, horizon ${b.horizon}`));
    }
    if (b.inputs.length !== b.lookback * b.batch * (c.series + c.calendar)) {
      throw new ConfigError(expected('Forecaster', `${c.series + c.calendar} inputs per step`, `${b.inputs.length / (b.lookback * b.batch)}`));
    }
  }
}
