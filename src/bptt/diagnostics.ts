import type { LayerProbe, Recurrent } from '../nn/index.js';
import type { Arr } from '../tensor/index.js';

/** Mean activation and share of saturated units for one gate (estimated from a strided sample of steps and rows). */
export interface GateStats {
  mean: number;
  /** sigmoid gates below 0.1 or above 0.9; tanh-like ones with |a| > 0.9 */
  saturated: number;
}

export interface LayerFlow {
  /** ||dL/dh_t|| over batch and units, for each step of the window (NaN where not reached) */
  dh: Float64Array;
  /** ||dL/dc_t|| along the cell path (LSTM only) */
  dc: Float64Array | null;
  gates: Record<string, GateStats>;
}

/** What one update saw: per layer (`lstm.l0`, `lstm.l0_reverse`, ...) and globally. */
export interface FlowRecord {
  update: number;
  /** first step of the window: dh[i] belongs to step windowStart + i */
  windowStart: number;
  layers: Record<string, LayerFlow>;
  /** global gradient norm before clipping */
  gradNorm: number;
  clipped: boolean;
}

const SIGMOID_GATES = new Set(['i', 'f', 'o', 'r', 'z']);

interface GateSums {
  sum: Float64Array;
  saturated: Float64Array;
  count: number;
}

/**
 * Gradient-flow diagnostics, cheap enough to leave on: attached to recurrent
 * layers, it records per step ||dL/dh_t|| (and ||dL/dc_t||) and per gate the
 * mean activation and saturation, for every update the engine makes.
 */
export class FlowRecorder {
  readonly records: FlowRecord[] = [];
  private current: { window: number; windowStart: number; offset: number; layers: Map<string, { flow: LayerFlow; sums: GateSums | null; names: readonly string[] }> } | null = null;

  /** Keep at most this many records (oldest dropped). */
  constructor(private readonly keep = 10_000) {}

  /** Instruments the layers; names are `<label>.l<k>[_reverse]` with label 'rnn', 'rnn1', ... in the order given. */
  attach(layers: readonly Recurrent[]): this {
    layers.forEach((layer, i) => {
      const label = `${layer.kind.toLowerCase()}${layers.length > 1 ? i : ''}`;
      layer.flowProbe = (l, d) => this.probe(`${label}.l${l}${d === 1 ? '_reverse' : ''}`);
    });
    return this;
  }

  detach(layers: readonly Recurrent[]): void {
    for (const layer of layers) layer.flowProbe = null;
  }

  /** Called by the engine before an update's forward passes. */
  beginUpdate(windowStart: number, windowLength: number): void {
    this.current = { window: windowLength, windowStart, offset: windowStart, layers: new Map() };
  }

  /** Runs fn with recording off (the checkpointed strategy's tape-free first pass). */
  muted<T>(fn: () => T): T {
    const c = this.current;
    this.current = null;
    try {
      return fn();
    } finally {
      this.current = c;
    }
  }

  /** Called by the engine before each unroll over [from, to): probes created now map their local t to from + t. */
  beginSegment(from: number): void {
    if (this.current) this.current.offset = from;
  }

  /** Called by the engine when the update is done. */
  endUpdate(update: number, gradNorm: number, clipped: boolean): FlowRecord | null {
    const c = this.current;
    this.current = null;
    if (!c) return null;
    const layers: Record<string, LayerFlow> = {};
    for (const [name, { flow, sums, names }] of c.layers) {
      if (sums && sums.count > 0) {
        names.forEach((g, k) => (flow.gates[g] = { mean: sums.sum[k]! / sums.count, saturated: sums.saturated[k]! / sums.count }));
      }
      layers[name] = flow;
    }
    const record: FlowRecord = { update, windowStart: c.windowStart, layers, gradNorm, clipped };
    this.records.push(record);
    if (this.records.length > this.keep) this.records.shift();
    return record;
  }

  private entry(name: string) {
    const c = this.current!;
    let e = c.layers.get(name);
    if (!e) {
      e = { flow: { dh: new Float64Array(c.window).fill(NaN), dc: null, gates: {} }, sums: null, names: [] };
      c.layers.set(name, e);
    }
    return e;
  }

  private probe(name: string): LayerProbe {
    const c = this.current;
    if (!c) return {};
    const shift = c.offset - c.windowStart;
    return {
      forward: (acts, T, B, H, names) => {
        const e = this.entry(name);
        e.names = names;
        e.sums ??= { sum: new Float64Array(names.length), saturated: new Float64Array(names.length), count: 0 };
        accumulateGateStats(e.sums, acts, T * B, H, names);
      },
      backward: (t, dh, dc) => {
        const e = this.entry(name);
        e.flow.dh[shift + t] = norm(dh);
        if (dc) (e.flow.dc ??= new Float64Array(e.flow.dh.length).fill(NaN))[shift + t] = norm(dc);
      },
    };
  }
}

function norm(a: Arr): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
}

/** Gate statistics read at most this many (step, batch row) pairs per layer call, evenly strided: estimates, kept cheap. */
const SAMPLED_ROWS = 256;

function accumulateGateStats(sums: GateSums, acts: Arr, rows: number, H: number, names: readonly string[]): void {
  const G = names.length * H;
  const stride = Math.max(1, Math.floor(rows / SAMPLED_ROWS));
  let sampled = 0;
  for (let r = 0; r < rows; r += stride) sampled++;
  names.forEach((g, k) => {
    const sigmoid = SIGMOID_GATES.has(g);
    let total = 0, saturated = 0;
    for (let r = 0; r < rows; r += stride) {
      for (let j = r * G + k * H, end = j + H; j < end; j++) {
        const a = acts[j]!;
        total += a;
        if (sigmoid ? a < 0.1 || a > 0.9 : Math.abs(a) > 0.9) saturated++;
      }
    }
    sums.sum[k]! += total / H;
    sums.saturated[k]! += saturated / H;
  });
  sums.count += sampled;
}
