import type { Arr } from '../../tensor/index.js';

/**
 * Sees inside a layer op without changing it. Time indices are positions in
 * the sequence (t = 0 is the first input), whatever the direction.
 */
export interface LayerProbe {
  /** activations [T, B, gates·H]: LSTM i,f,g,o; GRU r,z,n; RNN the outputs h */
  forward?(activations: Arr, steps: number, batch: number, hidden: number, gateNames: readonly string[]): void;
  /** dh: dL/dh_t, everything that reaches h_t (its output and the future); dc: dL/dc_t along the cell path (LSTM) */
  backward?(t: number, dh: Arr, dc: Arr | null): void;
}
