import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Variable, gradcheck, noGrad, output, record, zerosLike } from '../../src/autograd/index.js';
import { ctcLoss, type CtcOptions } from '../../src/losses/index.js';
import { ConfigError, DataError, Rng, ShapeError, Tensor, type DType } from '../../src/tensor/index.js';
import { readFixture, worstDiff } from '../helpers.js';

interface CtcResult {
  reduction: 'mean' | 'sum' | 'none';
  zeroInfinity: boolean;
  loss: number[];
  upstream: number[];
  grad: number[];
}
interface CtcCase {
  name: string;
  T: number;
  B: number;
  C: number;
  blank: number;
  inputLengths: number[];
  targetLengths: number[];
  targets: number[];
  logProbs: number[];
  results: CtcResult[];
}

const fixture = readFixture<{ cases: CtcCase[] }>('ctc.json');

function runCase(c: CtcCase, r: CtcResult, dtype: DType) {
  const x = new Variable(Tensor.from(c.logProbs, [c.T, c.B, c.C], dtype), true, 'logProbs');
  const loss = ctcLoss(x, Int32Array.from(c.targets), c.inputLengths, c.targetLengths, { blank: c.blank, reduction: r.reduction, zeroInfinity: r.zeroInfinity });
  loss.backward(Tensor.from(r.upstream, loss.shape, dtype));
  return { loss: Array.from(loss.data), grad: Array.from(x.grad!.data), shape: [...loss.shape] };
}

function assertClose(what: string, got: number[], want: number[], rtol: number, atol: number): void {
  const { err, at, scale } = worstDiff(got, want);
  assert.ok(err <= atol + rtol * scale, `${what}: |diff| ${err} at ${at} (got ${got[at]}, want ${want[at]})`);
}

describe('ctcLoss: parity with torch.nn.functional.ctc_loss (log_probs a leaf)', () => {
  for (const c of fixture.cases) {
    for (const r of c.results) {
      const name = `${c.name} blank=${c.blank} ${r.reduction} zeroInfinity=${r.zeroInfinity}`;
      test(`${name}, float64`, () => {
        const got = runCase(c, r, 'float64');
        assert.deepEqual(got.shape, r.reduction === 'none' ? [c.B] : []);
        assertClose('loss', got.loss, r.loss, 1e-9, 1e-12);
        assertClose('grad', got.grad, r.grad, 1e-7, 1e-9);
      });
      test(`${name}, float32`, () => {
        const got = runCase(c, r, 'float32');
        assertClose('loss', got.loss, r.loss, 1e-5, 1e-5);
        assertClose('grad', got.grad, r.grad, 1e-4, 1e-5);
      });
    }
  }

  test('the fixtures cover both blank positions, empty targets, repeats and an impossible sample', () => {
    const cases = fixture.cases;
    assert.ok(cases.some((c) => c.blank === 0) && cases.some((c) => c.blank === c.C - 1));
    assert.ok(cases.some((c) => c.targetLengths.includes(0)));
    assert.ok(cases.some((c) => c.results.some((r) => r.zeroInfinity && r.reduction === 'none' && r.loss.includes(0))));
  });
});

/** A log-softmax over the last axis, for gradchecks through the logits (the test's own op: the library has none on the tape). */
function logSoftmax(x: Variable): Variable {
  const C = x.shape[x.shape.length - 1]!;
  const out = output(zerosLike(x));
  for (let i = 0; i < x.value.size; i += C) {
    let m = -Infinity;
    for (let c = 0; c < C; c++) m = Math.max(m, x.data[i + c]!);
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(x.data[i + c]! - m);
    for (let c = 0; c < C; c++) out.data[i + c] = x.data[i + c]! - m - Math.log(s);
  }
  record('logSoftmax', [x], [out], () => {
    const g = out.grad!.data, gx = x.gradData();
    for (let i = 0; i < x.value.size; i += C) {
      let total = 0;
      for (let c = 0; c < C; c++) total += g[i + c]!;
      for (let c = 0; c < C; c++) gx[i + c]! += g[i + c]! - Math.exp(out.data[i + c]!) * total;
    }
  });
  return out;
}

function randomLogits(seed: number, shape: number[]): Variable {
  const rng = new Rng(seed);
  const t = Tensor.zeros(shape, 'float64');
  for (let i = 0; i < t.size; i++) t.data[i] = 1.5 * rng.normal();
  return new Variable(t, true, 'logits');
}

