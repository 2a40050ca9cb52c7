import { noGrad, type Variable } from '../autograd/index.js';
import type { Unrollable } from './engine.js';
import { stateVariables } from './state.js';
import type { Window } from './strategy.js';

/** Where the first non-finite value was found, or null when everything is finite. */
export function firstNonFinite(loss: number, parameters: readonly Variable[]): string | null {
  if (!Number.isFinite(loss)) return `loss is ${loss}`;
  for (const p of parameters) {
    const g = p.grad?.data;
    if (!g) continue;
    for (let i = 0; i < g.length; i++) {
      if (!Number.isFinite(g[i]!)) return `gradient of ${p.name || 'a parameter'} is ${g[i]} at index ${i}`;
    }
  }
  return null;
}

/**
 * Runs the window forward again one step at a time (only after the guard fired,
 * so it costs nothing otherwise) and names the first step whose state or loss
 * is not finite; if the forward pass is clean, the backward pass overflowed.
 */
export function locateFirstBadStep<B, S>(model: Unrollable<B, S>, batch: B, w: Window, s0: S | null): string {
  let state = s0;
  for (let t = w.start; t < w.end; t++) {
    const r = noGrad(() => model.unroll(batch, t, t + 1, state, t >= w.lossFrom));
    if (r.loss && !Number.isFinite(r.loss.item())) return `first non-finite loss at time step ${t}`;
    const bad = stateVariables(r.state).find((v) => v.data.some((x) => !Number.isFinite(x)));
    if (bad) return `first non-finite state at time step ${t}`;
    state = r.state;
  }
  return `the forward pass over steps ${w.start}..${w.end - 1} is finite: the gradients overflowed in the backward pass`;
}
