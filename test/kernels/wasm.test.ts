import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kernels, reference, residentZeros, wasmBackend, type Kernels, type WasmKernels } from '../../src/kernels/index.js';
import { loadWasmKernels, loadWasmKernelsSync } from '../../src/kernels/wasm/wasm.js';
import { ConfigError, Rng, ShapeError } from '../../src/tensor/index.js';

// wasm-plain.test.ts reruns this file on the plain-SIMD build; by default the active (relaxed, where the engine has it) one.
const plainBuild = process.env.BPTT_TEST_WASM_BUILD === 'simd';
// delegateSmall: false, so that the small odd shapes below exercise the wasm code rather than being handed to reference.
const active = wasmBackend();
assert.ok(active, 'the wasm backend did not load in Node');
const wasm: WasmKernels = loadWasmKernelsSync({ simd: plainBuild ? 'simd' : active.relaxedSimd ? 'relaxed-simd' : 'simd', delegateSmall: false });
if (plainBuild) assert.equal(wasm.relaxedSimd, false);

const rng = new Rng(1234);
const rand = (n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => rng.range(-scale, scale));

/** Largest |got - want| must stay within tol·max(1, |want|) elementwise. */
function assertClose(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    const err = Math.abs(g - w);
    assert.ok(err <= tol * Math.max(1, Math.abs(w)), `${what}: at ${i} got ${g}, want ${w} (error ${err}, tolerance ${tol})`);
  }
}

/** GEMM: error relative to the largest |C| (float32 sums of k products). */
function assertGemmClose(what: string, got: Float32Array, want: Float32Array): void {
  let scale = 1;
  for (const v of want) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i]! - want[i]!);
    assert.ok(err <= 1e-5 * scale, `${what}: at ${i} got ${got[i]}, want ${want[i]} (error ${err}, scale ${scale})`);
  }
}

describe('wasm gemm', () => {
  const sizes = [1, 3, 5, 7, 13, 17, 33, 65, 130];
  const shapes: [number, number, number][] = [];
  for (const m of sizes) for (const n of sizes) shapes.push([m, n, sizes[(m * 7 + n * 3) % sizes.length]!]);
  // across the depth block (256), the row block and the column block, and k = 0
  shapes.push([5, 9, 300], [70, 33, 520], [130, 17, 257], [3, 2100, 20], [200, 40, 64], [4, 8, 0], [3, 5, 0], [1, 1, 1000]);

  test('all transposes, overwrite and accumulate, against reference', () => {
    for (const [m, n, k] of shapes) {
      for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
        const a = rand(m * k), b = rand(k * n), c0 = rand(m * n);
        const want = c0.slice(), got = c0.slice();
        reference.gemm(transA, transB, m, n, k, a, b, want, accumulate);
        wasm.gemm(transA, transB, m, n, k, a, b, got, accumulate);
        assertGemmClose(`gemm ${m}x${n}x${k} tA=${transA} tB=${transB} acc=${accumulate}`, got, want);
      }
    }
  });

  test('strided views with offsets: leading dimensions, gaps in C left untouched', () => {
    for (const [m, n, k] of [[3, 5, 7], [13, 17, 33], [65, 9, 130], [1, 33, 5], [33, 1, 17]] as const) {
      for (const transA of [false, true]) for (const transB of [false, true]) for (const accumulate of [false, true]) {
        const [ra, ca] = transA ? [k, m] : [m, k];
        const [rb, cb] = transB ? [n, k] : [k, n];
        const lda = ca + 3, ldb = cb + 5, ldc = n + 2;
        const abuf = rand(7 + ra * lda), bbuf = rand(11 + rb * ldb), cbuf = rand(4 + m * ldc + 6);
        const a = abuf.subarray(7), b = bbuf.subarray(11);
        const want = cbuf.slice(), got = cbuf.slice();
        reference.gemmStrided(transA, transB, m, n, k, a, lda, b, ldb, want.subarray(4), ldc, accumulate);
        wasm.gemmStrided(transA, transB, m, n, k, a, lda, b, ldb, got.subarray(4), ldc, accumulate);
        assertGemmClose(`gemmStrided ${m}x${n}x${k} tA=${transA} tB=${transB} acc=${accumulate}`, got, want);
      }
    }
  });

  test('recurrent shapes (batch × gates × hidden)', () => {
    for (const [m, n, k] of [[16, 512, 128], [32, 1024, 256], [64, 2048, 512]] as const) {
      const a = rand(m * k), b = rand(n * k), want = rand(m * n), got = want.slice();
      reference.gemm(false, true, m, n, k, a, b, want, true);
      wasm.gemm(false, true, m, n, k, a, b, got, true);
      assertGemmClose(`gemm ${m}x${n}x${k}`, got, want);
    }
  });

  test('k = 0 zeroes C when overwriting and leaves it when accumulating', () => {
    const c = rand(12);
    const keep = c.slice();
    wasm.gemm(false, false, 3, 4, 0, new Float32Array(0), new Float32Array(0), c, true);
    assert.deepEqual(c, keep);
    wasm.gemm(true, true, 3, 4, 0, new Float32Array(0), new Float32Array(0), c, false);
    assert.deepEqual(c, new Float32Array(12));
  });

  test('Float64Array operands are delegated to reference (bit for bit)', () => {
    const a = Float64Array.from(rand(15)), b = Float64Array.from(rand(20)), c1 = new Float64Array(12), c2 = new Float64Array(12);
    reference.gemm(false, false, 3, 4, 5, a, b, c1, false);
    wasm.gemm(false, false, 3, 4, 5, a, b, c2, false);
    assert.deepEqual(c2, c1);
  });

  test('an operand shorter than the shape says is a ShapeError, not a memory overrun', () => {
    assert.throws(() => wasm.gemm(false, false, 4, 4, 4, rand(15), rand(16), new Float32Array(16), false), ShapeError);
    assert.throws(() => wasm.lstmForward(rand(4 * 6), rand(6), new Float32Array(5), new Float32Array(6), 2, 3), ShapeError);
  });
});