describe('ctcLoss: gradcheck through a log-softmax (float64)', () => {
  const cases: Array<{ name: string; T: number; C: number; targets: number[][]; inputLengths: number[]; options: CtcOptions }> = [
    { name: 'mean, blank 0, repeats, variable lengths', T: 7, C: 4, targets: [[1, 1, 2], [3]], inputLengths: [7, 5], options: {} },
    { name: 'sum, blank last', T: 6, C: 4, targets: [[0, 2], [1, 1], [2]], inputLengths: [6, 6, 3], options: { blank: 3, reduction: 'sum' } },
    { name: 'none weighted, empty target', T: 5, C: 3, targets: [[], [1, 2, 1]], inputLengths: [4, 5], options: { reduction: 'none' } },
    { name: 'mean, zeroInfinity with an impossible sample', T: 4, C: 3, targets: [[1, 1, 1], [2, 1]], inputLengths: [4, 4], options: { zeroInfinity: true } },
  ];
  for (const k of cases) {
    test(k.name, () => {
      const B = k.targets.length;
      const logits = randomLogits(11, [k.T, B, k.C]);
      const weights = Tensor.from(Array.from({ length: B }, (_, b) => b + 1), [B], 'float64');
      const f = () => {
        const loss = ctcLoss(logSoftmax(logits), k.targets, k.inputLengths, k.targets.map((t) => t.length), k.options);
        if (loss.shape.length === 0) return loss;
        // Reduce 'none' with distinct weights so each sample's upstream grad differs.
        const out = output(zerosLike(loss, []));
        for (let b = 0; b < B; b++) out.data[0]! += loss.data[b]! * weights.data[b]!;
        record('weightedSum', [loss], [out], () => {
          const g = loss.gradData();
          for (let b = 0; b < B; b++) g[b]! += out.grad!.data[0]! * weights.data[b]!;
        });
        return out;
      };
      const report = gradcheck(f, [logits]);
      assert.ok(report.ok, report.message);
      assert.equal(report.checked, logits.value.size);
      assert.ok(Number.isFinite(f().item()));
    });
  }
});

describe('ctcLoss: gradient w.r.t. a logProbs leaf (PyTorch convention)', () => {
  test('is the plain derivative plus exp(logProbs) inside the input length, the plain derivative (0) beyond', () => {
    const T = 5, B = 2, C = 3, len = [5, 3], targets = [[1, 2], [2]];
    const lp = randomLogits(5, [T, B, C]);
    lp.value.data.set(noGrad(() => logSoftmax(lp)).data);
    const f = () => ctcLoss(lp, targets, len, [2, 1], { reduction: 'sum' });
    f().backward();
    const analytic = Float64Array.from(lp.grad!.data);
    const eps = 1e-6;
    for (let i = 0; i < lp.value.size; i++) {
      const t = Math.floor(i / (B * C)), b = Math.floor(i / C) % B;
      const x0 = lp.data[i]!;
      lp.data[i] = x0 + eps;
      const up = noGrad(f).item();
      lp.data[i] = x0 - eps;
      const down = noGrad(f).item();
      lp.data[i] = x0;
      const numeric = (up - down) / (2 * eps);
      const offset = t < len[b]! ? Math.exp(x0) : 0;
      assert.ok(Math.abs(analytic[i]! - numeric - offset) < 1e-6, `element ${i}: analytic ${analytic[i]}, numeric ${numeric}, offset ${offset}`);
    }
  });
});

