/**
 * Training throughput of one full step, in tokens per second:
 * embedding 64 from vocab 80 → recurrent layer(s) → linear to 80 → softmax
 * cross-entropy over all T·B positions → backward → clipGradNorm 5 → Adam 2e-3.
 * The same step as bench/torch_train.py, through the public API only.
 *
 *   node dist/bench/train-step.js [--shape S|M|L|M-GRU|M-RNN|all] [--backend NAME]
 *       [--repeats N] [--steps N] [--warmup N] [--budget SECONDS] [--profile] [--json] [--workers N]
 *
 * --workers N trains data-parallel over the batch rows (DataParallel): the main
 * thread and N worker threads each take a shard of the batch, with one gradient
 * reduction per step; the same model and step through the BPTT engine
 * (bench/bench-model.ts, full BPTT), without the phase profile.
 *
 * Budget-aware: unless --steps is given, warm-up steps measure the time of a
 * step and the steps per repeat (and, if needed, the repeats) are scaled so a
 * shape's timed part takes about --budget seconds (default 12), cutting the
 * repeats (to at least 1) when one step per repeat is already too much. If the
 * very first step takes the whole budget by itself (the plain-TypeScript
 * reference backend on L: minutes per step), that single cold step is the
 * measurement (`coldOnly` in the JSON): the JIT's warm-up is negligible there.
 *
 * --profile splits each timed step into phases with wall-clock timers: the
 * recurrent layers' forward and backward, the output linear + loss (forward
 * and backward), the embedding (forward and backward), and zeroGrad + clip +
 * Adam. The split cuts the tape at the recurrent input and output (a leaf that
 * collects the gradient, then `backward(seed)` on the part below), which does
 * the same arithmetic as one `loss.backward()`; the tokens/s of a profiled run
 * are reported as usual.
 */
import { pathToFileURL } from 'node:url';
import {
  Adam, Embedding, GRU, LSTM, Linear, RNN, Rng, Variable,
  backendNames, clipGradNorm, crossEntropy, kernels, setBackend, type HiddenState,
} from '../src/index.js';
import { DataParallel } from '../src/node.js';
import { TokenModel, type BenchModelConfig, type TokenBatch } from './bench-model.js';

export interface ShapeSpec {
  id: string;
  cell: 'lstm' | 'gru' | 'rnn';
  layers: number;
  hidden: number;
  batch: number;
  steps: number;
}

export const SHAPES: readonly ShapeSpec[] = [
  { id: 'S', cell: 'lstm', layers: 1, hidden: 128, batch: 16, steps: 32 },
  { id: 'M', cell: 'lstm', layers: 1, hidden: 256, batch: 32, steps: 64 },
  { id: 'L', cell: 'lstm', layers: 2, hidden: 512, batch: 64, steps: 100 },
  { id: 'M-GRU', cell: 'gru', layers: 1, hidden: 256, batch: 32, steps: 64 },
  { id: 'M-RNN', cell: 'rnn', layers: 1, hidden: 256, batch: 32, steps: 64 },
];

const VOCAB = 80;
const EMBED = 64;
const LR = 2e-3;
const CLIP = 5;

export type Phase = 'recurrentForward' | 'recurrentBackward' | 'headAndLoss' | 'embedding' | 'optimizer';
export const PHASES: readonly Phase[] = ['recurrentForward', 'recurrentBackward', 'headAndLoss', 'embedding', 'optimizer'];

export interface ShapeResult {
  shape: string;
  backend: string;
  /** worker threads besides the main thread (0: single-threaded) */
  workers: number;
  tokensPerStep: number;
  tokensPerSec: number;
  msPerStep: number;
  repeats: number[];
  stepsPerRepeat: number;
  warmupSteps: number;
  /** true when one step exceeded the budget: the single (cold, un-warmed) step is the measurement */
  coldOnly: boolean;
  /** seconds spent on this shape, warm-up included */
  wallSeconds: number;
  /** share of the step's time per phase (sums to 1), with --profile */
  profile?: Record<Phase, number>;
}

export interface StepOptions {
  repeats: number;
  /** fixed steps per repeat; undefined = scale to the budget */
  steps?: number;
  warmup: number;
  budgetSeconds: number;
  profile: boolean;
}

const now = (): number => performance.now();

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export type Step = (times: Record<Phase, number> | null) => number;

/** A small pool of random batches made up front: data generation is not timed. */
function batchPool(spec: ShapeSpec, dataRng: Rng): Array<{ ids: Int32Array; targets: Int32Array }> {
  const n = spec.steps * spec.batch;
  return Array.from({ length: 4 }, () => {
    const ids = new Int32Array(n);
    const targets = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      ids[i] = dataRng.int(VOCAB);
      targets[i] = dataRng.int(VOCAB);
    }
    return { ids, targets };
  });
}

