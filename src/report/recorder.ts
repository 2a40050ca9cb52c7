/**
 * What a training report shows, as one plain (JSON-able) object, and a tiny
 * recorder that fills it. Browser-safe. Wiring a task takes a few lines:
 *
 *   const report = new ReportRecorder('bptt train translate', { cell: 'lstm', hidden: 256 });
 *   const flow = report.flowSampler();                 // give it to the engine: new Bptt({ ..., recorder: flow })
 *   flow.attach([model.encoder.rnn, model.decoder.rnn]);
 *   report.step(r.update, { loss: r.loss, lr, gradNorm: r.gradNorm, clipped: r.clipped });  // every update
 *   report.validation(r.update, { loss: v.loss, bleu: v.bleu });                            // every validation
 *   report.attention({ title: 'example 1', rows: targetTokens, cols: sourceTokens, weights }); // any time
 *   report.sample({ title: 'dev translations of the best model', text });  // or { title, svg: lineChartSvg(...) }
 *   report.final({ score: { label: 'test BLEU', value: 23.4 }, details: { 'copy baseline BLEU': 3.1 } });
 *   writeReport('out.html', report.data);             // 'bptt/node' (report/node/write.ts); or renderReport(report.data)
 *
 * Any other curve: report.point('bleu', 'validation', x, y) draws the point on
 * chart 'bleu' in the line 'validation'.
 */
import { ConfigError, expected, show } from '../tensor/index.js';
import { FlowSampler, type FlowSamplerOptions } from './flow.js';

/** One line of a chart: points (x, y) in the order recorded. */
export interface Series {
  x: number[];
  y: number[];
}

/** A chart: lines by name, and marks (vertical ticks at x, e.g. clip events) by name. */
export interface Chart {
  title: string;
  /** the quantity on the y axis, e.g. 'bits per character' */
  unit: string;
  /** 'log' draws the y axis on a log scale (when every value is > 0) */
  scale: 'linear' | 'log';
  /** the quantity on the x axis (default 'update') */
  xLabel?: string;
  lines: Record<string, Series>;
  marks: Record<string, number[]>;
  /** a horizontal reference line, e.g. the clipping threshold */
  threshold?: { label: string; y: number };
}

/** One layer's gradient flow: a column per sampled update, log10 ||dL/dh_t|| per step t (null: step not reached). */
export interface FlowHeatmap {
  /** the update of each column */
  updates: number[];
  columns: Array<Array<number | null>>;
}

/** A matrix of weights (rows × cols) with labels, e.g. attention of target tokens over source tokens. */
export interface AttentionExample {
  title: string;
  rows: string[];
  cols: string[];
  /** weights[i][j], row i over column j (usually each row sums to 1) */
  weights: number[][];
}

/** The result of the run, the headline of the report. */
export interface FinalResult {
  /** the figure the run is judged by, e.g. { label: 'test BLEU', value: 23.4 } */
  score: { label: string; value: number };
  /** other results, shown under it (baselines, the best update, ...) */
  details?: Record<string, string | number | boolean | null>;
}

/**
 * What the model makes, shown as it is: a text (generated text, translations)
 * or an SVG element (a forecast drawn with lineChartSvg, say), which may hold
 * no script and no event handler.
 */
export type ModelSample = { title: string; text: string } | { title: string; svg: string };

export interface ReportData {
  format: 'bptt-report';
  version: 1;
  title: string;
  /** shown as a table at the top (model, data, settings) */
  meta: Record<string, string | number | boolean | null>;
  /** charts by id, drawn in the order they were created */
  charts: Record<string, Chart>;
  /** gradient flow by layer name (`lstm.l0`, ...) */
  flow: Record<string, FlowHeatmap>;
  attention: AttentionExample[];
  /** set by final(): the headline; null until then */
  final: FinalResult | null;
  /** outputs of the model, in the order first recorded */
  samples: ModelSample[];
  /** ISO time of the last metadata, heatmap or attention change (the writer sets it when it writes) */
  updated: string;
}

/** Titles and units of the charts the standard calls create. */
const KNOWN_CHARTS: Record<string, Omit<Chart, 'lines' | 'marks'>> = {
  loss: { title: 'Training and validation loss', unit: 'loss', scale: 'linear' },
  lr: { title: 'Learning rate', unit: 'learning rate', scale: 'linear' },
  'grad-norm': { title: 'Global gradient norm (before clipping)', unit: '‖g‖', scale: 'log' },
  saturation: { title: 'Gate saturation (share of sigmoid gates < 0.05 or > 0.95)', unit: 'fraction', scale: 'linear' },
  rmse: { title: 'Validation RMSE', unit: 'RMSE', scale: 'linear' },
  mae: { title: 'Validation MAE', unit: 'MAE', scale: 'linear' },
  mase: { title: 'Validation MASE', unit: 'MASE', scale: 'linear' },
  bleu: { title: 'Validation BLEU', unit: 'BLEU', scale: 'linear' },
  cer: { title: 'Validation character error rate', unit: 'CER', scale: 'linear' },
  wer: { title: 'Validation word error rate', unit: 'WER', scale: 'linear' },
};

export interface ReportOptions {
  /** keep at most this many attention examples (the latest; default 8) */
  maxAttention?: number;
}

export class ReportRecorder {
  readonly data: ReportData;
  private readonly maxAttention: number;

