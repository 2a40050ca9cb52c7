/**
 * GEMM throughput, GFLOP/s on one core: reference (plain TS) against the wasm
 * backend, plain SIMD and relaxed SIMD.
 *
 *   node dist/bench/gemm.js [--quick] [--wall]
 *
 * Node 20 validates relaxed SIMD only with --experimental-wasm-relaxed-simd:
 * without it this script re-runs itself once with the flag for those columns.
 * Columns for each wasm build:
 *   staged    ordinary Float32Arrays: operands are copied into wasm memory and back
 *   resident  operands allocated in wasm memory (alloc): no copies
 *   packedB   resident, and op(B) packed once beforehand (packB / gemmPacked)
 *
 * Timing: this process's CPU time (the work is single-threaded), so other
 * programs on the two cores do not count against a run (--wall: wall-clock).
 * The VM's speed still drifts over seconds (other guests share the host), so
 * the cells are measured round-robin, each round visiting every cell, and the
 * table shows each cell's median over the rounds; the in-cache ceiling printed
 * below the table is measured the same way.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { reference } from '../src/kernels/index.js';
import { loadWasmKernelsSync, type WasmKernels } from '../src/kernels/wasm/wasm.js';

interface Shape {
  what: string;
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
}

const shape = (what: string, transA: boolean, transB: boolean, m: number, n: number, k: number): Shape => ({ what, transA, transB, m, n, k });

const SHAPES: Shape[] = [
  shape('square', false, false, 512, 512, 512),
  shape('square', false, true, 512, 512, 512),
  shape('square', true, false, 512, 512, 512),
  // per step forward: h·W_hhᵀ, m = batch, n = gates·H, k = H
  shape('step fwd', false, true, 16, 512, 128),
  shape('step fwd', false, true, 16, 2048, 512),
  shape('step fwd', false, true, 32, 1024, 256),
  shape('step fwd', false, true, 64, 2048, 512),
  shape('step fwd', false, true, 64, 512, 128),
  // per step backward: dG·W_hh, k = gates·H
  shape('step bwd', false, false, 32, 256, 1024),
  shape('step bwd', false, false, 64, 512, 2048),
  // weight gradient after the time loop: dGᵀ·H over T·B rows
  shape('dW', true, false, 1024, 256, 2048),
  // input projection of all steps: X·W_ihᵀ
  shape('x proj', false, true, 2048, 1024, 64),
];

const QUICK = process.argv.includes('--quick');
const WALL = process.argv.includes('--wall');
const ROUNDS = QUICK ? 3 : 9;
const BUDGET_MS = QUICK ? 50 : 120;

const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => Math.random() * 2 - 1);

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
const now = WALL ? () => performance.now() : cpuMs;

/** One timed cell: fn repeated `reps` times per sample (calibrated to the budget on first use). */
class Cell {
  private reps = 0;
  readonly rates: number[] = [];
  constructor(private readonly flops: number, private readonly fn: () => void) {}

  sample(budgetMs: number): void {
    if (this.reps === 0) {
      this.fn(); // warm up (and tier up the wasm)
      const t = now();
      this.fn();
      this.reps = Math.max(1, Math.round(budgetMs / Math.max(now() - t, 1e-3)));
    }
    const t0 = now();
    for (let i = 0; i < this.reps; i++) this.fn();
    this.rates.push((this.flops * this.reps) / (Math.max(now() - t0, 1e-3) * 1e6));
  }

  median(): number {
    const r = [...this.rates].sort((a, b) => a - b);
    return r[Math.floor(r.length / 2)]!;
  }
}

interface WasmRow {
  staged: Cell;
  resident: Cell;
  packedB: Cell;
}

function wasmCells(w: WasmKernels, s: Shape): WasmRow {
  const { transA, transB, m, n, k } = s;
  const flops = 2 * m * n * k;
  const a = rand(m * k), b = rand(k * n), c = new Float32Array(m * n);
  const ra = w.alloc(m * k), rb = w.alloc(k * n), rc = w.alloc(m * n);
  ra.set(a);
  rb.set(b);
  const packed = w.packB(transB, k, n, rb);
  const lda = transA ? m : k;
  return {
    staged: new Cell(flops, () => w.gemm(transA, transB, m, n, k, a, b, c, false)),
    resident: new Cell(flops, () => w.gemm(transA, transB, m, n, k, ra, rb, rc, false)),
    packedB: new Cell(flops, () => w.gemmPacked(transA, m, ra, lda, packed, rc, n, false)),
  };
}