/** Builds the model and returns one training step (optionally phase-timed). */
export function makeStep(spec: ShapeSpec): Step {
  const { hidden: H, batch: B, steps: T } = spec;
  const rng = new Rng(1);
  const embed = new Embedding(VOCAB, EMBED, { rng: rng.split() });
  const common = { inputSize: EMBED, hiddenSize: H, numLayers: spec.layers, rng: rng.split() };
  const rnn = spec.cell === 'lstm' ? new LSTM(common) : spec.cell === 'gru' ? new GRU(common) : new RNN({ ...common, nonlinearity: 'tanh' });
  const head = new Linear(H, VOCAB, { rng: rng.split() });
  const params = [...embed.parameters(), ...rnn.parameters(), ...head.parameters()];
  const opt = new Adam(params, { lr: LR });
  const pool = batchPool(spec, rng.split());
  let k = 0;

  return (times) => {
    const { ids, targets } = pool[k++ % pool.length]!;
    if (!times) {
      opt.zeroGrad();
      const { output } = rnn.forward(embed.forward(ids, [T, B]));
      const loss = crossEntropy(head.forward(output), targets);
      loss.backward();
      clipGradNorm(params, CLIP);
      opt.step();
      return loss.item();
    }
    // Phase-timed step: the tape is cut at the recurrent input and output.
    let t = now();
    const lap = (p: Phase): void => {
      const t1 = now();
      times[p] += t1 - t;
      t = t1;
    };
    opt.zeroGrad();
    lap('optimizer');
    const x = embed.forward(ids, [T, B]);
    lap('embedding');
    const xLeaf = new Variable(x.value, true);
    const { output } = rnn.forward(xLeaf);
    lap('recurrentForward');
    const outLeaf = new Variable(output.value, true);
    const loss = crossEntropy(head.forward(outLeaf), targets);
    loss.backward();
    lap('headAndLoss');
    output.backward(outLeaf.grad!);
    lap('recurrentBackward');
    x.backward(xLeaf.grad!);
    lap('embedding');
    clipGradNorm(params, CLIP);
    opt.step();
    lap('optimizer');
    return loss.item();
  };
}

/**
 * The same step trained data-parallel: the main thread and `workers` worker
 * threads each take a shard of the batch rows (DataParallel over bench-model.ts),
 * full BPTT through the engine, clip 5, Adam. Call close() at the end.
 */
export async function makeParallelStep(spec: ShapeSpec, workers: number): Promise<{ step: Step; close: () => Promise<void> }> {
  const config: BenchModelConfig = { cell: spec.cell, layers: spec.layers, hidden: spec.hidden, vocab: VOCAB, embed: EMBED, seed: 1 };
  const model = new TokenModel(config);
  const params = model.parameters();
  const rng = new Rng(1);
  for (let i = 0; i < 3; i++) rng.split(); // the same data as makeStep's
  const pool = batchPool(spec, rng.split());
  const dp = await DataParallel.start<TokenBatch, HiddenState>({
    model, parameters: params, optimizer: new Adam(params, { lr: LR }), clipNorm: CLIP, strategy: { kind: 'full' },
    module: new URL('./bench-model.js', import.meta.url), config, workers,
  });
  let k = 0;
  const step: Step = (times) => {
    if (times) throw new Error('train-step: --profile is not available with --workers');
    const { ids, targets } = pool[k++ % pool.length]!;
    return dp.trainBatch({ ids, targets, batch: spec.batch })[0]!.loss;
  };
  return { step, close: () => dp.close() };
}

export function benchShape(spec: ShapeSpec, o: StepOptions, log: (s: string) => void = () => {}, step: Step = makeStep(spec), workers = 0): ShapeResult {
  const started = now();
  const tokens = spec.steps * spec.batch;

  const newTimes = (): Record<Phase, number> | null =>
    o.profile ? { recurrentForward: 0, recurrentBackward: 0, headAndLoss: 0, embedding: 0, optimizer: 0 } : null;

  // Warm-up: at least one step; stop early once warm-up has used a quarter of the budget.
  // If the very first step alone takes the whole budget (the reference backend on L),
  // that cold step is the measurement: JIT warm-up is negligible next to it.
  let perStep = Infinity;
  let warmupSteps = 0;
  let times = newTimes();
  let rates: number[] = [];
  let n = 1;
  let coldOnly = false;
  for (let i = 0; i < Math.max(1, o.warmup); i++) {
    const t0 = now();
    const loss = step(i === 0 ? times : null);
    perStep = (now() - t0) / 1000;
    if (!Number.isFinite(loss)) throw new Error(`train-step ${spec.id}: loss is ${loss}`);
    if (i === 0 && o.steps === undefined && perStep >= o.budgetSeconds) {
      coldOnly = true;
      rates = [tokens / perStep];
      break;
    }
    warmupSteps++;
    if ((now() - started) / 1000 > o.budgetSeconds / 4) break;
  }

  if (coldOnly) {
    log(`  ${spec.id} on ${kernels().name}${workers ? ` + ${workers} worker(s)` : ''}: one step took ${perStep.toFixed(1)} s ≥ budget ${o.budgetSeconds} s; reporting that single cold step`);
  } else {
    let repeats = o.repeats;
    if (o.steps !== undefined) {
      n = o.steps;
    } else {
      n = Math.max(1, Math.round(o.budgetSeconds / repeats / perStep));
      if (n === 1) repeats = Math.max(1, Math.min(repeats, Math.floor(o.budgetSeconds / perStep)));
    }
    log(`  ${spec.id} on ${kernels().name}${workers ? ` + ${workers} worker(s)` : ''}: ${warmupSteps} warm-up step(s), last ${(perStep * 1000).toFixed(0)} ms; timing ${repeats} × ${n} step(s)`);
    times = newTimes();
    for (let r = 0; r < repeats; r++) {
      const t0 = now();
      for (let i = 0; i < n; i++) step(times);
      rates.push((n * tokens) / ((now() - t0) / 1000));
    }
  }
  const tokensPerSec = median(rates);
  const result: ShapeResult = {
    shape: spec.id,
    backend: kernels().name,
    workers,
    tokensPerStep: tokens,
    tokensPerSec,
    msPerStep: (1000 * tokens) / tokensPerSec,
    repeats: rates.map((x) => Math.round(x * 10) / 10),
    stepsPerRepeat: n,
    warmupSteps,
    coldOnly,
    wallSeconds: (now() - started) / 1000,
  };
  if (times) {
    const total = PHASES.reduce((s, p) => s + times[p], 0);
    result.profile = Object.fromEntries(PHASES.map((p) => [p, times[p] / total])) as Record<Phase, number>;
  }
  return result;
}