describe('ctcLoss: infinite losses', () => {
  // Sample 1 needs a _ a _ a: 5 frames, only 4 given.
  const lp = () => {
    const v = randomLogits(3, [4, 2, 3]);
    v.value.data.set(noGrad(() => logSoftmax(v)).data);
    return v;
  };
  const targets = [[1, 2], [1, 1, 1]];

  test('without zeroInfinity the impossible sample has loss Infinity and a NaN gradient', () => {
    const x = lp();
    const loss = ctcLoss(x, targets, [4, 4], [2, 3], { reduction: 'none' });
    assert.ok(Number.isFinite(loss.data[0]!));
    assert.equal(loss.data[1], Infinity);
    assert.equal(ctcLoss(x, targets, [4, 4], [2, 3]).item(), Infinity);
    loss.backward(Tensor.from([1, 1], [2], 'float64'));
    assert.ok(Number.isNaN(x.grad!.data[3]!), 'sample 1, frame 0');
  });

  test('zeroInfinity gives the impossible sample loss 0 and gradient 0, and leaves the other sample alone', () => {
    const x = lp();
    const plain = ctcLoss(x, targets, [4, 4], [2, 3], { reduction: 'none' });
    const zeroed = ctcLoss(x, targets, [4, 4], [2, 3], { reduction: 'none', zeroInfinity: true });
    assert.deepEqual(Array.from(zeroed.data), [plain.data[0], 0]);
    const mean = ctcLoss(x, targets, [4, 4], [2, 3], { zeroInfinity: true });
    assert.equal(mean.item(), plain.data[0]! / 2 / 2);
    mean.backward();
    const g = x.grad!.data;
    for (let t = 0; t < 4; t++) {
      for (let c = 0; c < 3; c++) assert.equal(g[(t * 2 + 1) * 3 + c], 0);
      assert.ok([0, 1, 2].some((c) => g[t * 2 * 3 + c] !== 0), `sample 0, frame ${t} has a gradient`);
    }
  });

  test('an input length of 0 gives loss 0 for an empty target and Infinity otherwise', () => {
    const x = lp();
    const loss = ctcLoss(x, [[], [1]], [0, 0], [0, 1], { reduction: 'none' });
    assert.deepEqual(Array.from(loss.data), [0, Infinity]);
  });
});

describe('ctcLoss: targets and validation', () => {
  const x = randomLogits(2, [5, 2, 4]);

  test('per-row targets give the same loss as concatenated ones, and rows may be padded', () => {
    const a = ctcLoss(x, Int32Array.from([1, 2, 3]), [5, 4], [2, 1], { reduction: 'none' });
    const b = ctcLoss(x, [[1, 2], [3, 0, 0]], [5, 4], [2, 1], { reduction: 'none' });
    assert.deepEqual(Array.from(a.data), Array.from(b.data));
  });

  const bad: Array<[string, () => unknown, new (m: string) => Error, RegExp]> = [
    ['logProbs of rank 2', () => ctcLoss(new Variable(Tensor.zeros([5, 4], 'float64')), [1], [5], [1]), ShapeError, /logProbs \[time, batch, classes\]/],
    ['a target equal to the blank', () => ctcLoss(x, [1, 0, 2], [5, 5], [2, 1]), DataError, /other than the blank 0, got 0 at position 1 of sample 0/],
    ['a target out of range', () => ctcLoss(x, [1, 4, 2], [5, 5], [2, 1]), DataError, /targets in \[0, 4\), got 4/],
    ['a negative target', () => ctcLoss(x, [[1], [-1]], [5, 5], [1, 1]), DataError, /targets in \[0, 4\)/],
    ['an input length over T', () => ctcLoss(x, [1, 2], [6, 5], [1, 1]), DataError, /input lengths that are integers in \[0, 5\], got 6 for sample 0/],
    ['a fractional input length', () => ctcLoss(x, [1, 2], [5, 2.5], [1, 1]), DataError, /got 2.5 for sample 1/],
    ['too few input lengths', () => ctcLoss(x, [1, 2], [5], [1, 1]), ShapeError, /2 input lengths, got 1/],
    ['a negative target length', () => ctcLoss(x, [1], [5, 5], [2, -1]), DataError, /target lengths that are integers >= 0/],
    ['concatenated targets not matching the lengths', () => ctcLoss(x, [1, 2, 3], [5, 5], [1, 1]), ShapeError, /2 concatenated targets/],
    ['a short target row', () => ctcLoss(x, [[1], [2]], [5, 5], [2, 1]), ShapeError, /at least 2 targets in row 0/],
    ['a blank out of range', () => ctcLoss(x, [1, 2], [5, 5], [1, 1], { blank: 4 }), ConfigError, /blank in \[0, 4\)/],
    ['an unknown reduction', () => ctcLoss(x, [1, 2], [5, 5], [1, 1], { reduction: 'avg' as 'mean' }), ConfigError, /reduction 'mean', 'sum' or 'none', got 'avg'/],
  ];
  for (const [name, call, type, message] of bad) {
    test(`rejects ${name}`, () => assert.throws(call, (e: unknown) => e instanceof type && message.test((e as Error).message)));
  }
});
