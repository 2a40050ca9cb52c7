import { Variable } from '../autograd/index.js';
import { ShapeError, Tensor, expected } from '../tensor/index.js';

/** A recurrent state: a Variable or a record / array of them (e.g. { h, c } or one per layer). */
export type StateTree = Variable | readonly StateTree[] | { readonly [key: string]: StateTree };

/** The same structure with every Variable replaced by f(v). */
export function mapState<S>(state: S, f: (v: Variable) => Variable): S {
  if (state instanceof Variable) return f(state) as S;
  if (Array.isArray(state)) return state.map((s) => mapState(s, f)) as S;
  if (state && typeof state === 'object') {
    return Object.fromEntries(Object.entries(state).map(([k, v]) => [k, mapState(v, f)])) as S;
  }
  return state;
}

export function stateVariables(state: unknown): Variable[] {
  const out: Variable[] = [];
  mapState(state, (v) => (out.push(v), v));
  return out;
}

/** Cut from the tape: gradients stop at this state (truncation, batch boundaries). */
export function detachState<S>(state: S): S {
  return mapState(state, (v) => v.detach());
}

/** Fresh leaves holding the same values, which collect dL/d(state) during backward. */
export function leafState<S>(state: S): S {
  return mapState(state, (v) => new Variable(v.value, true, v.name));
}

/**
 * Zeroes the rows of every state tensor whose batch entry is set in `reset`
 * (a new document starts there). The batch axis is the one before the last,
 * as in [layers, B, H] and [B, H].
 */
export function resetRows<S>(state: S, reset: ArrayLike<number | boolean>): S {
  return mapState(state, (v) => {
    const rank = v.shape.length;
    const B = v.shape[rank - 2];
    if (rank < 2 || B !== reset.length) {
      throw new ShapeError(expected('resetRows', `state tensors [..., ${reset.length}, H] for ${reset.length} reset flags`, [...v.shape]));
    }
    const H = v.shape[rank - 1]!;
    const data = v.data.slice();
    for (let o = 0; o < data.length; o += B * H) {
      for (let b = 0; b < B; b++) if (reset[b]) data.fill(0, o + b * H, o + (b + 1) * H);
    }
    return new Variable(new Tensor(v.shape, data), false, v.name);
  });
}
