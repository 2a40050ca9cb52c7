/**
 * The training worker: the library as a user runs it, in a Web Worker. It
 * trains in slices of about 60 ms and posts the losses, the gradient norm
 * and the gradient flow (||dL/dh_t|| from the engine's FlowRecorder) after
 * each slice, so the page stays responsive and a stop message gets in.
 */
import {
  AddingModel, Adam, Bptt, FlowRecorder, LanguageModel, Rng, TokenStreams, Vocabulary, addingBatch, kernels, sampleText,
  type HiddenState, type LmBatch, type RegressionSequences, type UpdateReport,
} from '../src/index.js';
import { initWasmBackend } from '../src/kernels/index.js';
import type { AddingSettings, FromWorker, LmSettings, ModelProgress, ToWorker } from './protocol.js';

interface WorkerScope {
  postMessage(message: FromWorker): void;
  onmessage: ((e: { data: ToWorker }) => void) | null;
}
const scope = globalThis as unknown as WorkerScope;
const post = (m: FromWorker): void => scope.postMessage(m);

/** A task the worker advances slice by slice. */
interface Job {
  /** trains for about `ms` milliseconds; returns the progress of each model */
  slice(ms: number): ModelProgress[];
  tokensPerSecond(): number;
  sample?(): { update: number; text: string };
}

let job: Job | null = null;
let generation = 0;

scope.onmessage = (e) => {
  const m = e.data;
  generation++;
  job = null;
  if (m.type === 'stop') {
    post({ type: 'stopped' });
    return;
  }
  try {
    job = m.settings.task === 'lm' ? lmJob(m.settings) : addingJob(m.settings);
    void run(generation);
  } catch (err) {
    post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
  }
};

async function run(gen: number): Promise<void> {
  let lastSample = 0;
  while (job && gen === generation) {
    try {
      post({ type: 'progress', models: job.slice(60), tokensPerSecond: job.tokensPerSecond() });
      if (job.sample && performance.now() - lastSample > 1500) {
        lastSample = performance.now();
        post({ type: 'sample', ...job.sample() });
      }
    } catch (err) {
      job = null;
      post({ type: 'error', message: err instanceof Error ? err.message : String(err) });
      return;
    }
    await new Promise((r) => setTimeout(r, 0)); // lets a stop or a new start in
  }
}

function flowOf(r: UpdateReport): Record<string, Array<number | null>> {
  const out: Record<string, Array<number | null>> = {};
  for (const [name, layer] of Object.entries(r.flow?.layers ?? {})) {
    out[name] = [...new Array<null>(r.flow!.windowStart).fill(null), ...Array.from(layer.dh, (v) => (v > 0 && Number.isFinite(v) ? Math.log10(v) : null))];
  }
  return out;
}

function progressOf(model: string, reports: UpdateReport[], toLoss: (r: UpdateReport) => number): ModelProgress {
  const last = reports[reports.length - 1];
  const withFlow = [...reports].reverse().find((r) => r.flow);
  return {
    model, updates: reports.map((r) => r.update), losses: reports.map(toLoss), gradNorm: last?.gradNorm ?? NaN,
    clipped: reports.filter((r) => r.clipped).length, flow: withFlow ? flowOf(withFlow) : {}, flowUpdate: withFlow?.update ?? 0,
  };
}

function lmJob(s: LmSettings): Job {
  const text = s.text.length > 200_000 ? s.text.slice(0, 200_000) : s.text;
  const vocabulary = Vocabulary.build(text, 'char');
  const { ids } = vocabulary.encode(text);
  const streams = new TokenStreams(ids, s.batch, s.seqLen, 'the text');
  const model = new LanguageModel({ cell: s.cell, vocab: vocabulary.size, embed: 32, hidden: s.hidden, layers: s.layers, dropout: 0, seed: s.seed });
  const optimizer = new Adam(model.parameters(), { lr: s.lr, betas: [0.9, 0.99] });
  const recorder = new FlowRecorder(1).attach([model.rnn]);
  const engine = new Bptt<LmBatch, HiddenState>({ model, parameters: model.parameters(), optimizer, strategy: s.strategy, stateful: true, clipNorm: 5, recorder });
  let batches = 0, tokens = 0, seconds = 0;
  const describe = `${s.cell.toUpperCase()} ${s.layers}×${s.hidden}, ${vocabulary.size} characters, ${ids.length} tokens, ${s.strategy.kind === 'full' ? 'full BPTT' : `truncated BPTT(${s.strategy.k1}, ${s.strategy.k2})`} over ${s.seqLen}-step windows, batch ${s.batch}`;
  post({ type: 'started', description: describe });
  return {
    slice(ms) {
      const start = performance.now();
      const reports: UpdateReport[] = [];
      do {
        const k = batches % streams.batchesPerEpoch;
        if (k === 0) engine.resetState();
        reports.push(...engine.trainBatch({ ...streams.get(k), noiseSeed: 0 }));
        batches++;
        tokens += s.batch * s.seqLen;
      } while (performance.now() - start < ms);
      seconds += (performance.now() - start) / 1000;
      return [progressOf('lm', reports.filter((r) => r.terms > 0 && !r.skipped), (r) => r.loss / Math.LN2)];
    },
    tokensPerSecond: () => tokens / Math.max(1e-9, seconds),
    sample() {
      const pieces = [...sampleText(model, vocabulary, { length: 240, temperature: 0.8, seed: batches })];
      return { update: engine.updates, text: pieces.join('') };
    },
  };
}

function addingJob(s: AddingSettings): Job {
  const rng = new Rng(s.seed);
  const data = rng.split();
  const models = (['rnn', 'lstm'] as const).map((cell) => {
    const model = new AddingModel(cell, s.hidden, rng.split(), cell === 'lstm' ? 1 : 0); // LSTM forget gates open from the start
    const optimizer = new Adam(model.parameters(), { lr: s.lr });
    const recorder = new FlowRecorder(1).attach([model.rnn]);
    return { cell, engine: new Bptt<RegressionSequences, HiddenState>({ model, parameters: model.parameters(), optimizer, clipNorm: 1, recorder }) };
  });
  let sequences = 0, seconds = 0;
  post({ type: 'started', description: `adding problem, T = ${s.steps}: tanh RNN and LSTM, hidden ${s.hidden}, batch ${s.batch}, full BPTT, Adam ${s.lr}, the same batches` });
  return {
    slice(ms) {
      const start = performance.now();
      const reports: UpdateReport[][] = models.map(() => []);
      do {
        const batch = addingBatch(data, s.steps, s.batch);
        models.forEach((m, i) => reports[i]!.push(...m.engine.trainBatch(batch)));
        sequences += s.batch;
      } while (performance.now() - start < ms);
      seconds += (performance.now() - start) / 1000;
      return models.map((m, i) => progressOf(m.cell, reports[i]!, (r) => r.loss));
    },
    tokensPerSecond: () => (sequences * s.steps) / Math.max(1e-9, seconds),
  };
}

async function init(): Promise<void> {
  try {
    await initWasmBackend();
  } catch {
    // the reference kernels (plain TypeScript) still work
  }
  post({ type: 'ready', backend: kernels().name });
}
void init();