describe('wasm memory: alloc, pin, packB', () => {
  test('residentZeros: float32 state in the wasm memory while wasm is active and shared; float64 stays ordinary', () => {
    const w = wasmBackend()!; // the registered instance, not this file's own
    const a = residentZeros(10, 'float32');
    assert.deepEqual(a, new Float32Array(10));
    assert.equal(w.isResident(a), kernels() === w && w.sharedMemory);
    const d = residentZeros(10, 'float64');
    assert.ok(d instanceof Float64Array && !w.isResident(d));
  });

  test('allocCollected views work like alloc; free on one is allowed once', () => {
    const a = wasm.allocCollected(7);
    assert.ok(wasm.isResident(a));
    wasm.free(a);
    assert.throws(() => wasm.free(a), ConfigError);
  });

  test('alloc gives zeroed resident views that kernels use in place; free returns them', () => {
    const a = wasm.alloc(6), b = wasm.alloc(8), c = wasm.alloc(12);
    assert.deepEqual(c, new Float32Array(12));
    assert.ok(wasm.isResident(a) && !wasm.isResident(new Float32Array(3)));
    a.set(rand(6));
    b.set(rand(8));
    const want = new Float32Array(12);
    reference.gemm(true, false, 3, 4, 2, a, b, want, false);
    wasm.gemm(true, false, 3, 4, 2, a, b, c, false);
    assertGemmClose('resident gemm', c, want);
    // mixed: resident A, ordinary B and C (offset views)
    const cb = new Float32Array(15);
    wasm.gemm(true, false, 3, 4, 2, a, b.slice(), cb.subarray(3), false);
    assertGemmClose('mixed gemm', cb.subarray(3), want);
    for (const v of [a, b, c]) wasm.free(v);
    assert.throws(() => wasm.free(a), ConfigError);
    assert.throws(() => wasm.free(new Float32Array(2)), ConfigError);
  });

  test('memory growth: shared memory keeps alloc views valid; unshared detaches them and refresh revives them', () => {
    assert.equal(wasm.sharedMemory, true, 'Node gives the default backend a shared memory');
    const unshared = loadWasmKernelsSync({ sharedMemory: false });
    assert.equal(unshared.sharedMemory, false);
    for (const w of [wasm, unshared]) {
      const v = w.alloc(1000);
      v.set(rand(1000));
      const keep = v.slice();
      let grown = 0;
      const off = w.onMemoryGrow(() => grown++);
      w.reserve(w.memory.buffer.byteLength / 4 + 1000); // more than is free now
      off();
      assert.equal(grown, 1);
      if (w.sharedMemory) {
        assert.deepEqual(v, keep, 'the old view still reads the block');
        assert.ok(w.isResident(v));
        assert.equal(w.refresh(v), v);
      } else assert.equal(v.length, 0, 'the old view is detached');
      const live = w.refresh(v);
      assert.deepEqual(live, keep);
      // the live view is used in place by the kernels
      const c = w.alloc(1);
      w.gemm(false, false, 1, 1, 1000, live, live, c, false);
      assert.ok(Math.abs(c[0]! - keep.reduce((s, x) => s + x * x, 0)) < 1e-3);
      w.free(live);
      w.free(c);
    }
  });

  test('an unshared-memory instance, compiled asynchronously as in a browser, computes the same as the default one', async () => {
    const unshared = await loadWasmKernels({ sharedMemory: false, simd: 'simd' });
    assert.equal(unshared.sharedMemory, false);
    for (const [m, n, k] of [[3, 5, 7], [33, 65, 130]] as const) {
      const a = rand(m * k), b = rand(n * k), c1 = new Float32Array(m * n), c2 = new Float32Array(m * n);
      wasm.gemm(false, true, m, n, k, a, b, c1, false);
      unshared.gemm(false, true, m, n, k, a, b, c2, false);
      assertGemmClose('unshared gemm', c2, c1);
    }
  });

  test('pinned operands are read from their copy until pinned again; as outputs they throw', () => {
    const [m, n, k] = [5, 7, 9];
    const a = rand(m * k), b = rand(k * n);
    wasm.pin(b);
    const want = new Float32Array(m * n), got = new Float32Array(m * n);
    reference.gemm(false, false, m, n, k, a, b, want, false);
    wasm.gemm(false, false, m, n, k, a, b, got, false);
    assertGemmClose('pinned B', got, want);
    b.fill(0); // not re-pinned: the kernel still sees the old contents
    wasm.gemm(false, false, m, n, k, a, b, got, false);
    assertGemmClose('stale pin', got, want);
    wasm.pin(b);
    wasm.gemm(false, false, m, n, k, a, b, got, false);
    assert.deepEqual(got, new Float32Array(m * n));
    assert.throws(() => wasm.gemm(false, false, 1, 1, 1, a, a, b, false), ConfigError);
    wasm.unpin(b);
    wasm.gemm(false, false, 1, 1, 1, a, a, b, false);
  });

  test('packB + gemmPacked match gemm for both layouts of B, and update repacks', () => {
    for (const [m, n, k] of [[1, 1, 1], [3, 13, 7], [17, 65, 33], [16, 520, 300], [64, 24, 513], [5, 2100, 300]] as const) {
      for (const transA of [false, true]) for (const transB of [false, true]) {
        const a = rand(m * k), b = rand(k * n), c0 = rand(m * n);
        const packed = wasm.packB(transB, k, n, b);
        const want = c0.slice(), got = c0.slice();
        reference.gemm(transA, transB, m, n, k, a, b, want, true);
        wasm.gemmPacked(transA, m, a, transA ? m : k, packed, got, n, true);
        assertGemmClose(`gemmPacked ${m}x${n}x${k} tA=${transA} tB=${transB}`, got, want);
        const b2 = rand(k * n);
        packed.update(b2);
        reference.gemm(transA, transB, m, n, k, a, b2, want, false);
        wasm.gemmPacked(transA, m, a, transA ? m : k, packed, got, n, false);
        assertGemmClose(`gemmPacked after update ${m}x${n}x${k}`, got, want);
        packed.free();
        assert.throws(() => packed.update(b2), ConfigError);
        assert.throws(() => wasm.gemmPacked(transA, m, a, transA ? m : k, packed, got, n, false), ConfigError);
      }
    }
  });
});

