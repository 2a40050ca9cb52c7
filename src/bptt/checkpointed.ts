import { add, constant, mul, noGrad, scale, sum, type Variable } from '../autograd/index.js';
import type { FlowRecorder } from './diagnostics.js';
import type { Unrollable } from './unrolled.js';
import { detachState, leafState, stateVariables } from './state.js';
import { segmentLength, type Strategy } from './strategy.js';

/**
 * Full-BPTT gradients with O(√T) activation memory (Chen et al. 2016; Gruslys
 * et al. 2016): a forward pass without the tape keeps only the states at
 * segment boundaries; then, from the last segment to the first, each segment is
 * recomputed on the tape from its saved state and back-propagated, seeded with
 * the gradient that the later segments sent into its final state.
 */
export function checkpointedGradient<B, S>(
  model: Unrollable<B, S>, batch: B, T: number, strategy: Strategy, s0: S | null, recorder: FlowRecorder | null,
): { loss: number; terms: number; state: S | null } {
  const k = segmentLength(T, strategy);
  const starts: number[] = [];
  for (let a = 0; a < T; a += k) starts.push(a);
  const saved: Array<S | null> = [s0];
  let totalLoss = 0;
  let terms = 0;
  let state = s0;
  const firstPass = () => {
    for (const a of starts) {
      const r = model.unroll(batch, a, Math.min(a + k, T), state, true);
      totalLoss += r.loss ? r.loss.item() : 0;
      terms += r.terms;
      state = r.state;
      saved.push(state);
    }
  };
  noGrad(() => (recorder ? recorder.muted(firstPass) : firstPass()));
  const final = state;
  if (terms === 0) return { loss: NaN, terms, state: final };

  // dL/d(state at the end of the current segment), from the segments after it.
  let seed: Float64Array[] | null = null;
  for (let j = starts.length - 1; j >= 0; j--) {
    const a = starts[j]!;
    const start = saved[j] ? leafState(detachState(saved[j]!)) : null;
    recorder?.beginSegment(a);
    const r = model.unroll(batch, a, Math.min(a + k, T), start, true);
    let objective: Variable | null = r.loss ? scale(r.loss, 1 / terms) : null;
    if (seed) {
      const ends = stateVariables(r.state);
      for (let i = 0; i < ends.length; i++) {
        const v = ends[i]!;
        const dot = sum(mul(v, constant(seed[i]!, v.shape, v)));
        objective = objective ? add(objective, dot) : dot;
      }
    }
    objective?.backward();
    seed = start ? stateVariables(start).map((v) => Float64Array.from(v.grad?.data ?? new Float64Array(v.value.size))) : null;
  }
  return { loss: totalLoss / terms, terms, state: final };
}
