import { ConfigError, expected, show, type Rng } from '../../tensor/index.js';
import { output, record, type Variable } from '../variable.js';
import { zerosLike } from './util.js';

/** Inverted dropout: zeroes each element with probability p and scales survivors by 1/(1-p). */
export function dropout(x: Variable, p: number, rng: Rng): Variable {
  if (!(p >= 0 && p < 1)) throw new ConfigError(expected('dropout', 'p in [0, 1)', show(p)));
  if (p === 0) return x;
  const keep = 1 / (1 - p);
  const mask = zerosLike(x).data;
  for (let i = 0; i < mask.length; i++) mask[i] = rng.uniform() < p ? 0 : keep;
  const out = output(zerosLike(x));
  for (let i = 0; i < mask.length; i++) out.data[i] = x.data[i]! * mask[i]!;
  record('dropout', [x], [out], () => {
    const g = out.grad!.data, gx = x.gradData();
    for (let i = 0; i < g.length; i++) gx[i]! += g[i]! * mask[i]!;
  });
  return out;
}
