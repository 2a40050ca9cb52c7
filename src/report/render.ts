/**
 * `renderReport(data)`: one self-contained HTML page (inline CSS and SVG, no
 * script, no font or image from elsewhere) from a report's data. Pure and
 * browser-safe.
 */
import type { Chart, FinalResult, ModelSample, ReportData } from './recorder.js';
import { colorBarSvg, escapeHtml, formatNumber, heatmapRange, heatmapSvg, lineChartSvg, matrixSvg } from './svg.js';

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#222;margin:0;
background:#fafafa}
main{max-width:800px;margin:0 auto;padding:16px 20px 48px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:28px 0 6px;border-bottom:1px solid #ddd;padding-bottom:3px}
h3{font-size:14px;margin:14px 0 4px}
table.meta{border-collapse:collapse;font-size:13px}table.meta td{padding:2px 10px 2px 0;vertical-align:top}
table.meta td:first-child{color:#666}
svg{display:block;max-width:100%;height:auto;font-size:11px;fill:#333}svg .axis{fill:#666}svg .title{font-weight:600}
p.note,p.empty{color:#666;font-size:13px;margin:4px 0}
nav a{margin-right:12px;color:#1f5f9f}
div.final{margin:10px 0 14px}p.score{font-size:18px;margin:0 0 4px}p.score strong{font-size:28px;margin-left:8px}
pre{background:#fff;border:1px solid #ddd;padding:8px 10px;white-space:pre-wrap;overflow-wrap:anywhere;font-size:13px}
`;

/** Sections in order: id, heading, the chart ids drawn there, an explanation. */
const CHART_SECTIONS: Array<[string, string, string, string]> = [
  ['loss', 'Training and validation loss', 'loss',
    'Mean loss per target of each update (averaged over buckets when there are many) and at each validation.'],
  ['lr', 'Learning rate', 'lr', 'The learning rate of each update (warm-up, then the schedule).'],
  ['grad-norm', 'Gradient norm and clipping', 'grad-norm',
    'The global norm of the gradient before clipping; red ticks mark the updates whose gradient was clipped.'],
];

/** The page; a section with nothing recorded (a chart without points, no attention, ...) is left out. */
export function renderReport(data: ReportData): string {
  const known = new Set(['loss', 'lr', 'grad-norm', 'saturation']);
  const others = Object.keys(data.charts).filter((k) => !known.has(k));
  const sections: string[] = [];
  const add = (id: string, heading: string, note: string, body: string | null): void => {
    if (body !== null) sections.push(section(id, heading, note, body));
  };
  add('samples', 'Model output', '', samplesBody(data));
  for (const [id, heading, chart, note] of CHART_SECTIONS) add(id, heading, note, chartBody(data.charts[chart]));
  add('gradient-flow', 'Gradient flow', flowNote(data), flowBody(data));
  add('gate-saturation', 'Gate saturation', SATURATION_NOTE, chartBody(data.charts.saturation));
  for (const k of others) add(`chart-${slug(k)}`, data.charts[k]!.title, '', chartBody(data.charts[k]));
  add('attention', 'Attention', ATTENTION_NOTE, attentionBody(data));
  const nav = sections.map((s) => /<section id="([^"]+)"><h2>([^<]*)</.exec(s)!)
    .map((m) => `<a href="#${m[1]}">${m[2]}</a>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="bptt report v${data.version}"><title>${escapeHtml(data.title)}</title>
<style>${STYLE}</style></head>
<body><main><h1>${escapeHtml(data.title)}</h1><p class="note">updated ${escapeHtml(data.updated)}</p>
${headline(data.final)}${metaTable(data.meta)}${nav ? `<nav>${nav}</nav>` : ''}
${sections.join('\n')}
</main></body></html>
`;
}

const SATURATION_NOTE = 'Share of the sigmoid gates (LSTM input, forget, output; GRU reset, update) '
  + 'below 0.05 or above 0.95, per layer, on the sampled updates. Saturated gates pass almost no gradient. '
  + 'A vanilla RNN has no gates.';
const ATTENTION_NOTE = 'Attention weights of examples (rows attend over columns; darker is more weight).';

function section(id: string, heading: string, note: string, body: string): string {
  const p = note ? `<p class="note">${escapeHtml(note)}</p>` : '';
  return `<section id="${escapeHtml(id)}"><h2>${escapeHtml(heading)}</h2>${p}${body}</section>`;
}

/** The chart, or null when no line has a point. */
function chartBody(c: Chart | undefined): string | null {
  return c && Object.values(c.lines).some((l) => l.x.length > 0) ? lineChartSvg(c) : null;
}

function headline(final: FinalResult | null): string {
  if (!final) return '';
  const { label, value } = final.score;
  const score = `<p class="score">${escapeHtml(label)}<strong>${escapeHtml(formatNumber(value))}</strong></p>`;
  return `<div class="final">${score}${metaTable(final.details ?? {})}</div>`;
}

function samplesBody(data: ReportData): string | null {
  if (!data.samples.length) return null;
  const body = (s: ModelSample): string => ('svg' in s ? s.svg : `<pre>${escapeHtml(s.text)}</pre>`);
  return data.samples.map((s) => `<h3>${escapeHtml(s.title)}</h3>${body(s)}`).join('');
}

function metaTable(meta: ReportData['meta']): string {
  const cell = (v: unknown): string => escapeHtml(typeof v === 'number' ? formatNumber(v) : String(v));
  const rows = Object.entries(meta).map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${cell(v)}</td></tr>`);
  return rows.length ? `<table class="meta">${rows.join('')}</table>` : '';
}

function flowNote(data: ReportData): string {
  const n = Object.values(data.flow)[0]?.columns.length ?? 0;
  return '‖dL/dh_t‖, the norm of the error reaching the hidden state at step t of the window (one stream shard), '
    + `for ${n} sampled update${n === 1 ? '' : 's'}, per layer; log colour scale shared by the layers. `
    + 'Grey: steps the update did not reach. A vanishing gradient shows as a dark band at the top (early steps).';
}

function flowBody(data: ReportData): string | null {
  const maps = Object.entries(data.flow).filter(([, m]) => m.columns.length > 0);
  if (!maps.length) return null;
  const range = heatmapRange(maps.map(([, m]) => m));
  return colorBarSvg(range, '‖dL/dh_t‖') + maps.map(([name, m]) => heatmapSvg(name, m, range)).join('');
}

function attentionBody(data: ReportData): string | null {
  if (!data.attention.length) return null;
  return data.attention.map((e) => `<h3>${escapeHtml(e.title)}</h3>${matrixSvg(e)}`).join('');
}

function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-');
}