interface Cli extends StepOptions {
  shapes: ShapeSpec[];
  backend?: string;
  json: boolean;
  workers: number;
}

const USAGE = `usage: node dist/bench/train-step.js [--shape S|M|L|M-GRU|M-RNN|all (or a comma list)] [--backend NAME]
       [--repeats N (3)] [--steps N (budget-scaled)] [--warmup N (2)] [--budget SECONDS (12)] [--profile] [--json]
       [--workers N (0: single-threaded; N > 0: data-parallel over the batch with N worker threads besides the main one)]`;

function parseArgs(argv: readonly string[]): Cli {
  const cli: Cli = { shapes: [...SHAPES], repeats: 3, warmup: 2, budgetSeconds: 12, profile: false, json: false, workers: 0 };
  const positive = (flag: string, v: string | undefined, integer = true): number => {
    const x = Number(v);
    if (!(x > 0) || (integer && !Number.isInteger(x))) throw new Error(`train-step: ${flag} expects a positive ${integer ? 'integer' : 'number'}, got ${v}\n${USAGE}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`train-step: ${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--shape': {
        const v = value();
        if (v === 'all') { cli.shapes = [...SHAPES]; break; }
        cli.shapes = v.split(',').map((id) => {
          const s = SHAPES.find((x) => x.id === id);
          if (!s) throw new Error(`train-step: --shape expects one of ${SHAPES.map((x) => x.id).join(', ')} or all, got '${id}'`);
          return s;
        });
        break;
      }
      case '--backend': cli.backend = value(); break;
      case '--repeats': cli.repeats = positive(flag, value()); break;
      case '--steps': cli.steps = positive(flag, value()); break;
      case '--warmup': cli.warmup = positive(flag, value()); break;
      case '--budget': cli.budgetSeconds = positive(flag, value(), false); break;
      case '--profile': cli.profile = true; break;
      case '--json': cli.json = true; break;
      case '--workers': {
        const v = value();
        cli.workers = Number(v);
        if (!Number.isInteger(cli.workers) || cli.workers < 0) throw new Error(`train-step: --workers expects an integer >= 0, got ${v}\n${USAGE}`);
        break;
      }
      case '-h': case '--help': console.log(USAGE); process.exit(0); break;
      default: throw new Error(`train-step: unknown option '${a}'\n${USAGE}`);
    }
  }
  if (cli.workers > 0 && cli.profile) throw new Error(`train-step: --profile is not available with --workers (the phases run on several threads)\n${USAGE}`);
  return cli;
}

async function main(): Promise<void> {
  const cli = parseArgs(process.argv.slice(2));
  if (cli.backend) setBackend(cli.backend);
  const log = (s: string): void => { process.stderr.write(`${s}\n`); };
  const results: ShapeResult[] = [];
  for (const spec of cli.shapes) {
    let r: ShapeResult;
    if (cli.workers > 0) {
      const p = await makeParallelStep(spec, cli.workers);
      try {
        r = benchShape(spec, cli, log, p.step, cli.workers);
      } finally {
        await p.close();
      }
    } else {
      r = benchShape(spec, cli, log);
    }
    results.push(r);
    if (!cli.json) {
      let line = `${r.shape.padEnd(6)} ${r.backend}${r.workers ? ` + ${r.workers} worker(s)` : ''}: ${Math.round(r.tokensPerSec)} tokens/s (${r.msPerStep.toFixed(1)} ms/step, median of ${r.repeats.length} × ${r.stepsPerRepeat} steps)`;
      if (r.profile) line += `\n       ${PHASES.map((p) => `${p} ${(100 * r.profile![p]).toFixed(1)}%`).join(', ')}`;
      console.log(line);
    }
  }
  if (cli.json) {
    console.log(JSON.stringify({ backend: kernels().name, workers: cli.workers, available: backendNames(), node: process.version, results }, null, 2));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
