/**
 * `npm run bench`: training throughput of every available backend against
 * PyTorch on CPU, side by side in one run, written to bench/RESULTS.md.
 *
 *   npm run bench [-- --shape S,M,... --budget SECONDS --torch-budget SECONDS --repeats N --no-torch --out FILE --workers N]
 *
 * Shape by shape, PyTorch (bench/torch_train.py, every thread setting, each in
 * its own subprocess) and then each of our backends (dist/bench/train-step.js,
 * a fresh node process per backend and shape) measure the same training step,
 * so the two sides run minutes apart at most, under the same machine load.
 * Our runs are budget-aware (see train-step.ts) and phase-profiled. Then the
 * best of our backends on that shape runs again data-parallel over the batch
 * (train-step.js --workers N; N = available cores - 1 by default, so both
 * cores of a 2-core machine), reported in its own column; the ratio to PyTorch
 * takes the best of single-threaded and data-parallel.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { backendNames } from '../src/index.js';
import { PHASES, SHAPES, type Phase, type ShapeResult, type ShapeSpec } from './train-step.js';

const here = dirname(fileURLToPath(import.meta.url)); // dist/bench
const root = join(here, '..', '..');
const PYTHON = '/usr/bin/python3';
const TORCH_SCRIPT = join(root, 'bench', 'torch_train.py');

/**
 * Our measurements run from a private copy of dist/ (with package.json and a
 * node_modules link), so that a rebuild of the checkout during the run (which
 * starts with rm -rf dist) cannot break them, and every measurement runs the same code.
 */
function snapshotDist(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bptt-bench-'));
  try {
    cpSync(join(root, 'dist'), join(dir, 'dist'), { recursive: true });
    cpSync(join(root, 'package.json'), join(dir, 'package.json')); // "type": "module"
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  try {
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  } catch { /* no node_modules: the bench needs none */ }
  return dir;
}
let stepScript = join(here, 'train-step.js');

interface TorchShape {
  best: { tokensPerSec: number; setting: string; torchThreads: number; openblasThreads: number };
  perSetting: Record<string, number>;
  detail: Record<string, { tokensPerSec: number; repeats: number[]; stepsPerRepeat: number; warmupSteps: number; msPerStep: number }>;
}
interface TorchOut {
  torchVersion: string;
  blas: string;
  settings: string[];
  results: Record<string, TorchShape>;
}

interface Options {
  shapes: ShapeSpec[];
  budget: number;
  torchBudget: number;
  repeats: number;
  torch: boolean;
  out: string;
  args: string[];
  /** worker threads for the data-parallel column (0: no such column) */
  workers: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { shapes: [...SHAPES], budget: 12, torchBudget: 6, repeats: 3, torch: true, out: join(root, 'bench', 'RESULTS.md'), args: argv,
    workers: Math.max(0, availableParallelism() - 1) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`bench: ${a} needs a value`);
      return v;
    };
    if (a === '--shape') {
      const v = next();
      o.shapes = v === 'all' ? [...SHAPES] : v.split(',').map((id) => {
        const s = SHAPES.find((x) => x.id === id);
        if (!s) throw new Error(`bench: --shape expects ${SHAPES.map((x) => x.id).join(', ')} or all, got '${id}'`);
        return s;
      });
    } else if (a === '--budget') o.budget = Number(next());
    else if (a === '--torch-budget') o.torchBudget = Number(next());
    else if (a === '--repeats') o.repeats = Number(next());
    else if (a === '--no-torch') o.torch = false;
    else if (a === '--out') o.out = next();
    else if (a === '--workers') o.workers = Number(next());
    else throw new Error(`bench: unknown option '${a}' (options: --shape, --budget, --torch-budget, --repeats, --no-torch, --out, --workers)`);
  }
  if (!(Number.isInteger(o.workers) && o.workers >= 0)) throw new Error('bench: --workers expects an integer >= 0');
  if (!(o.budget > 0) || !(o.torchBudget > 0) || !(Number.isInteger(o.repeats) && o.repeats > 0)) throw new Error('bench: --budget and --repeats expect positive numbers');
  return o;
}