type Call = (k: Kernels, arrays: Float32Array[]) => void;

/** Runs one kernel on copies of the same inputs with both backends and compares every array afterwards. */
function compare(what: string, arrays: Float32Array[], call: Call, tol = 2e-6): void {
  const want = arrays.map((a) => a.slice());
  const got = arrays.map((a) => a.slice());
  call(reference, want);
  call(wasm, got);
  want.forEach((w, i) => assertClose(`${what} array ${i}`, got[i]!, w, tol));
}

describe('wasm pointwise kernels against reference', () => {
  const shapes: [number, number][] = [[1, 1], [1, 3], [3, 4], [2, 5], [5, 7], [3, 13], [4, 17], [2, 33], [1, 130]];
  const s = 3; // pre-activations in [-3, 3]

  test('lstmForward, lstmBackward', () => {
    for (const [B, H] of shapes) {
      const n = B * H;
      compare(`lstmForward ${B}x${H}`, [rand(4 * n, s), rand(n), rand(n), rand(n)], (k, [g, cp, c, h]) => k.lstmForward(g!, cp!, c!, h!, B, H));
      const gates = rand(4 * n).map((v) => 0.5 + 0.5 * v);
      compare(`lstmBackward ${B}x${H}`, [gates, rand(n), rand(n, 2), rand(n), rand(n), rand(4 * n)],
        (k, [g, cp, c, dh, dc, dG]) => k.lstmBackward(g!, cp!, c!, dh!, dc!, dG!, B, H));
    }
  });

  test('gruForward, gruBackward', () => {
    for (const [B, H] of shapes) {
      const n = B * H;
      compare(`gruForward ${B}x${H}`, [rand(3 * n, s), rand(3 * n, s), rand(n), rand(3 * n), rand(n)],
        (k, [xp, hp, hPrev, gates, h]) => k.gruForward(xp!, hp!, hPrev!, gates!, h!, B, H));
      compare(`gruBackward ${B}x${H}`, [rand(3 * n), rand(3 * n, s), rand(n), rand(n), rand(3 * n), rand(3 * n), rand(n)],
        (k, [g, hp, hPrev, dh, dXp, dHp, dhPrev]) => k.gruBackward(g!, hp!, hPrev!, dh!, dXp!, dHp!, dhPrev!, B, H));
    }
  });

  test('GRU reset-before: gates, output, backward ZN and R (untouched columns preserved)', () => {
    for (const [B, H] of shapes) {
      const n = B * H;
      compare(`gruResetGates ${B}x${H}`, [rand(3 * n, s), rand(3 * n, s), rand(n), rand(3 * n), rand(n)],
        (k, [xp, hp, hPrev, gates, rh]) => k.gruResetGates(xp!, hp!, hPrev!, gates!, rh!, B, H));
      compare(`gruResetOutput ${B}x${H}`, [rand(3 * n, s), rand(3 * n, s), rand(n), rand(3 * n), rand(n)],
        (k, [xp, hp, hPrev, gates, h]) => k.gruResetOutput(xp!, hp!, hPrev!, gates!, h!, B, H));
      compare(`gruResetBackwardZN ${B}x${H}`, [rand(3 * n), rand(n), rand(n), rand(3 * n), rand(n)],
        (k, [g, hPrev, dh, dG, dhPrev]) => k.gruResetBackwardZN(g!, hPrev!, dh!, dG!, dhPrev!, B, H));
      compare(`gruResetBackwardR ${B}x${H}`, [rand(3 * n), rand(n), rand(n), rand(3 * n), rand(n)],
        (k, [g, hPrev, dRh, dG, dhPrev]) => k.gruResetBackwardR(g!, hPrev!, dRh!, dG!, dhPrev!, B, H));
    }
  });

  test('rnnForward, rnnBackward (tanh and relu)', () => {
    for (const len of [1, 3, 4, 5, 7, 13, 130]) {
      for (const nl of ['tanh', 'relu'] as const) {
        compare(`rnnForward ${nl} ${len}`, [rand(len, s)], (k, [g]) => k.rnnForward(g!, nl));
        compare(`rnnBackward ${nl} ${len}`, [rand(len), rand(len), rand(len)], (k, [h, dh, dG]) => k.rnnBackward(h!, dh!, dG!, nl));
      }
    }
  });

  test('addRowVector, sumRows', () => {
    for (const [m, n] of [[1, 1], [3, 5], [7, 13], [5, 17], [2, 33], [9, 130]] as const) {
      compare(`addRowVector ${m}x${n}`, [rand(m * n), rand(n)], (k, [c, b]) => k.addRowVector(c!, b!, m, n));
      compare(`sumRows ${m}x${n}`, [rand(m * n), rand(n)], (k, [a, out]) => k.sumRows(a!, m, n, out!), 1e-5);
    }
  });

  test('exp of log-probabilities (odd lengths, in place)', () => {
    for (const n of [1, 3, 7, 80, 1001]) {
      compare(`exp ${n}`, [rand(n, 20).map((v) => -Math.abs(v)), rand(n)], (k, [xs, out]) => k.exp(xs!, out!), 1e-6);
      compare(`exp in place ${n}`, [rand(n, 5)], (k, [xs]) => k.exp(xs!, xs!), 1e-6);
    }
  });

  test('logSoftmax (wide ranges, in place)', () => {
    for (const [r, c] of [[1, 1], [2, 3], [3, 7], [4, 80], [2, 1001]] as const) {
      compare(`logSoftmax ${r}x${c}`, [rand(r * c, 30), rand(r * c)], (k, [xs, out]) => k.logSoftmax(xs!, out!, r, c), 1e-6);
      compare(`logSoftmax in place ${r}x${c}`, [rand(r * c, 5)], (k, [xs]) => k.logSoftmax(xs!, xs!, r, c), 1e-6);
    }
  });

  test('adam and adamw', () => {
    for (const len of [1, 3, 4, 7, 33, 130]) {
      for (const [weightDecay, decoupledDecay] of [[0, 0], [0.01, 0], [0, 1e-3]]) {
        const step = { lr: 1e-2, beta1: 0.9, beta2: 0.999, eps: 1e-8, bc1: 1 - 0.9 ** 3, bc2: 1 - 0.999 ** 3, weightDecay: weightDecay!, decoupledDecay: decoupledDecay! };
        const v = rand(len).map((x) => x * x);
        compare(`adam ${len}`, [rand(len), rand(len), rand(len, 0.1), v], (k, [p, g, m, vv]) => k.adam(p!, g!, m!, vv!, step));
      }
    }
  });
});

