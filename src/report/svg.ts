/** SVG pieces of the report (pure string building, browser-safe): line charts, heatmaps, labelled matrices. */
import type { AttentionExample, Chart, FlowHeatmap, Series } from './recorder.js';

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf'];
/** Points drawn per line at most: longer lines are averaged in buckets. */
const MAX_POINTS = 600;

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A short label for a number: 3 significant digits, exponent form when very small or large. */
export function formatNumber(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1).replace('e+', 'e');
  return Number(v.toPrecision(3)).toString();
}

const r1 = (v: number): string => (Math.round(v * 10) / 10).toString();

/** About n round tick values covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 5, integers = false): number[] {
  if (!(hi > lo)) return [lo];
  const raw = integers ? Math.max(1, (hi - lo) / n) : (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

/** Averages consecutive points in buckets so that at most `max` remain. */
export function downsample(s: Series, max = MAX_POINTS): Series {
  const n = s.x.length;
  if (n <= max) return s;
  const x: number[] = [], y: number[] = [];
  for (let b = 0; b < max; b++) {
    const from = Math.floor((b * n) / max), to = Math.floor(((b + 1) * n) / max);
    let sx = 0, sy = 0;
    for (let i = from; i < to; i++) (sx += s.x[i]!), (sy += s.y[i]!);
    x.push(sx / (to - from));
    y.push(sy / (to - from));
  }
  return { x, y };
}

interface Frame {
  w: number;
  h: number;
  left: number;
  top: number;
  pw: number;
  ph: number;
}

const FRAME: Frame = { w: 760, h: 260, left: 64, top: 28, pw: 680, ph: 196 };

/** A line chart of every line of the chart, with marks and a threshold line. */
export function lineChartSvg(chart: Chart, frame: Frame = FRAME): string {
  const names = Object.keys(chart.lines).filter((k) => chart.lines[k]!.x.length > 0);
  if (!names.length) return '<p class="empty">No data recorded.</p>';
  const lines = names.map((k) => downsample(chart.lines[k]!));
  const all = chart.threshold ? [...lines.flatMap((l) => l.y), chart.threshold.y] : lines.flatMap((l) => l.y);
  const log = chart.scale === 'log' && all.every((v) => v > 0);
  const ty = (v: number): number => (log ? Math.log10(v) : v);
  let yLo = Math.min(...all.map(ty)), yHi = Math.max(...all.map(ty));
  if (!log && chart.unit === 'fraction') (yLo = 0), (yHi = Math.max(yHi, 0.05));
  if (yHi - yLo < 1e-12) (yLo -= 0.5), (yHi += 0.5);
  const xs = lines.flatMap((l) => l.x);
  let xLo = Math.min(...xs), xHi = Math.max(...xs);
  if (xHi === xLo) (xLo -= 1), (xHi += 1);
  const { left, top, pw, ph } = frame;
  const px = (x: number): number => left + ((x - xLo) / (xHi - xLo)) * pw;
  const py = (v: number): number => top + ph - ((ty(v) - yLo) / (yHi - yLo)) * ph;
  const parts: string[] = [];
  parts.push(`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="#fff" stroke="#bbb"/>`);
  const yTicks = log ? logTicks(yLo, yHi) : niceTicks(yLo, yHi).map((v) => ({ at: v, label: formatNumber(v) }));
  for (const t of yTicks) {
    const y = top + ph - ((t.at - yLo) / (yHi - yLo)) * ph;
    parts.push(`<line x1="${left}" x2="${left + pw}" y1="${r1(y)}" y2="${r1(y)}" stroke="#eee"/><text x="${left - 6}" y="${r1(y + 4)}" text-anchor="end">${escapeHtml(t.label)}</text>`);
  }
  for (const t of niceTicks(xLo, xHi, 8, true)) {
    const x = px(t);
    parts.push(`<line x1="${r1(x)}" x2="${r1(x)}" y1="${top + ph}" y2="${top + ph + 4}" stroke="#888"/><text x="${r1(x)}" y="${top + ph + 17}" text-anchor="middle">${formatNumber(t)}</text>`);
  }
  parts.push(`<text x="${left + pw / 2}" y="${frame.h - 2}" text-anchor="middle" class="axis">${escapeHtml(chart.xLabel ?? 'update')}</text>`);
  parts.push(`<text transform="translate(12 ${top + ph / 2}) rotate(-90)" text-anchor="middle" class="axis">${escapeHtml(chart.unit)}${log ? ' (log)' : ''}</text>`);
  if (chart.threshold) {
    const y = py(chart.threshold.y);
    parts.push(`<line x1="${left}" x2="${left + pw}" y1="${r1(y)}" y2="${r1(y)}" stroke="#d62728" stroke-dasharray="5 4"/><text x="${left + pw - 4}" y="${r1(y - 4)}" text-anchor="end" fill="#d62728">${escapeHtml(chart.threshold.label)}</text>`);
  }
  lines.forEach((l, i) => {
    const color = PALETTE[i % PALETTE.length];
    const d = l.x.map((x, j) => `${j ? 'L' : 'M'}${r1(px(x))} ${r1(py(l.y[j]!))}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>`);
    if (l.x.length < 40) parts.push(...l.x.map((x, j) => `<circle cx="${r1(px(x))}" cy="${r1(py(l.y[j]!))}" r="2.5" fill="${color}"/>`));
  });
  const legend = names.map((n, i) => ({ label: n, color: PALETTE[i % PALETTE.length]! }));
  Object.entries(chart.marks).forEach(([name, at]) => {
    const pixels = [...new Set(at.map((x) => Math.round(px(x))))];
    parts.push(`<path d="${pixels.map((x) => `M${x} ${top + ph}v-8`).join('')}" stroke="#d62728" stroke-width="1" class="mark"/>`);
    legend.push({ label: `${name} (${at.length} update${at.length === 1 ? '' : 's'})`, color: '#d62728' });
  });
  let lx = left;
  for (const { label, color } of legend) {
    parts.push(`<rect x="${lx}" y="8" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="17">${escapeHtml(label)}</text>`);
    lx += 24 + label.length * 6.5;
  }
  return svg(frame.w, frame.h, parts.join(''), `${chart.title}`);
}

