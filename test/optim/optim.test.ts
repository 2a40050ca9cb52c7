import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Variable } from '../../src/autograd/variable.js';
import { ConfigError, DataError, ShapeError, Tensor, type DType } from '../../src/tensor/index.js';
import { Adagrad, Adam, AdamW, RMSprop, SGD, clipGradNorm, clipGradValue, type Optimizer } from '../../src/optim/index.js';

interface OptimCase {
  name: string;
  type: string;
  options: Record<string, unknown>;
  after: number[][][];
}
interface ClipNormCase {
  normType: number | 'inf';
  maxNorm: number;
  grads: number[][];
  totalNorm: number;
  clipped: number[][];
}
interface Fixture {
  shapes: number[][];
  initial: number[][];
  grads: number[][][];
  optimizers: OptimCase[];
  clipGradNorm: ClipNormCase[];
  clipGradValue: { clipValue: number; grads: number[][]; clipped: number[][] };
}

const fixture = JSON.parse(fs.readFileSync(new URL('../../../test/fixtures/optim.json', import.meta.url), 'utf8')) as Fixture;

// Options come from JSON, so the constructors are reached through a loosely typed table.
const CTORS: Record<string, new (params: Variable[], options: never) => Optimizer> = { SGD, Adam, AdamW, RMSprop, Adagrad };

function makeOptimizer(type: string, params: Variable[], options: unknown): Optimizer {
  const Ctor = CTORS[type];
  assert.ok(Ctor, `unknown optimizer type ${type}`);
  return new Ctor(params, options as never);
}

function makeParams(dtype: DType, values: number[][] = fixture.initial): Variable[] {
  return values.map((v, i) => new Variable(Tensor.from(v, fixture.shapes[i]!, dtype), true, `p${i}`));
}

function setGrads(params: Variable[], grads: number[][]): void {
  params.forEach((p, i) => {
    p.grad = Tensor.from(grads[i]!, p.value.shape, p.value.dtype);
  });
}

/** Largest |got - want| / scale over all elements, scale = 1 (absolute) or max(1, |want|) (relative). */
function maxError(got: ArrayLike<number>, want: readonly number[], relative: boolean): number {
  assert.equal(got.length, want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const scale = relative ? Math.max(1, Math.abs(want[i]!)) : 1;
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / scale);
  }
  return worst;
}

const TOLERANCE: Record<DType, { tol: number; relative: boolean }> = {
  float64: { tol: 1e-9, relative: false },
  float32: { tol: 1e-4, relative: true },
};

// ---- parity with PyTorch ----

for (const c of fixture.optimizers) {
  for (const dtype of ['float64', 'float32'] as const) {
    test(`${c.name} (${c.type}) matches PyTorch, ${dtype}`, () => {
      const params = makeParams(dtype);
      const opt = makeOptimizer(c.type, params, c.options);
      const { tol, relative } = TOLERANCE[dtype];
      fixture.grads.forEach((g, step) => {
        setGrads(params, g);
        opt.step();
        params.forEach((p, i) => {
          const err = maxError(p.value.data, c.after[step]![i]!, relative);
          assert.ok(err <= tol, `step ${step + 1}, param ${i}: error ${err} > ${tol}`);
        });
      });
      assert.equal(opt.stepCount, fixture.grads.length);
    });
  }
}

for (const c of fixture.clipGradNorm) {
  for (const dtype of ['float64', 'float32'] as const) {
    test(`clipGradNorm normType ${c.normType}, maxNorm ${c.maxNorm} matches PyTorch, ${dtype}`, () => {
      const params = makeParams(dtype, c.grads.map((g) => g.map(() => 0)));
      setGrads(params, c.grads);
      const total = clipGradNorm(params, c.maxNorm, c.normType === 'inf' ? Infinity : c.normType);
      const { tol, relative } = TOLERANCE[dtype];
      assert.ok(maxError([total], [c.totalNorm], relative) <= tol, `total norm ${total} vs ${c.totalNorm}`);
      params.forEach((p, i) => assert.ok(maxError(p.grad!.data, c.clipped[i]!, relative) <= tol, `param ${i}`));
    });
  }
}