function torchVersion(): string | null {
  try {
    return execFileSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

function runTorch(shape: string, o: Options): TorchOut {
  const r = spawnSync(PYTHON, [TORCH_SCRIPT, '--shape', shape, '--repeats', String(torchRepeats(o)), '--budget', String(o.torchBudget)], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24,
  });
  if (r.status !== 0) throw new Error(`torch_train.py --shape ${shape} exited with ${r.status}`);
  return JSON.parse(r.stdout) as TorchOut;
}

/**
 * The wasm backend uses its relaxed-SIMD (FMA) build by default where the engine
 * takes it; 'wasm-simd128' pins the plain-SIMD build (BPTT_WASM_BUILD=simd), for
 * runtimes without relaxed SIMD. Worker threads inherit the environment.
 */
const PLAIN = 'wasm-simd128';

function runOurs(shape: string, backend: string, o: Options, workers = 0): ShapeResult | string {
  const mode = workers > 0 ? ['--workers', String(workers)] : ['--profile'];
  const env = backend === PLAIN ? { ...process.env, BPTT_WASM_BUILD: 'simd' } : process.env;
  const r = spawnSync(process.execPath, [stepScript, '--shape', shape, '--backend', backend === PLAIN ? 'wasm' : backend, '--json', ...mode,
    '--budget', String(o.budget), '--repeats', String(o.repeats)], {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24, env,
  });
  if (r.status !== 0) return `failed (exit ${r.status})`;
  const result = (JSON.parse(r.stdout) as { results: ShapeResult[] }).results[0]!;
  return { ...result, backend };
}

const torchRepeats = (o: Options): number => Math.max(o.repeats, 5);

/**
 * Other work on the machine skews every number, so each measurement records the
 * average number of cores that processes other than this benchmark kept busy:
 * machine-wide busy time (/proc/stat) minus this process's and its reaped
 * children's CPU time (/proc/self/stat utime + stime + cutime + cstime), both in
 * clock ticks of 1/100 s. Linux only; NaN elsewhere.
 */
interface Snapshot { busy: number; own: number; t: number }
function snapshot(): Snapshot | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...
    const busy = cpu[0]! + cpu[1]! + cpu[2]! + cpu[5]! + cpu[6]! + cpu[7]!;
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number); // f[0] is field 3 (state)
    const own = f[11]! + f[12]! + f[13]! + f[14]!; // fields 14-17
    return { busy, own, t: performance.now() };
  } catch {
    return null;
  }
}
function foreignCores(a: Snapshot | null, b: Snapshot | null): number {
  if (!a || !b || b.t <= a.t) return NaN;
  return Math.max(0, (b.busy - a.busy - (b.own - a.own)) / 100 / ((b.t - a.t) / 1000));
}
/** shape → side ('PyTorch' or a backend) → other processes' average busy cores while it was measured */
const foreign = new Map<string, Map<string, number>>();
function measured<T>(shape: string, side: string, fn: () => T): T {
  const a = snapshot();
  const r = fn();
  const row = foreign.get(shape) ?? new Map<string, number>();
  row.set(side, foreignCores(a, snapshot()));
  foreign.set(shape, row);
  return r;
}
const maxForeign = (): number => Math.max(0, ...[...foreign.values()].flatMap((m) => [...m.values()]).filter((x) => !Number.isNaN(x)));

const fmt = (x: number): string => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(3));
const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
const shapeLabel = (s: ShapeSpec): string => `${s.cell === 'rnn' ? 'tanh RNN' : s.cell.toUpperCase()} ${s.layers}×${s.hidden}, B ${s.batch}, T ${s.steps}`;

