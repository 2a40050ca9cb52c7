/**
 * The engine's gradient-flow recorder, sampled for a report: every `every`
 * updates it records ||dL/dh_t|| per step and the share of saturated sigmoid
 * gates per layer into a ReportRecorder; the other updates run without probes
 * (the probes return nothing when no update is being recorded), so training
 * pays for one update in `every`. When the heatmap has more columns than it
 * keeps, it halves them and samples half as often.
 */
import { FlowRecorder, type FlowRecord } from '../bptt/index.js';
import type { Recurrent } from '../nn/index.js';
import { ConfigError, expected, show } from '../tensor/index.js';

/**
 * What the sampler writes to: a ReportRecorder. Only the members it uses, so that this file need not import
 * the recorder (which imports this file for `flowSampler()`).
 */
export interface FlowReport {
  readonly data: { readonly flow: Readonly<Record<string, { readonly columns: readonly unknown[] }>> };
  flowColumn(layer: string, update: number, column: Array<number | null>, maxColumns?: number): unknown;
  point(chart: string, line: string, x: number, y: number): unknown;
}

export interface FlowSamplerOptions {
  /** record one update in this many (default 10; doubled whenever the heatmap is thinned) */
  every?: number;
  /** heatmap columns kept per layer (default 160) */
  maxColumns?: number;
}

/** Gates whose activation is a sigmoid (LSTM i, f, o; GRU r, z). */
const SIGMOID_GATES = new Set(['i', 'f', 'o', 'r', 'z']);
/** Saturation statistics read at most this many (step, batch row) pairs per layer call, evenly strided. */
const SAMPLED_ROWS = 256;
export const SATURATION_LOW = 0.05;
export const SATURATION_HIGH = 0.95;

export class FlowSampler extends FlowRecorder {
  every: number;
  private readonly maxColumns: number;
  private calls = 0;
  private recording = false;
  private saturation = new Map<string, { saturated: number; total: number }>();

  constructor(private readonly report: FlowReport, options: FlowSamplerOptions = {}) {
    super(1); // the report keeps what matters; the recorder's own list stays short
    this.every = options.every ?? 10;
    this.maxColumns = options.maxColumns ?? 160;
    if (!(Number.isInteger(this.every) && this.every >= 1)) {
      throw new ConfigError(expected('FlowSampler', 'every an integer >= 1', show(this.every)));
    }
  }

  override attach(layers: readonly Recurrent[]): this {
    super.attach(layers);
    layers.forEach((layer, i) => {
      const inner = layer.flowProbe!;
      const label = `${layer.kind.toLowerCase()}${layers.length > 1 ? i : ''}`;
      layer.flowProbe = (l, d) => {
        const probe = inner(l, d);
        if (!this.recording || !probe.forward) return probe;
        const name = `${label}.l${l}${d === 1 ? '_reverse' : ''}`;
        return {
          ...probe,
          forward: (acts, T, B, H, names) => {
            probe.forward!(acts, T, B, H, names);
            this.countSaturation(name, acts, T * B, H, names);
          },
        };
      };
    });
    return this;
  }

  override beginUpdate(windowStart: number, windowLength: number): void {
    this.recording = this.calls++ % this.every === 0;
    if (this.recording) super.beginUpdate(windowStart, windowLength);
  }

  override endUpdate(update: number, gradNorm: number, clipped: boolean): FlowRecord | null {
    const record = super.endUpdate(update, gradNorm, clipped);
    this.recording = false;
    if (record) this.store(record);
    this.saturation.clear();
    return record;
  }

  private store(record: FlowRecord): void {
    let thinned = false;
    for (const [name, flow] of Object.entries(record.layers)) {
      const column: Array<number | null> = new Array(record.windowStart).fill(null);
      for (const v of flow.dh) column.push(Number.isFinite(v) && v > 0 ? Math.round(Math.log10(v) * 1000) / 1000 : null);
      const before = this.report.data.flow[name]?.columns.length ?? 0;
      this.report.flowColumn(name, record.update, column, this.maxColumns);
      if (this.report.data.flow[name]!.columns.length <= before) thinned = true;
    }
    for (const [name, s] of this.saturation) if (s.total > 0) this.report.point('saturation', name, record.update, s.saturated / s.total);
    if (thinned) this.every *= 2;
  }

  private countSaturation(name: string, acts: ArrayLike<number>, rows: number, H: number, names: readonly string[]): void {
    const G = names.length * H;
    const stride = Math.max(1, Math.floor(rows / SAMPLED_ROWS));
    const s = this.saturation.get(name) ?? { saturated: 0, total: 0 };
    names.forEach((g, k) => {
      if (!SIGMOID_GATES.has(g)) return;
      for (let r = 0; r < rows; r += stride) {
        for (let j = r * G + k * H, end = j + H; j < end; j++) {
          const a = acts[j]!;
          if (a < SATURATION_LOW || a > SATURATION_HIGH) s.saturated++;
        }
        s.total += H;
      }
    });
    this.saturation.set(name, s);
  }
}