function logTicks(lo: number, hi: number): Array<{ at: number; label: string }> {
  const out: Array<{ at: number; label: string }> = [];
  for (let e = Math.ceil(lo); e <= Math.floor(hi); e++) out.push({ at: e, label: formatNumber(10 ** e) });
  if (out.length >= 2) return out;
  return niceTicks(lo, hi, 4).map((v) => ({ at: v, label: formatNumber(10 ** v) }));
}

function svg(w: number, h: number, body: string, label: string): string {
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${escapeHtml(label)}">${body}</svg>`;
}

/** Viridis, sampled: dark blue (small) to yellow (large). */
const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];
const LEVELS = 32;

export function colorAt(f: number, scale: readonly string[] = VIRIDIS): string {
  const t = Math.min(1, Math.max(0, f)) * (scale.length - 1);
  const i = Math.min(scale.length - 2, Math.floor(t));
  const a = hex(scale[i]!), b = hex(scale[i + 1]!);
  const mix = a.map((v, k) => Math.round(v + (b[k]! - v) * (t - i)));
  return `#${mix.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

function hex(c: string): number[] {
  return [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));
}

/** Time steps shown at most per heatmap: longer windows are averaged in bins. */
const MAX_ROWS = 96;

/** The range [lo, hi] of the finite values of several heatmaps, for one shared colour scale. */
export function heatmapRange(maps: readonly FlowHeatmap[]): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const m of maps) for (const c of m.columns) for (const v of c) if (v !== null && Number.isFinite(v)) (lo = Math.min(lo, v)), (hi = Math.max(hi, v));
  if (!Number.isFinite(lo)) return [0, 1];
  return hi - lo < 1e-6 ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

/** One layer's gradient flow: x the sampled update, y the step t of the window (0 at the top), colour log10 ||dL/dh_t||. */
export function heatmapSvg(name: string, m: FlowHeatmap, range: [number, number]): string {
  const C = m.columns.length;
  if (!C) return '<p class="empty">No data recorded.</p>';
  const T = Math.max(...m.columns.map((c) => c.length));
  const bin = Math.ceil(T / MAX_ROWS);
  const R = Math.ceil(T / bin);
  const [lo, hi] = range;
  // Cells grouped by colour level, runs along a row merged: one path per level.
  const paths: string[][] = Array.from({ length: LEVELS }, () => []);
  for (let r = 0; r < R; r++) {
    let runStart = 0, runLevel = -1;
    const flush = (end: number): void => {
      if (runLevel >= 0) paths[runLevel]!.push(`M${runStart} ${r}h${end - runStart}v1h-${end - runStart}z`);
    };
    for (let c = 0; c <= C; c++) {
      let level = -1;
      if (c < C) {
        let s = 0, n = 0;
        for (let t = r * bin; t < Math.min(T, (r + 1) * bin); t++) {
          const v = m.columns[c]![t];
          if (v !== null && v !== undefined && Number.isFinite(v)) (s += v), n++;
        }
        if (n) level = Math.min(LEVELS - 1, Math.floor(((s / n - lo) / (hi - lo)) * LEVELS));
      }
      if (level !== runLevel) {
        flush(c);
        runStart = c;
        runLevel = level;
      }
    }
  }
  const { left, top, pw, ph } = FRAME;
  const body: string[] = [`<rect x="${left}" y="${top}" width="${pw}" height="${ph}" fill="#e8e8e8"/>`];
  body.push(`<svg x="${left}" y="${top}" width="${pw}" height="${ph}" viewBox="0 0 ${C} ${R}" preserveAspectRatio="none" shape-rendering="crispEdges" class="cells">`);
  paths.forEach((p, level) => p.length && body.push(`<path fill="${colorAt((level + 0.5) / LEVELS)}" d="${p.join('')}"/>`));
  body.push('</svg>');
  for (const c of [...new Set([0, Math.floor(C / 4), Math.floor(C / 2), Math.floor((3 * C) / 4), C - 1])]) {
    const x = left + ((c + 0.5) / C) * pw;
    body.push(`<text x="${r1(x)}" y="${top + ph + 17}" text-anchor="middle">${m.updates[c]}</text>`);
  }
  for (const t of [...new Set([0, Math.floor((T - 1) / 2), T - 1])]) {
    const y = top + ((Math.floor(t / bin) + 0.5) / R) * ph;
    body.push(`<text x="${left - 6}" y="${r1(y + 4)}" text-anchor="end">${t}</text>`);
  }
  body.push(`<text x="${left + pw / 2}" y="${FRAME.h - 2}" text-anchor="middle" class="axis">update (sampled)</text>`);
  body.push(`<text transform="translate(12 ${top + ph / 2}) rotate(-90)" text-anchor="middle" class="axis">time step t</text>`);
  body.push(`<text x="${left}" y="18" class="title">${escapeHtml(name)}</text>`);
  return svg(FRAME.w, FRAME.h, body.join(''), `gradient flow of ${name}`);
}

/** The colour bar of the heatmaps: ||dL/dh_t|| from 10^lo to 10^hi. */
let gradients = 0;

export function colorBarSvg(range: [number, number], label: string): string {
  const stops = VIRIDIS.map((c, i) => `<stop offset="${(i / (VIRIDIS.length - 1)).toFixed(3)}" stop-color="${c}"/>`).join('');
  const [lo, hi] = range;
  const id = `viridis-${++gradients}`; // unique in the page: a gradient inside a hidden element would not paint
  const body = `<defs><linearGradient id="${id}">${stops}</linearGradient></defs><rect x="64" y="6" width="300" height="12" fill="url(#${id})"/>`
    + `<text x="64" y="32">${formatNumber(10 ** lo)}</text><text x="364" y="32" text-anchor="end">${formatNumber(10 ** hi)}</text>`
    + `<text x="374" y="16">${escapeHtml(label)}</text>`;
  return svg(760, 38, body, 'colour scale');
}

/** Cells and labels shown at most per side of an attention matrix. */
const MAX_SIDE = 60;

/** A matrix of weights: rows labelled on the left, columns on top (rotated); shade by weight. */
export function matrixSvg(e: AttentionExample): string {
  const rows = e.rows.slice(0, MAX_SIDE), cols = e.cols.slice(0, MAX_SIDE);
  if (!rows.length || !cols.length) return '<p class="empty">Empty matrix.</p>';
  const cell = Math.max(8, Math.min(24, Math.floor(620 / cols.length)));
  const labelW = Math.min(160, 12 + 7 * Math.max(...rows.map((r) => Math.min(20, [...r].length))));
  const labelH = Math.min(160, 12 + 7 * Math.max(...cols.map((c) => Math.min(20, [...c].length))));
  let max = 0;
  for (const row of e.weights) for (const v of row) if (Number.isFinite(v)) max = Math.max(max, v);
  if (max <= 0) max = 1;
  const body: string[] = [];
  rows.forEach((label, i) => {
    const y = labelH + i * cell;
    body.push(`<text x="${labelW - 4}" y="${y + cell / 2 + 4}" text-anchor="end">${escapeHtml(clip(label))}</text>`);
    cols.forEach((_, j) => {
      const v = e.weights[i]?.[j] ?? NaN;
      const fill = Number.isFinite(v) ? colorAt(v / max, ['#ffffff', '#08306b']) : '#eee';
      body.push(`<rect x="${labelW + j * cell}" y="${y}" width="${cell}" height="${cell}" fill="${fill}"><title>${escapeHtml(`${label} → ${cols[j]}: ${formatNumber(v)}`)}</title></rect>`);
    });
  });
  cols.forEach((label, j) => {
    const x = labelW + j * cell + cell / 2 + 4;
    body.push(`<text transform="translate(${x} ${labelH - 4}) rotate(-60)">${escapeHtml(clip(label))}</text>`);
  });
  const w = labelW + cols.length * cell + 8, h = labelH + rows.length * cell + 8;
  const more = e.rows.length > MAX_SIDE || e.cols.length > MAX_SIDE ? `<p class="note">showing the first ${rows.length} × ${cols.length} of ${e.rows.length} × ${e.cols.length}</p>` : '';
  return svg(w, h, body.join(''), e.title) + more;
}

function clip(s: string): string {
  const chars = [...s];
  return chars.length > 20 ? chars.slice(0, 19).join('') + '…' : s;
}