function machine(torchV: string | null, torch: TorchOut | null): string[] {
  let model = 'unknown';
  try {
    model = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? model;
  } catch { /* not Linux */ }
  let flags = '';
  try {
    const f = /flags\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.split(/\s+/) ?? [];
    flags = ['avx2', 'fma', 'avx512f'].filter((x) => f.includes(x)).join(', ');
  } catch { /* not Linux */ }
  let openblas = '';
  try {
    openblas = execFileSync('dpkg-query', ['-W', '-f', '${Package} ${Version}', 'libopenblas0-pthread'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch { /* no dpkg or not installed */ }
  return [
    `- CPU: ${model} (/proc/cpuinfo), ${cpus().length} logical cores${flags ? `, ${flags}` : ''}`,
    `- Node.js ${process.version}`,
    torchV
      ? `- PyTorch ${torchV} (${PYTHON}), CPU only; BLAS: ${torch?.blas ?? 'unknown'}${openblas ? ` (${openblas})` : ''}. OPENBLAS_NUM_THREADS is fixed per subprocess before torch is imported; torch.set_num_threads inside.`
      : `- PyTorch: not importable with ${PYTHON}; skipped`,
  ];
}

function main(): void {
  const o = parseArgs(process.argv.slice(2));
  const backends = [...backendNames(), ...(backendNames().includes('wasm') ? [PLAIN] : [])];
  const torchV = o.torch ? torchVersion() : null;
  const started = new Date();
  const load0 = loadavg();
  const log = (s: string): void => { process.stderr.write(`${s}\n`); };
  log(`bench: backends ${backends.join(', ')}; shapes ${o.shapes.map((s) => s.id).join(', ')}; budget ${o.budget} s per shape and backend`);
  if (!o.torch) log('bench: PyTorch skipped (--no-torch)');
  else if (!torchV) log(`bench: PyTorch is not importable with ${PYTHON} (apt-get install python3-torch libopenblas0-pthread); skipping it`);

  const ours = new Map<string, Map<string, ShapeResult | string>>(); // shape → backend → result
  const parallel = new Map<string, ShapeResult | string>(); // shape → best backend, data-parallel
  const torch = new Map<string, TorchShape>();
  let torchMeta: TorchOut | null = null;
  for (const s of o.shapes) {
    if (torchV) {
      log(`bench: PyTorch, shape ${s.id}`);
      const t = measured(s.id, 'PyTorch', () => runTorch(s.id, o));
      torchMeta = t;
      torch.set(s.id, t.results[s.id]!);
    }
    const row = new Map<string, ShapeResult | string>();
    for (const b of backends) {
      log(`bench: ours (${b}), shape ${s.id}`);
      row.set(b, measured(s.id, b, () => runOurs(s.id, b, o)));
    }
    ours.set(s.id, row);
    const best = bestOf(row);
    if (o.workers > 0 && best) {
      log(`bench: ours (${best.backend} + ${o.workers} worker thread(s), data-parallel), shape ${s.id}`);
      parallel.set(s.id, measured(s.id, 'data-parallel', () => runOurs(s.id, best.backend, o, o.workers)));
    }
    printRow(s, row, torch.get(s.id), parallel.get(s.id));
  }
  const seconds = (Date.now() - started.getTime()) / 1000;
  const md = report(o, backends, ours, parallel, torch, torchV, torchMeta, started, seconds, load0, loadavg());
  writeFileSync(o.out, md);
  log(`bench: ${seconds.toFixed(0)} s in all; wrote ${relative(process.cwd(), o.out) || o.out}`);
  console.log('\n' + mainTable(o, backends, ours, parallel, torch).join('\n'));
}

function bestOf(row: Map<string, ShapeResult | string>): ShapeResult | null {
  let best: ShapeResult | null = null;
  for (const r of row.values()) if (typeof r !== 'string' && (!best || r.tokensPerSec > best.tokensPerSec)) best = r;
  return best;
}

/** The faster of the best single-threaded backend and the data-parallel run. */
function bestOverall(row: Map<string, ShapeResult | string>, par: ShapeResult | string | undefined): ShapeResult | null {
  const best = bestOf(row);
  return par && typeof par !== 'string' && (!best || par.tokensPerSec > best.tokensPerSec) ? par : best;
}

const label = (r: ShapeResult): string => (r.workers ? `${r.backend}, ${r.workers + 1} threads` : r.backend);

function printRow(s: ShapeSpec, row: Map<string, ShapeResult | string>, t: TorchShape | undefined, par: ShapeResult | string | undefined): void {
  const parts = [...row].map(([b, r]) => `${b} ${typeof r === 'string' ? r : fmt(r.tokensPerSec)}`);
  if (par) parts.push(`data-parallel ${typeof par === 'string' ? par : `${fmt(par.tokensPerSec)} (${label(par)})`}`);
  if (t) parts.push(`PyTorch ${fmt(t.best.tokensPerSec)} (${t.best.torchThreads}×${t.best.openblasThreads})`);
  console.log(`${s.id.padEnd(6)} tokens/s: ${parts.join(' | ')}`);
}

function mainTable(
  o: Options, backends: string[], ours: Map<string, Map<string, ShapeResult | string>>, parallel: Map<string, ShapeResult | string>, torch: Map<string, TorchShape>,
): string[] {
  const parCol = o.workers > 0 ? [`ours: best backend, data-parallel (${o.workers + 1} threads)`] : [];
  const head = ['shape', 'model', ...backends.map((b) => `ours: ${b}`), ...parCol, 'PyTorch (best)', 'PyTorch setting', 'ours best / PyTorch'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const s of o.shapes) {
    const row = ours.get(s.id)!;
    const t = torch.get(s.id);
    const par = parallel.get(s.id);
    const best = bestOverall(row, par);
    const cells = [s.id, shapeLabel(s)];
    for (const b of backends) {
      const r = row.get(b)!;
      cells.push(typeof r === 'string' ? r : `${fmt(r.tokensPerSec)}${r.coldOnly ? ' *' : ''}`);
    }
    if (parCol.length) cells.push(par === undefined ? '' : typeof par === 'string' ? par : `${fmt(par.tokensPerSec)}${par.coldOnly ? ' *' : ''} (${par.backend})`);
    cells.push(t ? fmt(t.best.tokensPerSec) : 'skipped');
    cells.push(t ? `torch ${t.best.torchThreads} × OpenBLAS ${t.best.openblasThreads}` : '');
    cells.push(t && best ? `${(best.tokensPerSec / t.best.tokensPerSec).toPrecision(3)} (${label(best)})` : '');
    lines.push(`| ${cells.join(' | ')} |`);
  }
  return lines;
}

function report(
  o: Options, backends: string[], ours: Map<string, Map<string, ShapeResult | string>>, parallel: Map<string, ShapeResult | string>, torch: Map<string, TorchShape>,
  torchV: string | null, torchMeta: TorchOut | null, started: Date, seconds: number, load0: number[], load1: number[],
): string {
  const cmd = ['npm run bench', ...(o.args.length ? ['--', ...o.args] : [])].join(' ');
  const L: string[] = [];
  L.push('# Training throughput: bptt vs PyTorch (CPU)', '');
  L.push(`Written by \`${cmd}\` (= \`npm run build && node dist/bench/run.js${o.args.length ? ' ' + o.args.join(' ') : ''}\`) on ${started.toISOString()}, ${seconds.toFixed(0)} s in all.`, '');
  L.push('One full training step: embedding 64 from vocab 80 → recurrent layer(s) → linear to 80 → softmax cross-entropy over all T·B',
    'positions → backward → clip grad norm 5 → Adam (lr 2e-3), random token batches. Tokens per second = T·B / time of a step,',
    'median over timed repeats after warm-up. Higher is better.', '');
  L.push('## Machine', '');
  L.push(...machine(torchV, torchMeta));
  L.push(`- Load average (1, 5, 15 min) at start ${load0.map((x) => x.toFixed(2)).join(', ')}, at end ${load1.map((x) => x.toFixed(2)).join(', ')} (includes this benchmark);`,
    `  CPU kept busy by other processes during the measurements: up to ${maxForeign().toFixed(2)} of ${cpus().length} cores (per measurement below)`, '');
  if (maxForeign() > 0.2) {
    L.push(`**Caution:** other processes used up to ${maxForeign().toFixed(1)} of the ${cpus().length} cores during this run. Both sides are measured shape by`,
      'shape under the same conditions, but absolute numbers are lower and noisier than on an idle machine, and the',
      'multi-threaded PyTorch settings suffer most (their threads spin-wait for a core).', '');
  }
  L.push('## Tokens per second', '');
  L.push(...mainTable(o, backends, ours, parallel, torch), '');
  if (o.workers > 0) {
    L.push(`"data-parallel": the best single-threaded backend of the shape again, with the batch rows split between the main thread and`,
      `${o.workers} worker thread(s) (\`DataParallel\`, one gradient reduction per step, weights in shared memory; through the BPTT engine,`,
      'full BPTT). The ratio to PyTorch takes the faster of the two.', '');
  }
  const anyCold = [...ours.values(), parallel].some((row) => [...row.values()].some((r) => typeof r !== 'string' && r.coldOnly));
  if (anyCold) L.push('\\* one step took longer than the budget, so this is a single step without separate warm-up (see below).', '');

  if (torch.size > 0) {
    const settings = torchMeta?.settings ?? [];
    L.push('## PyTorch per thread setting (tokens/s)', '');
    L.push(`| shape | ${settings.map((s) => s.replace('torch_threads=', 'torch ').replace(',OPENBLAS_NUM_THREADS=', ' × OpenBLAS ')).join(' | ')} |`);
    L.push(`|---|${settings.map(() => '---').join('|')}|`);
    for (const s of o.shapes) {
      const t = torch.get(s.id);
      if (!t) continue;
      L.push(`| ${s.id} | ${settings.map((k) => {
        const v = t.perSetting[k];
        return v === undefined ? '' : k === t.best.setting ? `**${fmt(v)}**` : fmt(v);
      }).join(' | ')} |`);
    }
    L.push('', `Each setting runs in its own python process (OPENBLAS_NUM_THREADS must be set before import); median of the timed repeats; best in bold.`, '');
  }

  L.push('## Where our step spends its time', '');
  L.push('Share of the step\'s wall-clock time per phase (timers around the phases of the timed steps; the tape is cut at the',
    'recurrent layers\' input and output, which does the same arithmetic as one `loss.backward()`). "output linear + loss" is',
    'the head and cross-entropy, forward and backward; "optimizer" is zeroGrad + clipGradNorm + Adam.', '');
  const phaseName: Record<Phase, string> = {
    recurrentForward: 'recurrent forward', recurrentBackward: 'recurrent backward', headAndLoss: 'output linear + loss',
    embedding: 'embedding', optimizer: 'clip + Adam',
  };
  L.push(`| shape | backend | ${PHASES.map((p) => phaseName[p]).join(' | ')} | ms/step |`);
  L.push(`|---|---|${PHASES.map(() => '---').join('|')}|---|`);
  for (const s of o.shapes) {
    for (const [b, r] of ours.get(s.id)!) {
      if (typeof r === 'string' || !r.profile) continue;
      L.push(`| ${s.id} | ${b} | ${PHASES.map((p) => pct(r.profile![p])).join(' | ')} | ${fmt(r.msPerStep)} |`);
    }
  }
  L.push('');

  L.push('## How each number was measured', '');
  L.push('| shape | side | warm-up steps | timed repeats × steps | per-repeat tokens/s | other processes (cores) |', '|---|---|---|---|---|---|');
  const other = (shape: string, side: string): string => {
    const x = foreign.get(shape)?.get(side);
    return x === undefined || Number.isNaN(x) ? '' : x.toFixed(2);
  };
  for (const s of o.shapes) {
    const t = torch.get(s.id);
    if (t) {
      for (const [k, d] of Object.entries(t.detail)) {
        L.push(`| ${s.id} | PyTorch ${k.replace('torch_threads=', 'torch ').replace(',OPENBLAS_NUM_THREADS=', ' × OpenBLAS ')} | ${d.warmupSteps} | ${d.repeats.length} × ${d.stepsPerRepeat} | ${d.repeats.map(fmt).join(', ')} | ${other(s.id, 'PyTorch')} |`);
      }
    }
    for (const [b, r] of ours.get(s.id)!) {
      if (typeof r === 'string') { L.push(`| ${s.id} | ours ${b} | | ${r} | | ${other(s.id, b)} |`); continue; }
      L.push(`| ${s.id} | ours ${b} | ${r.coldOnly ? '0 (single cold step)' : r.warmupSteps} | ${r.repeats.length} × ${r.stepsPerRepeat} | ${r.repeats.map(fmt).join(', ')} | ${other(s.id, b)} |`);
    }
    const par = parallel.get(s.id);
    if (par !== undefined) {
      const side = 'data-parallel';
      const name = typeof par === 'string' ? 'ours, data-parallel' : `ours ${label(par)}`;
      if (typeof par === 'string') L.push(`| ${s.id} | ${name} | | ${par} | | ${other(s.id, side)} |`);
      else L.push(`| ${s.id} | ${name} | ${par.coldOnly ? '0 (single cold step)' : par.warmupSteps} | ${par.repeats.length} × ${par.stepsPerRepeat} | ${par.repeats.map(fmt).join(', ')} | ${other(s.id, side)} |`);
    }
  }
  L.push('', `Our side: \`node dist/bench/train-step.js --shape ID --backend NAME --json --profile --budget ${o.budget} --repeats ${o.repeats}\`, a fresh process per`,
    `backend and shape; warm-up until a quarter of the budget is used, then steps per repeat scaled so the timed part takes`,
    `about ${o.budget} s; if the first step alone takes the whole budget, that single step is reported.`,
    ...(o.workers > 0 ? [`Data-parallel: the same command with \`--workers ${o.workers}\` instead of \`--profile\`, for the best backend of the shape.`] : []),
    `PyTorch side: \`${PYTHON} bench/torch_train.py --shape ID --repeats ${torchRepeats(o)} --budget ${o.torchBudget}\` (every setting: torch threads × OpenBLAS threads 1×2, 2×1, 2×2),`,
    `with the same warm-up and scaling rules (fast steps are first calibrated over ≥ 0.3 s).`, '');
  return L.join('\n');
}

const distCopy = snapshotDist();
stepScript = join(distCopy, 'dist', 'bench', 'train-step.js');
try {
  main();
} catch (e) {
  rmSync(distCopy, { recursive: true, force: true });
  process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
}
rmSync(distCopy, { recursive: true, force: true });
