/** The playground page: settings, the training worker, and live charts drawn with the report's SVG renderers. */
import type { Chart, FlowHeatmap } from '../src/report/recorder.js';
import { colorBarSvg, heatmapRange, heatmapSvg, lineChartSvg } from '../src/report/svg.js';
import type { AddingSettings, FromWorker, LmSettings, ModelProgress, ToWorker } from './protocol.js';
import { TEXTS } from './texts.js';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => document.getElementById(id) as T;
const num = (id: string): number => Number($<HTMLInputElement>(id).value);
const MAX_COLUMNS = 160;

const worker = new Worker('worker.js');
const send = (m: ToWorker): void => worker.postMessage(m);
let current: 'lm' | 'adding' | null = null;
let ready = false;

// ---- tabs
for (const tab of document.querySelectorAll<HTMLButtonElement>('nav button')) {
  tab.addEventListener('click', () => {
    for (const t of document.querySelectorAll<HTMLButtonElement>('nav button')) {
      t.setAttribute('aria-selected', String(t === tab));
      $(t.dataset.panel!).hidden = t !== tab;
    }
  });
}

// ---- texts
const choice = $<HTMLSelectElement>('lm-text-choice');
for (const [key, t] of Object.entries(TEXTS)) choice.add(new Option(t.label, key));
choice.add(new Option('your own text (paste below)', 'custom'));
async function pickText(key: string): Promise<void> {
  const t = TEXTS[key];
  if (!t) return;
  const area = $<HTMLTextAreaElement>('lm-text');
  if (t.text) area.value = t.text;
  else if (t.url) {
    try {
      const r = await fetch(t.url);
      if (!r.ok) throw new Error(`${r.status}`);
      area.value = await r.text();
    } catch {
      choice.value = 'sonnet';
      area.value = TEXTS.sonnet!.text!;
    }
  }
}
choice.addEventListener('change', () => void pickText(choice.value));
$('lm-text').addEventListener('input', () => (choice.value = 'custom'));
const textReady = pickText('moby');

$<HTMLSelectElement>('lm-bptt').addEventListener('change', (e) => {
  const truncated = (e.target as HTMLSelectElement).value === 'truncated';
  $<HTMLInputElement>('lm-k1').disabled = !truncated;
  $<HTMLInputElement>('lm-k2').disabled = !truncated;
});

// ---- state of the charts
interface Live {
  loss: Chart;
  flow: Record<string, FlowHeatmap>;
  profile: Chart;
  initial: number | null;
}
const fresh = (unit: string): Live => ({
  loss: { title: 'loss', unit, scale: 'linear', lines: {}, marks: {} },
  flow: {},
  profile: { title: '‖dL/dh_t‖', unit: '‖dL/dh_t‖', scale: 'log', xLabel: 'time step t (the loss is read at the last step)', lines: {}, marks: {} },
  initial: null,
});
let live: Live = fresh('bits per character');

function addColumn(key: string, update: number, column: Array<number | null>): void {
  const h = (live.flow[key] ??= { updates: [], columns: [] });
  h.updates.push(update);
  h.columns.push(column);
  if (h.columns.length > MAX_COLUMNS) {
    h.updates = h.updates.filter((_, i) => i % 2 === 0);
    h.columns = h.columns.filter((_, i) => i % 2 === 0);
  }
}

function onProgress(models: ModelProgress[], speed: number): void {
  for (const m of models) {
    if (!m.updates.length) continue;
    const name = m.model === 'lm' ? 'training' : m.model === 'rnn' ? 'tanh RNN' : 'LSTM';
    const line = (live.loss.lines[name] ??= { x: [], y: [] });
    m.updates.forEach((u, i) => {
      if (Number.isFinite(m.losses[i]!)) (line.x.push(u), line.y.push(m.losses[i]!));
    });
    const mean = m.losses.reduce((a, b) => a + b, 0) / m.losses.length;
    const last = m.updates[m.updates.length - 1]!;
    for (const [layer, column] of Object.entries(m.flow)) {
      const key = m.model === 'lm' ? layer : `${name} (${layer})`;
      addColumn(key, m.flowUpdate, column);
      if (current === 'adding') {
        const values = column.map((v, t) => [t, v] as const).filter(([, v]) => v !== null);
        live.profile.lines[name] = { x: values.map(([t]) => t), y: values.map(([, v]) => 10 ** v!) };
      }
    }
    if (m.model === 'lm') {
      live.initial ??= mean;
      $('lm-update').textContent = String(last);
      $('lm-loss').textContent = mean.toFixed(3);
      $('lm-initial-loss').textContent = live.initial.toFixed(3);
      $('lm-gradnorm').textContent = m.gradNorm.toPrecision(3);
      $('lm-speed').textContent = Math.round(speed).toLocaleString('en');
    } else {
      $('adding-update').textContent = String(last);
      $(`adding-${m.model}-loss`).textContent = mean.toFixed(4);
    }
  }
  schedule();
}

