import { output, record, type Variable } from '../variable.js';
import { addInto, checkSameDtype, checkSameShape, zerosLike } from './util.js';

/** a + b (same shapes). */
export function add(a: Variable, b: Variable): Variable {
  checkSameShape('add', a, b);
  checkSameDtype('add', [a, b]);
  const out = output(zerosLike(a));
  const y = out.data, x1 = a.data, x2 = b.data;
  for (let i = 0; i < y.length; i++) y[i] = x1[i]! + x2[i]!;
  record('add', [a, b], [out], () => {
    const g = out.grad!.data;
    if (a.requiresGrad) addInto(a.gradData(), g);
    if (b.requiresGrad) addInto(b.gradData(), g);
  });
  return out;
}

/** a - b (same shapes). */
export function sub(a: Variable, b: Variable): Variable {
  checkSameShape('sub', a, b);
  checkSameDtype('sub', [a, b]);
  const out = output(zerosLike(a));
  const y = out.data, x1 = a.data, x2 = b.data;
  for (let i = 0; i < y.length; i++) y[i] = x1[i]! - x2[i]!;
  record('sub', [a, b], [out], () => {
    const g = out.grad!.data;
    if (a.requiresGrad) addInto(a.gradData(), g);
    if (b.requiresGrad) {
      const gb = b.gradData();
      for (let i = 0; i < g.length; i++) gb[i]! -= g[i]!;
    }
  });
  return out;
}

/** a ⊙ b (same shapes). */
export function mul(a: Variable, b: Variable): Variable {
  checkSameShape('mul', a, b);
  checkSameDtype('mul', [a, b]);
  const out = output(zerosLike(a));
  const y = out.data, x1 = a.data, x2 = b.data;
  for (let i = 0; i < y.length; i++) y[i] = x1[i]! * x2[i]!;
  record('mul', [a, b], [out], () => {
    const g = out.grad!.data;
    if (a.requiresGrad) {
      const ga = a.gradData();
      for (let i = 0; i < g.length; i++) ga[i]! += g[i]! * x2[i]!;
    }
    if (b.requiresGrad) {
      const gb = b.gradData();
      for (let i = 0; i < g.length; i++) gb[i]! += g[i]! * x1[i]!;
    }
  });
  return out;
}

/** s · a for a constant s. */
export function scale(a: Variable, s: number): Variable {
  const out = output(zerosLike(a));
  const y = out.data, x = a.data;
  for (let i = 0; i < y.length; i++) y[i] = s * x[i]!;
  record('scale', [a], [out], () => {
    const g = out.grad!.data, ga = a.gradData();
    for (let i = 0; i < g.length; i++) ga[i]! += s * g[i]!;
  });
  return out;
}

/**
 * Element-wise f with derivative written in terms of the input x and output y,
 * so each activation is two lines below.
 */
function unary(name: string, f: (x: number) => number, df: (x: number, y: number) => number) {
  return (a: Variable): Variable => {
    const out = output(zerosLike(a));
    const y = out.data, x = a.data;
    for (let i = 0; i < y.length; i++) y[i] = f(x[i]!);
    record(name, [a], [out], () => {
      const g = out.grad!.data, ga = a.gradData();
      for (let i = 0; i < g.length; i++) ga[i]! += g[i]! * df(x[i]!, y[i]!);
    });
    return out;
  };
}

export const tanh = unary('tanh', Math.tanh, (_x, y) => 1 - y * y);
export const sigmoid = unary('sigmoid', (x) => 1 / (1 + Math.exp(-x)), (_x, y) => y * (1 - y));
export const relu = unary('relu', (x) => (x > 0 ? x : 0), (x) => (x > 0 ? 1 : 0));
export const exp = unary('exp', Math.exp, (_x, y) => y);
export const log = unary('log', Math.log, (x) => 1 / x);
export const square = unary('square', (x) => x * x, (x) => 2 * x);

/** Sum of all elements, as a one-element variable. */
export function sum(a: Variable): Variable {
  const out = output(zerosLike(a, []));
  let s = 0;
  for (const v of a.data) s += v;
  out.data[0] = s;
  record('sum', [a], [out], () => {
    const g = out.grad!.data[0]!, ga = a.gradData();
    for (let i = 0; i < ga.length; i++) ga[i]! += g;
  });
  return out;
}

/** Mean of all elements. */
export function mean(a: Variable): Variable {
  return scale(sum(a), 1 / Math.max(1, a.value.size));
}