test('clipGradValue matches PyTorch (exactly: clamping does no arithmetic)', () => {
  const c = fixture.clipGradValue;
  const params = makeParams('float64');
  setGrads(params, c.grads);
  clipGradValue(params, c.clipValue);
  params.forEach((p, i) => assert.deepEqual(p.grad!.toArray(), c.clipped[i]));
});

test('the fixture covers a clipping and a non-clipping case for norm types 2 and Infinity', () => {
  for (const nt of [2, 'inf'] as const) {
    const cases = fixture.clipGradNorm.filter((c) => c.normType === nt);
    assert.ok(cases.some((c) => c.totalNorm > c.maxNorm));
    assert.ok(cases.some((c) => c.totalNorm < c.maxNorm));
  }
});

// ---- semantics ----

test('a parameter with a null grad is skipped and its step count does not advance (PyTorch semantics)', () => {
  const [g1, g2] = fixture.grads;
  // p1 gets no gradient on the first step, so its first update must equal a fresh optimizer's first step.
  const params = makeParams('float64');
  const opt = new Adam(params, { lr: 0.01 });
  params[0]!.grad = Tensor.from(g1![0]!, fixture.shapes[0]!, 'float64');
  opt.step();
  assert.deepEqual(params[1]!.value.toArray(), fixture.initial[1]);
  setGrads(params, g2!);
  opt.step();
  const fresh = makeParams('float64');
  const ref = new Adam([fresh[1]!], { lr: 0.01 });
  fresh[1]!.grad = Tensor.from(g2![1]!, fixture.shapes[1]!, 'float64');
  ref.step();
  assert.deepEqual(params[1]!.value.toArray(), fresh[1]!.value.toArray());
});

test('zeroGrad sets every gradient to null', () => {
  const params = makeParams('float64');
  setGrads(params, fixture.grads[0]!);
  new SGD(params, { lr: 0.1 }).zeroGrad();
  assert.ok(params.every((p) => p.grad === null));
});

test('lr can be changed between steps (schedules)', () => {
  const params = makeParams('float64');
  const opt = new SGD(params, { lr: 0.1 });
  opt.lr = 0.5;
  setGrads(params, fixture.grads[0]!);
  opt.step();
  assert.equal(params[1]!.value.data[0], fixture.initial[1]![0]! - 0.5 * fixture.grads[0]![1]![0]!);
});

