/**
 * Regression losses of forecasts, summed (the BPTT engine divides by the
 * number of terms): squared error (`mse` from losses/), absolute error,
 * Huber and the quantile (pinball) loss. Each records its backward next to
 * its forward. (They are general; losses/regression.ts is their natural home.)
 */
import { output, record, zerosLike, type Variable } from '../../autograd/index.js';
import { mse } from '../../losses/index.js';
import { ConfigError, ShapeError, expected, listOf, quoted, sameShape, show, type Tensor } from '../../tensor/index.js';

export type LossKind = 'mse' | 'mae' | 'huber' | 'quantile';

export interface LossSpec {
  kind: LossKind;
  /** Huber: where the quadratic turns linear (in the scaled units the network predicts) */
  delta?: number;
  /** quantile: the levels to predict, each in (0, 1), increasing */
  quantiles?: number[];
}

export function validateLoss(l: LossSpec, where = 'loss'): LossSpec {
  if (!['mse', 'mae', 'huber', 'quantile'].includes(l?.kind)) {
    throw new ConfigError(expected(where, "kind 'mse', 'mae', 'huber' or 'quantile'", quoted(l?.kind)));
  }
  if (l.kind === 'huber' && !(typeof l.delta === 'number' && l.delta > 0)) {
    throw new ConfigError(expected(where, 'a Huber delta > 0', show(l.delta)));
  }
  if (l.kind === 'quantile') {
    const q = l.quantiles;
    const ok = Array.isArray(q) && q.length > 0 && q.every((v, i) => v > 0 && v < 1 && (i === 0 || v > q[i - 1]!));
    if (!ok) {
      throw new ConfigError(expected(where, 'quantiles in (0, 1), increasing', q === undefined ? 'none' : listOf(q)));
    }
  }
  return l;
}

/** The summed loss of predictions against targets: the same shape for point losses; pred [..., Q] against target [...] for quantiles. */
export function forecastLoss(l: LossSpec, pred: Variable, target: Tensor): Variable {
  if (l.kind === 'quantile') return pinball(pred, target, l.quantiles!);
  if (l.kind === 'mse') return mse(pred, target, 'sum');
  if (l.kind === 'mae') return pointwise('mae', pred, target, (r) => Math.abs(r), (r) => Math.sign(r));
  const d = l.delta!;
  return pointwise('huber', pred, target, (r) => (Math.abs(r) <= d ? 0.5 * r * r : d * (Math.abs(r) - 0.5 * d)), (r) => (Math.abs(r) <= d ? r : d * Math.sign(r)));
}

/** Σ f(p − y), with f' written beside f. */
function pointwise(name: string, pred: Variable, target: Tensor, f: (r: number) => number, df: (r: number) => number): Variable {
  if (!sameShape(pred.shape, target.shape)) throw new ShapeError(expected(name, `target shape [${pred.shape.join(', ')}]`, [...target.shape]));
  const p = pred.data, y = target.data;
  let total = 0;
  for (let i = 0; i < p.length; i++) total += f(p[i]! - y[i]!);
  const out = output(zerosLike(pred, []));
  out.data[0] = total;
  record(name, [pred], [out], () => {
    const g = out.grad!.data[0]!, gp = pred.gradData();
    for (let i = 0; i < p.length; i++) gp[i]! += g * df(p[i]! - y[i]!);
  });
  return out;
}

/**
 * Σ over positions and quantiles of ρ_q(y − p), ρ_q(r) = q·r for r ≥ 0 and
 * (q − 1)·r below: its minimiser is the q-quantile of y. pred [..., Q].
 */
export function pinball(pred: Variable, target: Tensor, quantiles: readonly number[]): Variable {
  const Q = quantiles.length;
  if (!sameShape(pred.shape, [...target.shape, Q])) throw new ShapeError(expected('pinball', `predictions [${[...target.shape, Q].join(', ')}] for ${Q} quantiles`, [...pred.shape]));
  const p = pred.data, y = target.data;
  let total = 0;
  for (let i = 0; i < y.length; i++) {
    for (let k = 0; k < Q; k++) {
      const r = y[i]! - p[i * Q + k]!;
      total += r >= 0 ? quantiles[k]! * r : (quantiles[k]! - 1) * r;
    }
  }
  const out = output(zerosLike(pred, []));
  out.data[0] = total;
  record('pinball', [pred], [out], () => {
    const g = out.grad!.data[0]!, gp = pred.gradData();
    for (let i = 0; i < y.length; i++) {
      for (let k = 0; k < Q; k++) gp[i * Q + k]! += g * (y[i]! - p[i * Q + k]! > 0 ? -quantiles[k]! : 1 - quantiles[k]!);
    }
  });
  return out;
}