/** The kernel's in-cache ceiling right now: 64×64×256, resident. */
function ceilingCell(w: WasmKernels): Cell {
  const a = w.alloc(64 * 256), b = w.alloc(256 * 64), c = w.alloc(64 * 64);
  a.set(rand(a.length));
  b.set(rand(b.length));
  return new Cell(2 * 64 * 64 * 256, () => w.gemm(false, false, 64, 64, 256, a, b, c, false));
}

/** Round-robin over all cells; returns medians. */
function runWasm(w: WasmKernels): { rows: { staged: number; resident: number; packedB: number }[]; ceiling: number } {
  w.reserve(64 << 20); // all operands at once, no memory growth mid-run
  const rows = SHAPES.map((s) => wasmCells(w, s));
  const ceiling = ceilingCell(w);
  for (let r = 0; r < ROUNDS; r++) {
    ceiling.sample(BUDGET_MS);
    for (const row of rows) for (const cell of [row.staged, row.resident, row.packedB]) cell.sample(BUDGET_MS);
  }
  return {
    rows: rows.map((row) => ({ staged: row.staged.median(), resident: row.resident.median(), packedB: row.packedB.median() })),
    ceiling: ceiling.median(),
  };
}

function runReference(): number[] {
  const cells = SHAPES.map(({ transA, transB, m, n, k }) => {
    const a = rand(m * k), b = rand(k * n), c = new Float32Array(m * n);
    return new Cell(2 * m * n * k, () => reference.gemm(transA, transB, m, n, k, a, b, c, false));
  });
  for (let r = 0; r < (QUICK ? 1 : 3); r++) for (const cell of cells) cell.sample(QUICK ? 100 : 300);
  return cells.map((c) => c.median());
}

const label = (s: Shape): string => `${s.what} ${s.transA ? 'T' : 'N'}${s.transB ? 'T' : 'N'} ${s.m}×${s.n}×${s.k}`;
const f = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(1)).padStart(8);

function relaxedAvailable(): boolean {
  try {
    loadWasmKernelsSync({ simd: 'relaxed-simd' });
    return true;
  } catch {
    return false;
  }
}

type WasmResult = ReturnType<typeof runWasm>;

if (process.argv.includes('--relaxed-child')) {
  process.stdout.write(JSON.stringify(runWasm(loadWasmKernelsSync({ simd: 'relaxed-simd' }))));
} else {
  let relaxed: WasmResult | null = null;
  if (relaxedAvailable()) relaxed = runWasm(loadWasmKernelsSync({ simd: 'relaxed-simd' }));
  else {
    const self = fileURLToPath(import.meta.url);
    const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', self, '--relaxed-child', ...process.argv.slice(2)], { encoding: 'utf8' });
    if (r.status === 0) relaxed = JSON.parse(r.stdout) as WasmResult;
    else console.log(`relaxed SIMD unavailable: ${r.stderr.trim().split('\n').pop()}`);
  }
  const plain = runWasm(loadWasmKernelsSync({ simd: 'simd' }));
  const ref = runReference();
  console.log(`GEMM GFLOP/s, one core, median of ${ROUNDS} round-robin rounds by ${WALL ? 'wall-clock' : 'CPU'} time`);
  console.log(`(node ${process.version}, load average ${loadavg()[0]!.toFixed(1)}; reference: median of ${QUICK ? 1 : 3})`);
  console.log(`${'shape'.padEnd(28)}${'ref'.padStart(8)} | ${'simd: staged  resident  packedB'} | ${'relaxed: staged  resident  packedB'}`);
  SHAPES.forEach((s, i) => {
    const p = plain.rows[i]!;
    const r = relaxed?.rows[i];
    console.log(`${label(s).padEnd(28)}${f(ref[i])} | ${f(p.staged)}${f(p.resident)}${f(p.packedB)} | ${f(r?.staged)}${f(r?.resident)}${f(r?.packedB)}`);
  });
  console.log(`in-cache ceiling (64×64×256 resident): simd ${plain.ceiling.toFixed(1)}, relaxed ${relaxed ? relaxed.ceiling.toFixed(1) : '-'}`);
}