test('clipGradNorm skips null grads and returns 0 when there are none', () => {
  const params = makeParams('float64');
  assert.equal(clipGradNorm(params, 1), 0);
  params[0]!.grad = Tensor.from([3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [3, 4], 'float64');
  assert.equal(clipGradNorm(params, 1), 5);
  assert.ok(Math.abs(params[0]!.grad.data[0]! - 0.6) < 1e-6);
  assert.equal(params[1]!.grad, null);
});

for (const c of fixture.optimizers) {
  for (const dtype of ['float64', 'float32'] as const) {
    test(`${c.name}: stateDict after step 1, loaded into a fresh optimizer, continues identically (${dtype})`, () => {
      const straight = makeParams(dtype);
      const a = makeOptimizer(c.type, straight, c.options);
      setGrads(straight, fixture.grads[0]!);
      a.step();
      const saved = JSON.parse(JSON.stringify(a.stateDict())) as ReturnType<Optimizer['stateDict']>;
      const resumed = makeParams(dtype, straight.map((p) => p.value.toArray()));
      const b = makeOptimizer(c.type, resumed, c.options);
      b.loadStateDict(saved);
      assert.equal(b.stepCount, 1);
      for (const g of fixture.grads.slice(1)) {
        setGrads(straight, g);
        setGrads(resumed, g);
        a.step();
        b.step();
      }
      straight.forEach((p, i) => assert.deepEqual(resumed[i]!.value.toArray(), p.value.toArray()));
      assert.deepEqual(b.stateDict(), a.stateDict());
    });
  }
}

// ---- validation: one test per rule ----

type Check = [name: string, run: () => unknown, error: typeof ConfigError | typeof ShapeError | typeof DataError, message: RegExp];

const p = (): Variable[] => makeParams('float64');
const stepped = (): Adam => {
  const params = p();
  const opt = new Adam(params);
  setGrads(params, fixture.grads[0]!);
  opt.step();
  return opt;
};

const checks: Check[] = [
  ['empty parameter list', () => new SGD([], { lr: 0.1 }), ConfigError, /SGD: expected a non-empty array of parameters, got an empty array/],
  ['duplicate parameter', () => { const x = p(); return new Adam([x[0]!, x[1]!, x[0]!]); }, ConfigError, /Adam: expected each parameter once, got parameter 2 \('p0'\) repeated/],
  ['non-Variable parameter', () => new Adam([{} as Variable]), ConfigError, /Adam: expected a Variable at parameter 0/],
  ['SGD without lr', () => new SGD(p(), {} as never), ConfigError, /SGD: expected option 'lr', got nothing/],
  ['negative lr', () => new Adam(p(), { lr: -1 }), ConfigError, /Adam: expected lr >= 0, got -1/],
  ['non-number lr', () => new RMSprop(p(), { lr: '0.1' as never }), ConfigError, /RMSprop: expected lr to be a finite number, got "0.1"/],
  ['NaN lr', () => new Adagrad(p(), { lr: NaN }), ConfigError, /Adagrad: expected lr to be a finite number, got NaN/],
  ['negative lr set later', () => { new SGD(p(), { lr: 0.1 }).lr = -0.5; }, ConfigError, /SGD: expected lr to be a finite number >= 0, got -0.5/],
  ['unknown option', () => new Adam(p(), { lrate: 0.1 } as never), ConfigError, /Adam: expected options among lr, betas, eps, weightDecay, amsgrad, got 'lrate'$/],
  ['snake_case option', () => new Adam(p(), { weight_decay: 0.1 } as never), ConfigError, /got 'weight_decay' \(options are camelCase: 'weightDecay'\)/],
  ['unsupported PyTorch option', () => new SGD(p(), { lr: 0.1, maximize: true } as never), ConfigError, /got 'maximize' \('maximize' is not supported\)/],
  ['options not an object', () => new Adam(p(), 0.01 as never), ConfigError, /Adam: expected an options object, got 0.01/],
  ['negative SGD momentum', () => new SGD(p(), { lr: 0.1, momentum: -0.9 }), ConfigError, /SGD: expected momentum >= 0, got -0.9/],
  ['SGD dampening above 1', () => new SGD(p(), { lr: 0.1, momentum: 0.9, dampening: 1.5 }), ConfigError, /SGD: expected dampening >= 0 and <= 1, got 1.5/],
  ['negative weight decay', () => new SGD(p(), { lr: 0.1, weightDecay: -1e-4 }), ConfigError, /SGD: expected weightDecay >= 0, got -0.0001/],
  ['nesterov without momentum', () => new SGD(p(), { lr: 0.1, nesterov: true }), ConfigError, /SGD: expected momentum > 0 and dampening 0 with nesterov, got momentum 0, dampening 0/],
  ['nesterov with dampening', () => new SGD(p(), { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), ConfigError, /got momentum 0.9, dampening 0.1/],
  ['non-boolean flag', () => new SGD(p(), { lr: 0.1, nesterov: 1 as never }), ConfigError,
    /SGD: expected nesterov true or false, got 1/],
  ['beta1 of 1', () => new Adam(p(), { betas: [1, 0.999] }), ConfigError, /Adam: expected betas\[0\] >= 0 and < 1, got 1/],
  ['negative beta2', () => new AdamW(p(), { betas: [0.9, -0.1] }), ConfigError, /AdamW: expected betas\[1\] >= 0 and < 1, got -0.1/],
  ['betas not a pair', () => new Adam(p(), { betas: [0.9] as never }), ConfigError, /Adam: expected betas to be a pair \[beta1, beta2\], got \[0.9\]/],
  ['negative Adam eps', () => new Adam(p(), { eps: -1e-8 }), ConfigError, /Adam: expected eps >= 0, got -1e-8/],
  ['negative AdamW weight decay', () => new AdamW(p(), { weightDecay: -0.01 }), ConfigError, /AdamW: expected weightDecay >= 0, got -0.01/],
  ['RMSprop alpha above 1', () => new RMSprop(p(), { alpha: 1.1 }), ConfigError, /RMSprop: expected alpha >= 0 and <= 1, got 1.1/],
  ['negative RMSprop momentum', () => new RMSprop(p(), { momentum: -0.1 }), ConfigError, /RMSprop: expected momentum >= 0, got -0.1/],
  ['negative RMSprop eps', () => new RMSprop(p(), { eps: -1 }), ConfigError, /RMSprop: expected eps >= 0, got -1/],
  ['negative Adagrad lrDecay', () => new Adagrad(p(), { lrDecay: -0.1 }), ConfigError, /Adagrad: expected lrDecay >= 0, got -0.1/],
  ['negative Adagrad initialAccumulatorValue', () => new Adagrad(p(), { initialAccumulatorValue: -1 }), ConfigError, /Adagrad: expected initialAccumulatorValue >= 0, got -1/],
  ['negative Adagrad eps', () => new Adagrad(p(), { eps: -1e-10 }), ConfigError, /Adagrad: expected eps >= 0, got -1e-10/],
  ['gradient of the wrong shape', () => { const x = p(); const opt = new SGD(x, { lr: 0.1 }); x[1]!.grad = Tensor.zeros([4], 'float64'); opt.step(); }, ShapeError, /SGD.step: expected the gradient of 'p1' to have shape \[5\], got \[4\]/],
  ['gradient of the wrong dtype', () => { const x = p(); const opt = new SGD(x, { lr: 0.1 }); x[0]!.grad = Tensor.zeros([3, 4], 'float32'); opt.step(); }, DataError, /SGD.step: expected a float64 gradient for 'p0', got float32/],
  ['state dict of another optimizer', () => new AdamW(p()).loadStateDict(stepped().stateDict()), ConfigError, /AdamW.loadStateDict: expected a state dict of type 'AdamW', got "Adam"/],
  ['state dict with other options', () => new Adam(p(), { eps: 1e-6 }).loadStateDict(stepped().stateDict()), ConfigError, /Adam.loadStateDict: expected options .*"eps",0.000001.*, got .*"eps",1e-8.* \(construct the optimizer/],
  ['state dict for another parameter count', () => new Adam([p()[0]!]).loadStateDict(stepped().stateDict()), ConfigError, /Adam.loadStateDict: expected state for 1 parameters, got 2/],
  ['state dict with a short buffer', () => { const d = stepped().stateDict(); d.state[1]!.buffers['expAvg']!.pop(); new Adam(p()).loadStateDict(d); }, ShapeError, /expected 5 values in buffer 'expAvg' of parameter 1, got 4/],
  ['state dict with missing buffers', () => { const d = stepped().stateDict(); delete d.state[0]!.buffers['expAvgSq']; new Adam(p()).loadStateDict(d); }, DataError, /expected buffers \[expAvg, expAvgSq\] for parameter 0, got \[expAvg\]/],
  ['clipGradNorm with negative maxNorm', () => clipGradNorm(p(), -1), ConfigError, /clipGradNorm: expected maxNorm >= 0, got -1/],
  ['clipGradNorm with normType 0', () => clipGradNorm(p(), 1, 0), ConfigError, /clipGradNorm: expected normType > 0 \(or Infinity\), got 0/],
  ['clipGradValue with negative clipValue', () => clipGradValue(p(), -0.5), ConfigError, /clipGradValue: expected clipValue >= 0, got -0.5/],
];

for (const [name, run, error, message] of checks) {
  test(`rejects: ${name}`, () => {
    assert.throws(run, (e: unknown) => {
      assert.ok(e instanceof error, `expected ${error.name}, got ${String(e)}`);
      assert.match(e.message, message);
      return true;
    });
  });
}

test('a failed loadStateDict leaves the optimizer unchanged', () => {
  const opt = stepped();
  const before = JSON.stringify(opt.stateDict());
  const bad = opt.stateDict();
  bad.lr = 0.5;
  bad.state[1]!.buffers['expAvg']!.pop();
  assert.throws(() => opt.loadStateDict(bad), ShapeError);
  assert.equal(JSON.stringify(opt.stateDict()), before);
});