describe('wasm activations', () => {
  const grid = Float32Array.from({ length: 400001 }, (_, i) => -20 + i / 10000);
  const maxRelError = (f: 'exp' | 'sigmoid' | 'tanh', truth: (x: number) => number): number => {
    const out = new Float32Array(grid.length);
    wasm.activation(f, grid, out);
    let worst = 0;
    for (let i = 0; i < grid.length; i++) {
      const want = truth(grid[i]!);
      if (want !== 0) worst = Math.max(worst, Math.abs(out[i]! - want) / Math.abs(want));
    }
    return worst;
  };

  test('exp, sigmoid and tanh within 1e-6 relative of Math over [-20, 20]', () => {
    assert.ok(maxRelError('exp', Math.exp) < 1e-6);
    assert.ok(maxRelError('sigmoid', (x) => 1 / (1 + Math.exp(-x))) < 1e-6);
    assert.ok(maxRelError('tanh', Math.tanh) < 1e-6);
  });

  test('extreme inputs saturate cleanly: no NaN or Infinity for finite inputs, NaN stays NaN', () => {
    const x = new Float32Array([-Infinity, -3e38, -1e4, -100, -88, -20, -1e-30, -0, 0, 1e-30, 20, 88, 100, 1e4, 3e38, Infinity]);
    const out = new Float32Array(x.length);
    wasm.activation('tanh', x, out);
    out.forEach((v, i) => assert.ok(Number.isFinite(v) && Math.abs(v - Math.tanh(x[i]!)) <= 1e-7, `tanh(${x[i]}) = ${v}`));
    assert.equal(out[0], -1);
    assert.equal(out[out.length - 1], 1);
    wasm.activation('sigmoid', x, out);
    out.forEach((v, i) => assert.ok(Number.isFinite(v) && Math.abs(v - 1 / (1 + Math.exp(-x[i]!))) <= 1e-7, `sigmoid(${x[i]}) = ${v}`));
    assert.equal(out[out.length - 1], 1);
    wasm.activation('exp', x, out);
    out.forEach((v, i) => assert.ok(Number.isFinite(v) && v > 0, `exp(${x[i]}) = ${v}`));
    wasm.activation('tanh', new Float32Array([NaN, 1, NaN, 2, NaN]), out.subarray(0, 5));
    assert.ok(Number.isNaN(out[0]!) && Number.isNaN(out[2]!) && Number.isNaN(out[4]!));

    // through the cell kernels: saturated gates, finite states
    const B = 2, H = 8;
    const g = Float32Array.from({ length: 4 * B * H }, (_, i) => x[i % x.length]!);
    const c = new Float32Array(B * H), h = new Float32Array(B * H);
    wasm.lstmForward(g, rand(B * H), c, h, B, H);
    for (const v of [...g, ...c, ...h]) assert.ok(Number.isFinite(v), 'lstmForward stays finite');
    const rows = Float32Array.from([1e30, -1e30, 0, 5, -Infinity, 3]);
    const lsm = new Float32Array(6);
    wasm.logSoftmax(rows, lsm, 2, 3);
    const want = new Float32Array(6);
    reference.logSoftmax(rows, want, 2, 3);
    assert.deepEqual([...lsm].map((v) => (Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : v)), [...want].map((v) => (Number.isFinite(v) ? Math.round(v * 1e4) / 1e4 : v)));
  });
});
