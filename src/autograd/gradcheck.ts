import { ConfigError, Rng, expected } from '../tensor/index.js';
import { noGrad, type Variable } from './variable.js';

export interface GradcheckOptions {
  /** finite-difference step (default 1e-6) */
  eps?: number;
  /** pass when |analytic - numeric| <= atol + rtol·|numeric| (defaults 1e-5, 1e-3, as torch.autograd.gradcheck) */
  atol?: number;
  rtol?: number;
}

export interface GradcheckWorst {
  variable: string;
  index: number;
  analytic: number;
  numeric: number;
  /** |analytic - numeric| / (atol + rtol·|numeric|): above 1 fails */
  ratio: number;
}

export interface GradcheckReport {
  ok: boolean;
  checked: number;
  worst: GradcheckWorst | null;
  /** one line for assertion messages */
  message: string;
}

/**
 * Compares the tape's gradient of the scalar `f()` with central differences,
 * element by element, for every variable in `wrt` (float64 only). `f` must be
 * deterministic: rebuild anything random inside it from a fixed seed.
 */
export function gradcheck(f: () => Variable, wrt: readonly Variable[], options: GradcheckOptions = {}): GradcheckReport {
  const { eps, atol, rtol } = settings(options);
  const analytic = analyticGradients(f, wrt);
  const tally = new Tally(atol, rtol);
  wrt.forEach((v, k) => {
    const x = v.data;
    for (let i = 0; i < x.length; i++) {
      const numeric = centralDifference(f, () => (x[i] = x[i]! + eps), () => (x[i] = x[i]! - 2 * eps), () => (x[i] = x[i]! + eps), eps);
      tally.add(label(v, k), i, analytic[k]![i]!, numeric);
    }
  });
  return tally.report('gradcheck');
}

export interface DirectionalOptions extends GradcheckOptions {
  /** how many random directions (default 4) */
  directions?: number;
  rng?: Rng;
}

/**
 * For long sequences where one difference per element is too slow: along random
 * directions v, compares Σ grad·v with (f(x + εv) - f(x - εv)) / 2ε.
 */
export function gradcheckDirectional(f: () => Variable, wrt: readonly Variable[], options: DirectionalOptions = {}): GradcheckReport {
  const { eps, atol, rtol } = settings(options);
  const rng = options.rng ?? new Rng(1);
  const analytic = analyticGradients(f, wrt);
  const tally = new Tally(atol, rtol);
  for (let d = 0; d < (options.directions ?? 4); d++) {
    const dirs = wrt.map((v) => Float64Array.from(v.data, () => rng.normal()));
    let projected = 0;
    wrt.forEach((_, k) => dirs[k]!.forEach((vi, i) => (projected += vi * analytic[k]![i]!)));
    const shift = (s: number) => () => wrt.forEach((v, k) => dirs[k]!.forEach((vi, i) => (v.data[i] = v.data[i]! + s * vi)));
    const numeric = centralDifference(f, shift(eps), shift(-2 * eps), shift(eps), eps);
    tally.add(`direction ${d}`, d, projected, numeric);
  }
  return tally.report('gradcheckDirectional');
}

function settings(o: GradcheckOptions) {
  return { eps: o.eps ?? 1e-6, atol: o.atol ?? 1e-5, rtol: o.rtol ?? 1e-3 };
}

function label(v: Variable, k: number): string {
  return v.name || `input ${k}`;
}

function analyticGradients(f: () => Variable, wrt: readonly Variable[]): Float64Array[] {
  wrt.forEach((v, k) => {
    if (v.dtype !== 'float64') throw new ConfigError(expected('gradcheck', `float64 variables`, `${v.dtype} for '${label(v, k)}'`, "convert with .to('float64')"));
    if (!v.requiresGrad) throw new ConfigError(expected('gradcheck', 'variables that require grad', `'${label(v, k)}' without`));
    v.zeroGrad();
  });
  const y = f();
  if (y.value.size !== 1) throw new ConfigError(expected('gradcheck', 'f() to return a scalar', `shape [${y.shape.join(', ')}]`));
  y.backward();
  return wrt.map((v) => Float64Array.from(v.grad?.data ?? new Float64Array(v.value.size)));
}

function centralDifference(f: () => Variable, up: () => void, down: () => void, restore: () => void, eps: number): number {
  up();
  const fp = noGrad(f).item();
  down();
  const fm = noGrad(f).item();
  restore();
  return (fp - fm) / (2 * eps);
}

class Tally {
  checked = 0;
  worst: GradcheckWorst | null = null;
  constructor(private readonly atol: number, private readonly rtol: number) {}

  add(variable: string, index: number, analytic: number, numeric: number): void {
    this.checked++;
    const ratio = Math.abs(analytic - numeric) / (this.atol + this.rtol * Math.abs(numeric));
    const bad = Number.isNaN(ratio) ? Infinity : ratio;
    if (!this.worst || bad > this.worst.ratio) this.worst = { variable, index, analytic, numeric, ratio: bad };
  }

  report(where: string): GradcheckReport {
    const w = this.worst;
    const ok = !w || w.ratio <= 1;
    const message = w
      ? `${where}: ${ok ? 'passed' : 'FAILED'} on ${this.checked} checks; worst ${w.variable}[${w.index}]: analytic ${w.analytic}, numeric ${w.numeric} (${w.ratio.toFixed(3)} of tolerance)`
      : `${where}: nothing to check`;
    return { ok, checked: this.checked, worst: w, message };
  }
}
