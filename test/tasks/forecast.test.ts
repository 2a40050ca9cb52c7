import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { Variable, gradcheck } from '../../src/autograd/index.js';
import { Bptt } from '../../src/bptt/index.js';
import { seriesFromTable, type TimeSeries } from '../../src/data/index.js';
import { parseCsv } from '../../src/data/node/csv.js';
import { Adam, AdamW } from '../../src/optim/index.js';
import {
  ForecastBatches, Forecaster, ScaledSeries, checkForecastExtra, forecastAfterEnd, forecastCodec, validation,
  type ForecastBatch, type ForecastExtra, accuracy, fitLinearAr, forecastLoss, leastSquares, linearArForecast, makeBatch,
  prepareForecast, scoreboard, seasonalNaive, seasonalScale, type ForecastSpec, type ForecasterConfig,
} from '../../src/tasks/forecast/index.js';
import { ConfigError, DataError, Rng, Tensor } from '../../src/tensor/index.js';
import { Trainer, fit, type Callback } from '../../src/training/index.js';
import { loadRun, runStateOf, saveRun } from '../../src/training/node/run-files.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

const HOUR = 3_600_000;
const tmp = mkdtempSync(join(tmpdir(), 'bptt-forecast-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** An hourly series of `n` rows with two columns: a daily cycle plus noise, and a noisy covariate. */
function hourly(n: number, seed = 1): TimeSeries {
  const rng = new Rng(seed);
  const y = Float64Array.from({ length: n }, (_, k) => 10 + 3 * Math.sin((2 * Math.PI * k) / 24) + 0.01 * k + 0.3 * rng.normal());
  const x = Float64Array.from({ length: n }, () => rng.normal());
  return {
    times: Float64Array.from({ length: n }, (_, k) => Date.UTC(2020, 0, 1) + k * HOUR), style: 'datetime',
    frequency: { unit: 'ms', step: HOUR }, names: ['y', 'x'], values: [y, x],
  };
}

function config(s: ScaledSeries, over: Partial<ForecasterConfig>): ForecasterConfig {
  return {
    cell: 'lstm', hidden: 3, layers: 1, mode: 'recursive', series: s.series, calendar: s.calendarNames.length, lookback: 4, horizon: 5,
    lag: s.lag, drift: s.driftPerStep, loss: { kind: 'mse' }, highway: 3, forgetBias: 0, seed: 3, ...over,
  };
}

/** A float64 model and a batch of 2 windows, differenced with lag 2 so the recursion sums its predictions. */
function small(over: Partial<ForecasterConfig> = {}) {
  const spec: ForecastSpec = { lookback: 4, horizon: 5, season: 2, difference: 'seasonal', calendar: true, split: [0.6, 0.2] };
  const p = prepareForecast(hourly(120), spec, 'test');
  assert.deepEqual(p.series.cycles, ['hour'], '5 days of training rows: the time of day, not the day of year');
  const model = new Forecaster(config(p.series, over)).to('float64');
  return { model, batch: makeBatch(p.series, p.origins.train.slice(3, 5), 4, 5), p };
}

describe('forecaster gradients (float64 gradcheck)', () => {
  const lossOf = (model: Forecaster, b: ReturnType<typeof small>['batch']) => () => model.unroll(b, 0, model.steps(b), null, true).loss!;
  for (const cell of ['lstm', 'gru'] as const) {
    test(`recursive ${cell}: the error goes back through every fed-back prediction (differenced, calendar, highway)`, () => {
      const { model, batch } = small({ cell, layers: 2 });
      assert.equal(model.steps(batch), 4 + 5 - 1);
      const r = gradcheck(lossOf(model, batch), model.parameters());
      assert.ok(r.ok, r.message);
      assert.ok(r.checked > 150, `${r.checked} checks`);
    });
  }

  test('recursive, Huber and MAE losses; direct with quantiles', () => {
    for (const over of [{ loss: { kind: 'huber' as const, delta: 0.3 } }, { loss: { kind: 'mae' as const }, highway: 0 }, { mode: 'direct' as const, loss: { kind: 'quantile' as const, quantiles: [0.2, 0.5, 0.9] } }]) {
      const { model, batch } = small(over);
      const r = gradcheck(lossOf(model, batch), model.parameters());
      assert.ok(r.ok, `${JSON.stringify(over)}: ${r.message}`);
    }
  });

  test('checkpointed BPTT through the engine gives the gradient of full BPTT', () => {
    const runs = (['full', 'checkpointed'] as const).map((kind) => {
      const { model, batch } = small({ seed: 5 });
      const engine = new Bptt({ model, parameters: model.parameters(), optimizer: { step: () => undefined }, strategy: kind === 'full' ? { kind } : { kind, segment: 3 } });
      const [rep] = engine.trainBatch(batch);
      return { loss: rep!.loss, grads: model.parameters().flatMap((p) => Array.from(p.grad!.data)) };
    });
    assert.ok(Math.abs(runs[0]!.loss - runs[1]!.loss) < 1e-12);
    runs[0]!.grads.forEach((g, i) => assert.ok(Math.abs(g - runs[1]!.grads[i]!) < 1e-10, `grad ${i}`));
  });
});

describe('losses', () => {
  const pred = () => new Variable(Tensor.from([0.5, -1, 2], [3, 1], 'float64'), true, 'p');
  const y = Tensor.from([1, 1, 1], [3, 1], 'float64');
  test('values: MAE, Huber (quadratic then linear), pinball', () => {
    assert.equal(forecastLoss({ kind: 'mae' }, pred(), y).item(), 0.5 + 2 + 1);
    assert.equal(forecastLoss({ kind: 'huber', delta: 1 }, pred(), y).item(), 0.125 + (2 - 0.5) + 0.5);
    assert.equal(forecastLoss({ kind: 'mse' }, pred(), y).item(), 0.25 + 4 + 1);
    const q = new Variable(Tensor.from([0, 2], [1, 2], 'float64'), true);
    // y = 1: the 0.9-quantile forecast 0 is under by 1 (costs 0.9); the 0.1 forecast 2 is over by 1 (costs 0.9)
    assert.ok(Math.abs(forecastLoss({ kind: 'quantile', quantiles: [0.9, 0.1] }, q, Tensor.from([1], [1], 'float64')).item() - 1.8) < 1e-12);
  });
  test('gradients by finite differences', () => {
    for (const kind of ['mae', 'huber'] as const) {
      const p = pred();
      const r = gradcheck(() => forecastLoss(kind === 'huber' ? { kind, delta: 1 } : { kind }, p, y), [p]);
      assert.ok(r.ok, `${kind}: ${r.message}`);
    }
    const q = new Variable(Tensor.from([0.3, -0.2, 1.4, 0.1, 0.7, 2.2], [2, 3], 'float64'), true);
    const r = gradcheck(() => forecastLoss({ kind: 'quantile', quantiles: [0.1, 0.5, 0.9] }, q, Tensor.from([0.5, 1], [2], 'float64')), [q]);
    assert.ok(r.ok, r.message);
  });
});

describe('scaling, windows and the split', () => {
  const spec: ForecastSpec = { lookback: 24, horizon: 6, season: 24, difference: 'seasonal', calendar: true, split: [0.7, 0.15] };

  test('the scaler is fitted on the training rows only: changing the validation and test rows changes nothing it learns from', () => {
    const clean = hourly(600);
    const a = prepareForecast(clean, spec, 'a');
    const shifted = hourly(600);
    for (const v of shifted.values) for (let k = a.split.trainEnd; k < 600; k++) v[k] = v[k]! * 1000 + 500;
    const b = prepareForecast(shifted, spec, 'b');
    assert.deepEqual(b.series.scaler, a.series.scaler);
    assert.deepEqual(b.origins, a.origins);
    const y = clean.values[0]!;
    const d = Array.from({ length: a.split.trainEnd - 24 }, (_, i) => y[i + 24]! - y[i]!);
    const mean = d.reduce((s, v) => s + v, 0) / d.length;
    const std = Math.sqrt(d.reduce((s, v) => s + (v - mean) ** 2, 0) / d.length);
    assert.ok(Math.abs(a.series.scaler.mean[0]! - mean) < 1e-12 && Math.abs(a.series.scaler.std[0]! - std) < 1e-12);
    const batch = (p: typeof a) => makeBatch(p.series, p.origins.train, 24, 6);
    assert.deepEqual(batch(b), batch(a), 'every training window (inputs and targets) is the same');
    assert.ok(Math.max(...a.origins.train) + 6 < a.split.trainEnd, 'training targets stay in the training rows');
    assert.ok(Math.min(...a.origins.test) + 1 >= a.split.valEnd, 'test targets start in the test rows');
    assert.notDeepEqual(makeBatch(b.series, b.origins.test, 24, 6).targets, makeBatch(a.series, a.origins.test, 24, 6).targets);
  });

  test('targets are level offsets from the naive forecast, and the recursion\'s sum of z + μ/σ rebuilds them', () => {
    const { series: s, origins } = prepareForecast(hourly(300), { ...spec, season: 4, horizon: 10 }, 'x');
    const t = origins.val[3]!;
    for (let h = 1; h <= 10; h++) {
      for (let c = 0; c < 2; c++) {
        assert.ok(Math.abs(s.level(c, t, h, s.target(c, t, h)) - s.levels[c]![t + h]!) < 1e-9);
        let sum = 0;
        for (let j = h; j >= 1; j -= 4) sum += s.z(c, t + j) + s.driftPerStep[c]!;
        assert.ok(Math.abs(sum - s.target(c, t, h)) < 1e-9, `column ${c}, h ${h}`);
      }
    }
  });

  test('too few rows, a constant target, a bad split: DataErrors and ConfigErrors that say which', () => {
    assert.throws(() => prepareForecast(hourly(40), spec, 'tiny.csv'), /tiny\.csv: expected at least 54 training rows \(lookback 24 \+ differencing 24 \+ horizon 6\), got 28 of 40 rows/);
    const one = hourly(1);
    assert.throws(() => prepareForecast(one, spec, 'one.csv'), /one\.csv: expected at least 54 training rows/);
    const flat = hourly(600);
    flat.values[0]!.fill(5);
    assert.throws(() => prepareForecast(flat, spec, 'f'), /target 'y': expected values that vary over the 420 training rows \(after differencing with lag 24\), got a constant \(nothing to forecast\)/);
    const flatFeature = hourly(600);
    flatFeature.values[1]!.fill(5);
    assert.equal(prepareForecast(flatFeature, spec, 'f').series.scaler.std[1], 1, 'a constant feature reads as 0');
    assert.throws(() => prepareForecast(hourly(600), { ...spec, split: [0.9, 0.2] }, 's'), ConfigError);
    assert.throws(() => prepareForecast(hourly(600), { ...spec, split: [0.7, 0.295] }, 's'), /expected at least 6 test rows for one forecast of horizon 6, got 3 of 600 rows/);
  });

  test('a value whose scaling overflows (mean, spread or scaled value not finite) '
    + 'is a DataError naming its cell', () => {
    const edited = (edit: (y: Float64Array, x: Float64Array) => void): TimeSeries => {
      const s = hourly(600);
      edit(s.values[0]!, s.values[1]!);
      return s;
    };
    const overflows = (cell: string, got: string) => (e: unknown) => e instanceof DataError
      && new RegExp(`^${cell}: expected a value whose scaling stays finite \\(.*\\), got ${got}$`).test(e.message);
    // A training row: (1e308 − μ)² is ∞, and the checkpoint saved σ = ∞ as null.
    assert.throws(() => prepareForecast(edited((y) => (y[50] = 1e308)), spec, 'h'),
      overflows("column 'y' row 51", '1e\\+308'));
    // Differences that are finite one by one, but not their sum.
    const none = { ...spec, difference: 'none' as const, calendar: false };
    assert.throws(() => prepareForecast(edited((y) => y.fill(1e308, 50, 53)), none, 'h'),
      overflows("column 'y' row 52", '1e\\+308'));
    // A test row, past what the scaler saw: its difference with the row a season before is −∞.
    const late = edited((_, x) => { x[500] = 1.7e308; x[524] = -1.7e308; });
    assert.throws(() => prepareForecast(late, spec, 'h'), overflows("column 'x' row 525", '-1\\.7e\\+308'));
    // The same through a saved scaler (bptt forecast scales a new CSV with the checkpoint's).
    const saved = prepareForecast(hourly(600), spec, 'h').series;
    assert.throws(() => new ScaledSeries(late.values, 24, saved.scaler, late.times, saved.frequency, saved.cycles),
      overflows('column 2 row 525', '-1\\.7e\\+308'));
  });

  test('the cell is named as in the CSV: the row and line of the table, a filled-in gap by the row before it', () => {
    const rows = Array.from({ length: 600 }, (_, k) => {
      const date = new Date(Date.UTC(2020, 0, 1) + k * HOUR).toISOString().slice(0, 19);
      return [date, `${k % 24}`];
    });
    rows.splice(10, 1); // table row 11 is missing: a gap after row 10, filled linearly
    rows[49]![1] = '1e308'; // table row 50, series row 51
    const table = { columns: ['date', 'y'], rows, lines: rows.map((_, i) => i + 2) };
    const ts = seriesFromTable(table, { time: 'date', columns: ['y'], fill: 'linear' }, "CSV 'g.csv'").series;
    assert.equal(ts.cellName!(0, 10), "CSV 'g.csv': column 'y' a row filled in after row 10 (line 11)");
    assert.throws(() => prepareForecast(ts, spec, 'g.csv'), (e) => e instanceof DataError
      && e.message.startsWith("CSV 'g.csv': column 'y' row 50 (line 51): expected a value whose scaling stays finite"));
  });
});

describe('baselines and metrics', () => {
  test('seasonal naive repeats the last season, also beyond one season', () => {
    const y = [0, 1, 2, 3, 4, 5, 6];
    assert.deepEqual(Array.from(seasonalNaive(y, 4, 5, 3)), [2, 3, 4, 2, 3]);
  });

  test('least squares solves an exact system; the AR fit recovers a simulated AR(2)', () => {
    assert.deepEqual(Array.from(leastSquares(Float64Array.of(1, 0, 0, 2, 1, 1), Float64Array.of(1, 4, 3), 3, 2)).map((v) => +v.toFixed(12)), [1, 2]);
    const rng = new Rng(4);
    const y = [0, 0];
    for (let k = 2; k < 5000; k++) y.push(1 + 0.6 * y[k - 1]! - 0.3 * y[k - 2]! + 0.1 * rng.normal());
    const ar = fitLinearAr(y, 4000, 2);
    const want = [1, 0.6, -0.3];
    ar.coefficients.forEach((a, i) => assert.ok(Math.abs(a - want[i]!) < 0.03, `a${i} = ${a}`));
    const f = linearArForecast(ar, y, 4500, 2);
    const one = ar.coefficients[0]! + ar.coefficients[1]! * y[4500]! + ar.coefficients[2]! * y[4499]!;
    assert.ok(Math.abs(f[0]! - one) < 1e-12);
    assert.ok(Math.abs(f[1]! - (ar.coefficients[0]! + ar.coefficients[1]! * one + ar.coefficients[2]! * y[4500]!)) < 1e-12, 'the forecast is fed back');
  });

  test('MASE is the MAE over the in-sample seasonal naive MAE of the training rows', () => {
    const y = [1, 2, 4, 3, 5, 9, 100];
    assert.equal(seasonalScale(y, 6, 2), (3 + 1 + 1 + 6) / 4);
    const a = accuracy([1, 2], [2, 4], 2);
    assert.deepEqual(a, { rmse: Math.sqrt(2.5), mae: 1.5, mase: 0.75 });
  });
});

describe('learning', () => {
  test('a seeded LSTM forecasts a two-tone sine 8 steps ahead through the runner (test RMSE < 0.1, measured 0.033; '
    + 'MASE under half the seasonal naive one)', async () => {
    const n = 500;
    const rng = new Rng(9);
    const y = Float64Array.from({ length: n }, (_, k) => Math.sin((2 * Math.PI * k) / 16)
      + 0.5 * Math.sin((2 * Math.PI * k) / 5) + 0.02 * rng.normal());
    const ts: TimeSeries = { times: null, style: null, frequency: null, names: ['y'], values: [y] };
    const spec: ForecastSpec = { lookback: 20, horizon: 8, season: 16, difference: 'none', calendar: false,
      split: [0.7, 0.15] };
    const p = prepareForecast(ts, spec, 'sine');
    const model = new Forecaster({ ...config(p.series, { mode: 'direct', hidden: 16, lookback: 20, horizon: 8,
      highway: 0, seed: 1 }) });
    const scoring = { trainEnd: p.split.trainEnd, season: 16 };
    const result = await fit({
      model, data: new ForecastBatches(p.series, p.origins.train, 16, model.config, 1),
      optimizer: new Adam(model.parameters(), { lr: 1e-2 }), schedule: { kind: 'cosine', lr: 1e-2, warmup: 20, floor: 0 },
      clip: 1, budget: { steps: 800 }, evalEvery: 100, validate: () => validation(model, p.series, p.origins.val, scoring),
    });
    assert.equal(result.updates, 800);
    const board = scoreboard(model, p.series, p.origins.test, scoring);
    assert.ok(board.model.rmse < 0.1, `test RMSE ${board.model.rmse}`);
    assert.ok(board.model.mase < 0.5 * board.seasonalNaive.mase,
      `MASE ${board.model.mase} against seasonal naive ${board.seasonalNaive.mase}`);

    // A checkpoint round trip gives the same forecasts.
    const extra = { scaler: p.series.scaler, data: { features: [], cycles: [], lag: 0 } };
    const path = saveRun(tmp, 'sine', forecastCodec, { model, config: model.config, extra, data: [], settings: {},
      writtenBy: 'test', state: null });
    const back = loadRun(path, forecastCodec).model;
    const b = makeBatch(p.series, p.origins.test.slice(0, 5), 20, 8);
    assert.deepEqual(back.predictOffsets(b), model.predictOffsets(b));
  });

  test('invalid combinations are ConfigErrors', () => {
    const { p } = small();
    assert.throws(() => new Forecaster(config(p.series, { loss: { kind: 'quantile', quantiles: [0.5] } })),
      /quantiles need the direct mode/);
    assert.throws(() => new Forecaster(config(p.series, { highway: 9 })), /highway <= lookback \(4\)/);
    assert.throws(() => new Forecaster(config(p.series, { mode: 'direct', loss: { kind: 'quantile',
      quantiles: [0.5, 0.4] } })), /quantiles in \(0, 1\), increasing/);
    assert.throws(() => new Forecaster(config(p.series, { cell: 'gru', forgetBias: 1 })), ConfigError);
  });
});

describe('resuming a training run', () => {
  /** A direct AdamW forecaster over 2 series with calendar features, and a trainer of it through the runner. */
  function setupRun() {
    const spec: ForecastSpec = { lookback: 6, horizon: 4, season: 2, difference: 'seasonal', calendar: true,
      split: [0.6, 0.2] };
    const p = prepareForecast(hourly(160), spec, 'test');
    const cfg = config(p.series, { mode: 'direct', hidden: 4, lookback: 6, horizon: 4, highway: 3, seed: 5 });
    const scoring = { trainEnd: p.split.trainEnd, season: 2 };
    const trainer = (model: Forecaster, callbacks: Array<Callback<Trainer<ForecastBatch>>> = [], steps = 24) =>
      new Trainer<ForecastBatch>({
        model, data: new ForecastBatches(p.series, p.origins.train, 16, cfg, 7),
        optimizer: new AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0.01 }),
        schedule: { kind: 'cosine', lr: 1e-2, warmup: 4, floor: 0 }, clip: 0.5, budget: { steps }, evalEvery: 5,
        validate: () => validation(model, p.series, p.origins.val, scoring), restoreBest: false, callbacks,
      });
    const extra = { scaler: p.series.scaler, data: { features: ['x'], cycles: p.series.cycles, lag: p.series.lag } };
    const save = async (name: string, t: Trainer<ForecastBatch>, model: Forecaster, state = true): Promise<string> =>
      saveRun(tmp, name, forecastCodec, { model, config: cfg, extra, data: [], settings: {}, writtenBy: 'test',
        state: state ? (await t.snapshot()) as never : null, bestWeights: t.best?.weights ?? null });
    return { p, cfg, trainer, save, perEpoch: Math.ceil(p.origins.train.length / 16) };
  }
  const weights = (m: ReadonlyMap<string, Tensor>) => [...m].map(([k, t]) => [k, Array.from(t.data)]);

  test('stopped mid-epoch between validations, saved, loaded and restored, a run ends as the uninterrupted one, '
    + 'bit for bit', async () => {
    const { cfg, trainer, save, perEpoch } = setupRun();
    const reference = trainer(new Forecaster(cfg));
    const done = await reference.fit();
    const M = perEpoch + 2; // into the second epoch: its window order must carry over
    assert.ok(M % 5 !== 0 && M < 24, `stop at ${M}`);
    const model = new Forecaster(cfg);
    let path = '';
    const stopped = trainer(model, [{
      onUpdate: (e, t) => {
        if (e.update === M) t.stop('test');
      },
      onInterrupt: async (_, t) => {
        path = await save('resume', t, model);
      },
    }]);
    assert.equal((await stopped.fit()).stoppedBy, 'stopped');
    assert.ok(stopped.best && stopped.best.event.update < M, 'a best validation before the save');

    const run = loadRun(path, forecastCodec);
    const { state, bestWeights } = runStateOf(run);
    const resumed = trainer(run.model);
    await resumed.restore(state, bestWeights);
    assert.equal(resumed.progress.updates, M);
    assert.deepEqual(weights(resumed.best!.weights), weights(stopped.best.weights), 'the best weights so far');
    const end = await resumed.fit();
    assert.deepEqual(weights(run.model.stateDict()), weights(reference.options.model.stateDict()), 'the same last weights');
    assert.deepEqual([end.updates, end.epoch, end.best, end.last, end.items],
      [done.updates, done.epoch, done.best, done.last, done.items]);
    assert.deepEqual(weights(resumed.best!.weights), weights(reference.best!.weights), 'the same best weights');
  });

  test('a restored run numbers its updates on, and ten skipped in a row end it', async () => {
    const { cfg, trainer } = setupRun();
    const first = trainer(new Forecaster(cfg), [], 3);
    await first.fit();
    const model = new Forecaster(cfg);
    const skipped: Array<string | null> = [];
    const resumed = trainer(model, [{ onUpdate: (e) => void skipped.push(e.skipped) }]);
    await resumed.restore(await first.snapshot(), first.best!.weights);
    for (const p of model.head.parameters()) p.data.fill(NaN);
    await assert.rejects(resumed.fit(), (e) => e instanceof DataError
      && /got 10, updates 4 to 13; the first, update 4: /.test(e.message));
    assert.equal(skipped.length, 9);
    skipped.forEach((s, k) => assert.match(s ?? 'not skipped', new RegExp(`^update ${4 + k}: `)));
  });

  test('a weights-only checkpoint has no state to resume from; a position of other data is refused', async () => {
    const { cfg, trainer, save, p } = setupRun();
    const model = new Forecaster(cfg);
    const t = trainer(model, [], 5);
    await t.fit();
    const weightsOnly = await save('weights-only', t, model, false);
    assert.throws(() => runStateOf(loadRun(weightsOnly, forecastCodec)),
      (e) => e instanceof DataError && /expected a training state .* got weights only/.test(e.message));
    const position = t.data.getState() as { order: number[]; at: number };
    const fresh = () => new ForecastBatches(p.series, p.origins.train, 16, cfg, 7);
    const other = new RegExp(`order of this data's ${p.origins.train.length} training windows`);
    assert.throws(() => fresh().setState({ ...position, order: position.order.map((o) => o + 1) }),
      (e) => e instanceof DataError && other.test(e.message));
    assert.throws(() => fresh().setState({ ...position, at: position.order.length + 1 }), DataError);
    const back = fresh();
    back.setState(position);
    assert.deepEqual(back.next().batch.origins, t.data.next(1).batch.origins, 'the same next windows');
  });

  test('a scaler whose spread is null (as σ = ∞ was saved) is refused on loading, not met as NaN forecasts',
    async () => {
    const { cfg, trainer, save } = setupRun();
    const model = new Forecaster(cfg);
    const path = await save('null-std', trainer(model), model, false);
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { meta: { extra: ForecastExtra } };
    manifest.meta.extra.scaler.std[1] = null as unknown as number;
    writeFileSync(path, JSON.stringify(manifest));
    assert.throws(() => loadRun(path, forecastCodec), (e) => e instanceof DataError
      && new RegExp('^checkpoint \'.*\': expected a scaler of finite means and positive finite spreads, '
        + 'got \\{"mean":\\[.*\\],"std":\\[[^,]+,null\\]\\}$').test(e.message));
  });

  test('a checkpoint of the format before the run format loads for use and forecasts as it did', () => {
    const dir = join(FIXTURES, 'old-checkpoints', 'forecast');
    for (const name of ['best.json', 'last.json']) {
      const run = loadRun(join(dir, name), forecastCodec);
      assert.equal(run.meta.trainer, null, 'not resumable');
      assert.equal(run.meta.data[0]!.role, '--csv');
      assert.match(run.meta.data[0]!.name, /tiny\.csv$/);
      const csv = parseCsv(readFileSync(join(dir, 'tiny.csv'), 'utf8'), 'tiny');
      const { series } = seriesFromTable(csv, { time: 'date', columns: ['temp'], fill: null }, 'tiny');
      const extra = checkForecastExtra(name, run.meta.model, run.meta.extra);
      const f = forecastAfterEnd(run.model, extra, series, 'tiny');
      // printed by the old `bptt forecast` (see the fixture's README)
      assert.deepEqual(f.point.map((x) => +x.toPrecision(8)), [12.436525, 15.880377]);
    }
  });
});