  constructor(title: string, meta: ReportData['meta'] = {}, options: ReportOptions = {}) {
    this.data = {
      format: 'bptt-report', version: 1, title, meta: {}, charts: {}, flow: {}, attention: [], final: null, samples: [],
      updated: new Date().toISOString(),
    };
    this.meta(meta);
    this.maxAttention = options.maxAttention ?? 8;
  }

  /** Adds or replaces entries of the metadata table. */
  meta(entries: ReportData['meta']): this {
    for (const [k, v] of Object.entries(entries)) if (v !== undefined) this.data.meta[k] = v;
    return this.touch();
  }

  /** Sets a chart's title, unit, scale or threshold line (created if needed). */
  chart(id: string, settings: Partial<Omit<Chart, 'lines' | 'marks'>>): Chart {
    const known = KNOWN_CHARTS[id] ?? { title: id, unit: id, scale: 'linear' };
    const c = (this.data.charts[id] ??= { ...known, lines: {}, marks: {} });
    Object.assign(c, settings);
    return c;
  }

  /** One point of line `line` on chart `chart`. Non-finite values are skipped. */
  point(chart: string, line: string, x: number, y: number): this {
    if (!Number.isFinite(x) || !Number.isFinite(y)) return this;
    const s = (this.chart(chart, {}).lines[line] ??= { x: [], y: [] });
    s.x.push(x);
    s.y.push(y);
    return this;
  }

  /** A mark (vertical tick) at x on chart `chart`. */
  mark(chart: string, name: string, x: number): this {
    (this.chart(chart, {}).marks[name] ??= []).push(x);
    return this;
  }

  /** What one update did: training loss, learning rate, gradient norm (before clipping), whether it was clipped. */
  step(update: number, r: { loss?: number; lr?: number; gradNorm?: number; clipped?: boolean }): this {
    if (r.loss !== undefined) this.point('loss', 'training', update, r.loss);
    if (r.lr !== undefined) this.point('lr', 'learning rate', update, r.lr);
    if (r.gradNorm !== undefined) this.point('grad-norm', 'norm', update, r.gradNorm);
    if (r.clipped) this.mark('grad-norm', 'clipped', update);
    return this;
  }

  /** A validation: `loss` goes beside the training loss; every other value gets its own chart (e.g. bleu, mase). */
  validation(update: number, values: Record<string, number>): this {
    for (const [k, v] of Object.entries(values)) this.point(k === 'loss' ? 'loss' : k, 'validation', update, v);
    return this;
  }

  /** A matrix of weights with labels (attention); the oldest examples beyond maxAttention are dropped. */
  attention(example: {
    title: string; rows: readonly string[]; cols: readonly string[]; weights: ArrayLike<number> | ArrayLike<number>[];
  }): this {
    const { rows, cols } = example;
    const w = example.weights;
    const flat = w.length > 0 && typeof w[0] !== 'number';
    const at = (i: number, j: number): number =>
      Number(flat ? (w as ArrayLike<number>[])[i]![j] : (w as ArrayLike<number>)[i * cols.length + j]);
    const weights = rows.map((_, i) => cols.map((_, j) => at(i, j)));
    this.data.attention.push({ title: example.title, rows: [...rows], cols: [...cols], weights });
    const extra = this.data.attention.length - this.maxAttention;
    if (extra > 0) this.data.attention.splice(0, extra);
    return this.touch();
  }

  /** The run's result, shown as the headline at the top (a later call replaces it). */
  final(result: FinalResult): this {
    this.data.final = { score: { ...result.score }, ...(result.details ? { details: { ...result.details } } : {}) };
    return this.touch();
  }

  /** An output of the model; one with the title of an earlier one replaces it (e.g. the best model's so far). */
  sample(s: ModelSample): this {
    if ('svg' in s && (!/^\s*<svg[\s>]/i.test(s.svg) || /<script|\son\w+\s*=/i.test(s.svg))) {
      const what = 'an <svg> element without script or event handlers';
      throw new ConfigError(expected('ReportRecorder.sample', what, show(s.svg)));
    }
    const copy = 'svg' in s ? { title: s.title, svg: s.svg } : { title: s.title, text: s.text };
    const i = this.data.samples.findIndex((x) => x.title === s.title);
    if (i >= 0) this.data.samples[i] = copy;
    else this.data.samples.push(copy);
    return this.touch();
  }

  /** Adds a column of the gradient-flow heatmap of `layer` (values are log10 norms; null where not reached). */
  flowColumn(layer: string, update: number, column: Array<number | null>, maxColumns = 160): this {
    const h = (this.data.flow[layer] ??= { updates: [], columns: [] });
    h.updates.push(update);
    h.columns.push(column);
    if (h.columns.length > maxColumns) {
      // Keep every other column: the heatmap spans the whole run at half the resolution.
      h.updates = h.updates.filter((_, i) => i % 2 === 0);
      h.columns = h.columns.filter((_, i) => i % 2 === 0);
    }
    return this.touch();
  }

  /** A gradient-flow recorder for the BPTT engine that samples every `every` updates into this report. */
  flowSampler(options: FlowSamplerOptions = {}): FlowSampler {
    return new FlowSampler(this, options);
  }

  private touch(): this {
    this.data.updated = new Date().toISOString();
    return this;
  }
}