let drawing = false;
function schedule(): void {
  if (drawing) return;
  drawing = true;
  setTimeout(() => {
    drawing = false;
    draw();
  }, 200);
}

function draw(): void {
  if (!current) return;
  const maps = Object.entries(live.flow);
  const range = heatmapRange(maps.map(([, m]) => m));
  const flow = maps.length ? colorBarSvg(range, '‖dL/dh_t‖') + maps.map(([name, m]) => heatmapSvg(name, m, range)).join('') : '';
  $(`${current}-chart`).innerHTML = lineChartSvg(live.loss);
  $(`${current}-flow`).innerHTML = flow;
  if (current === 'adding') $('adding-profile').innerHTML = lineChartSvg(live.profile);
}

// ---- the worker
worker.onmessage = (e: MessageEvent<FromWorker>) => {
  const m = e.data;
  switch (m.type) {
    case 'ready':
      ready = true;
      $('status').textContent = `ready (kernels: ${m.backend})`;
      break;
    case 'started':
      $(`${current}-description`).textContent = m.description;
      break;
    case 'progress':
      onProgress(m.models, m.tokensPerSecond);
      break;
    case 'sample':
      $('lm-sample').textContent = `update ${m.update}:\n${m.text}`;
      break;
    case 'stopped':
      break;
    case 'error':
      $('status').textContent = `error: ${m.message}`;
      setRunning(null);
      break;
  }
};
worker.onerror = (e) => {
  $('status').textContent = `worker error: ${e.message}`;
};

function setRunning(task: 'lm' | 'adding' | null): void {
  current = task ?? current;
  for (const t of ['lm', 'adding'] as const) {
    $<HTMLButtonElement>(`${t}-stop`).disabled = task !== t;
    $<HTMLButtonElement>(`${t}-start`).textContent = task === t ? 'Restart' : t === 'lm' ? 'Train' : 'Train both';
  }
  $('status').textContent = task ? `training (${task === 'lm' ? 'language model' : 'adding problem'})` : ready ? 'stopped' : $('status').textContent;
}

$('lm-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  await textReady;
  const text = $<HTMLTextAreaElement>('lm-text').value;
  if (text.length < 64) {
    $('status').textContent = 'error: the text needs at least 64 characters';
    return;
  }
  const truncated = $<HTMLSelectElement>('lm-bptt').value === 'truncated';
  const k1 = num('lm-k1'), k2 = Math.max(num('lm-k1'), num('lm-k2'));
  const settings: LmSettings = {
    task: 'lm', text, cell: $<HTMLSelectElement>('lm-cell').value as LmSettings['cell'], hidden: num('lm-hidden'), layers: num('lm-layers'),
    strategy: truncated ? { kind: 'truncated', k1, k2 } : { kind: 'full' }, seqLen: num('lm-seqlen'), batch: num('lm-batch'), lr: num('lm-lr'), seed: 1,
  };
  live = fresh('bits per character');
  $('lm-sample').textContent = '';
  setRunning('lm');
  send({ type: 'start', settings });
});

$('adding-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const settings: AddingSettings = { task: 'adding', steps: num('adding-steps'), hidden: num('adding-hidden'), batch: num('adding-batch'), lr: num('adding-lr'), seed: 1 };
  live = fresh('mean squared error');
  live.loss.threshold = { label: 'predicting the mean (1/6)', y: 1 / 6 };
  setRunning('adding');
  send({ type: 'start', settings });
});

for (const t of ['lm', 'adding'] as const) {
  $(`${t}-stop`).addEventListener('click', () => {
    send({ type: 'stop' });
    setRunning(null);
  });
}
