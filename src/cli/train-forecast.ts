/** `bptt train forecast`: a recurrent forecaster on a CSV time series, scored against two baselines on the test split. */
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { FILL_METHODS, defaultSeason, describeFrequency, formatTimestamp, type FillMethod } from '../data/index.js';
import { ensureWritableDir } from '../io/node/checkpoint-files.js';
import { lockRunFolder, lockRunFolderIfExists } from '../io/node/run-lock.js';
import { isObject } from '../io/trainer-state.js';
import { forecastProgress, forecastTrainerStateOf, loadForecaster, saveForecaster, type ForecastDataMeta, type ForecastMeta } from '../tasks/forecast/checkpoint.js';
import { Forecaster, validateForecasterConfig, type ForecasterConfig } from '../tasks/forecast/model.js';
import { prepareForecast, type ForecastSpec, type Prepared } from '../tasks/forecast/prepare.js';
import { DATASETS, loadSource, type LoadedSource } from '../tasks/forecast/node/source.js';
import { ForecastTrainer, type ForecastTrainerState, type ForecastTrainingOptions } from '../tasks/forecast/trainer.js';
import { scoreboard, type Scoreboard } from '../tasks/forecast/evaluate.js';
import type { LossSpec } from '../tasks/forecast/losses.js';
import type { Difference } from '../tasks/forecast/scaling.js';
import { BpttError, ConfigError, DataError, expected, show } from '../tensor/index.js';
import { openReport } from '../report/node/write.js';
import { checkSaved, duration, formatDuration, integer, kebab, real, realOrNone } from './options.js';
import { checkSameFile, fileNotGiven } from './resume-files.js';
import { Progress, RateMeter, formatCount } from './progress.js';
import { appendLog, ensureWritableLog } from '../training/node/json-log.js';
import { StopSignals } from './stop-signals.js';
import { VERSION } from './version.js';

/** Options a resumed run takes from its checkpoint (giving one anew must repeat the saved value). */
const FIXED = ['dataset', 'csv', 'timeColumn', 'target', 'features', 'fill', 'horizon', 'lookback', 'season', 'difference', 'calendar', 'split',
  'mode', 'cell', 'hidden', 'layers', 'highway', 'forgetBias', 'loss', 'huberDelta', 'quantiles', 'batch', 'lr', 'warmup', 'clip', 'weightDecay', 'seed'] as const;
type Fixed = (typeof FIXED)[number];

interface TrainForecastOptions {
  dataset?: 'co2' | 'seattle';
  csv?: string;
  timeColumn: string;
  target?: string;
  features: string[];
  fill?: FillMethod | 'none';
  horizon?: number;
  lookback?: number;
  season?: number;
  difference?: Difference;
  calendar: boolean;
  split: [number, number];
  mode: 'direct' | 'recursive';
  cell: 'lstm' | 'gru';
  hidden: number;
  layers: number;
  highway?: number;
  forgetBias: number;
  loss: LossSpec['kind'];
  huberDelta: number;
  quantiles: number[];
  batch: number;
  lr: number;
  warmup: number;
  clip: number | null;
  weightDecay: number;
  steps: number;
  time?: number;
  evalEvery: number;
  seed: number;
  out: string;
  resume?: string | true;
  log?: string;
  report?: string;
  quiet?: boolean;
}

export function trainForecastCommand(): Command {
  return new Command('forecast')
    .description('train an LSTM/GRU forecaster on a CSV time series (or a bundled dataset) and score it against seasonal naive and linear AR on the test split')
    .addOption(new Option('--dataset <name>', 'a bundled dataset with its settings: co2 (monthly Mauna Loa CO2) or seattle (hourly Seattle temperature normals)').choices(['co2', 'seattle']))
    .option('--csv <file>', 'a CSV file with a header line (instead of --dataset)')
    .option('--time-column <name>', "the timestamps' column (ISO dates or date-times); 'none': rows are plain steps", 'auto')
    .option('--target <column>', 'the column to forecast')
    .option('--features <columns>', 'more columns to read as inputs, comma-separated', list, [])
    .addOption(new Option('--fill <method>', "fill missing or non-numeric cells and rows missing from the spacing: previous, linear or zero (default: they are errors; co2: linear)").choices([...FILL_METHODS, 'none']))
    .option('--horizon <H>', 'steps to forecast (co2: 12, seattle: 24)', integer(1, 10_000))
    .option('--lookback <L>', 'steps the model reads before forecasting (co2: 36, seattle: 72)', integer(1, 10_000))
    .option('--season <m>', 'seasonal period in steps for seasonal naive, MASE and differencing (default: from the spacing: 12 monthly, 24 hourly, 7 daily)', integer(1, 100_000))
    .addOption(new Option('--difference <kind>', "what the network reads and predicts: none (levels), first (step-to-step changes) or seasonal (changes over one season); default seasonal when the season is > 1, else first").choices(['none', 'first', 'seasonal']))
    .option('--no-calendar', 'no calendar features (time of day, day of week, month or day of year, each when the training rows cover it twice)')
    .option('--split <train,val>', 'time-ordered split: fractions for training and validation, the test part is the rest', fractions, [0.7, 0.15])
    .addOption(new Option('--mode <mode>', 'direct: one head outputs all H steps; recursive: a one-step model fed its own predictions H times').choices(['direct', 'recursive']).default('direct'))
    .addOption(new Option('--cell <cell>', 'recurrent cell').choices(['lstm', 'gru']).default('lstm'))
    .option('--hidden <n>', 'hidden units per layer', integer(1, 4096), 32)
    .option('--layers <n>', 'stacked recurrent layers', integer(1, 16), 1)
    .option('--highway <P>', 'a linear map of the target\'s last P inputs added to the output (LSTNet); 0 turns it off (default: the lookback)', integer(0, 10_000))
    .option('--forget-bias <b>', 'LSTM: initial forget-gate bias', real(-100, 100), 1)
    .addOption(new Option('--loss <kind>', 'mse, mae, huber or quantile (prediction intervals, direct mode)').choices(['mse', 'mae', 'huber', 'quantile']).default('mse'))
    .option('--huber-delta <d>', 'Huber: where the loss turns linear, in standard deviations of the differenced target', real(0, Infinity, true), 1)
    .option('--quantiles <list>', 'quantile loss: the levels, comma-separated', quantileList, [0.1, 0.5, 0.9])
    .option('--batch <n>', 'windows per update', integer(1, 100_000), 32)
    .option('--lr <rate>', 'peak learning rate (Adam; warm-up, then cosine decay to 0)', real(0, 10, true), 3e-3)
    .option('--warmup <updates>', 'linear learning-rate warm-up', integer(0), 50)
    .option('--clip <norm>', "clip the gradient norm ('none' to turn off)", realOrNone(0), 1)
    .option('--weight-decay <w>', 'decoupled weight decay (AdamW)', real(0), 0)
    .option('--steps <n>', 'updates to train', integer(1), 1500)
    .option('--time <duration>', 'stop earlier after this much training time, e.g. 90s, 5m', duration)
    .option('--eval-every <updates>', 'validate (keeping the best weights) and save checkpoints this often', integer(1), 250)
    .option('--seed <n>', 'seed of the initialisation and the window order', integer(0, 2 ** 32 - 1), 1)
    .option('--out <dir>', 'checkpoint directory (best.json, last.json and their .safetensors)', 'runs/forecast')
    .option('--resume [checkpoint]', 'continue from a checkpoint (default: --out/last.json) '
      + 'with its model and settings; give --csv again (bptt reads no file a checkpoint names)')
    .option('--log <file>', 'append one JSON object per update, validation and at the end to this file')
    .option('--report <file>', 'write an HTML report (loss, learning rate, gradient norm and clipping, gradient flow, gate saturation) at each checkpoint and at the end')
    .option('-q, --quiet', 'no progress line; only the summary')
    .action((o: TrainForecastOptions, cmd: Command) => trainForecast(o, cmd));
}

async function trainForecast(o: TrainForecastOptions, cmd: Command): Promise<void> {
  const given = (name: string): boolean => cmd.getOptionValueSource(name) === 'cli';
  // Inputs first, then the output: bad input leaves no directory or file behind.
  if (o.resume) lockRunFolderIfExists(o.out); // before the checkpoint there is read
  const { source, prepared, spec, config, training, fill, settings, resume } =
    o.resume ? resumeSetup(o, cmd, given) : freshSetup(o);
  const report = o.report ? openReport(o.report, `bptt train forecast: ${source.source}`, {
    cell: config.cell, hidden: config.hidden, layers: config.layers, mode: config.mode, lookback: spec.lookback, horizon: spec.horizon, loss: config.loss.kind,
    batch: training.batch, lr: training.schedule.lr, clip: training.clip, seed: training.seed, resumed: !!resume, version: VERSION,
  }) : null;
  report?.recorder.chart('loss', { unit: `${config.loss.kind} (scaled units)` });
  if (report && training.clip) report.recorder.chart('grad-norm', { threshold: { label: `clip ${training.clip}`, y: training.clip } });
  const { series, split, origins } = prepared;
  const model = resume?.model ?? new Forecaster(config);
  const trainer = new ForecastTrainer(model, series, origins, training, { trainEnd: split.trainEnd, season: spec.season }, report?.flow ?? null);
  if (resume) restoreTrainer(trainer, resume);
  ensureWritableDir(o.out);
  lockRunFolder(o.out);
  if (o.log) ensureWritableLog(o.log);
  const say = (line: string): void => {
    if (!o.quiet) console.log(line);
  };
  const ts = source.series;
  const freq = ts.frequency ? describeFrequency(ts.frequency) : 'plain steps';
  say(`bptt ${VERSION}: forecasting '${ts.names[0]}'${ts.names.length > 1 ? ` from ${ts.names.join(', ')}` : ''} (${source.source}): ${formatCount(split.rows)} ${freq} rows, `
    + `split ${split.trainEnd} / ${split.valEnd - split.trainEnd} / ${split.rows - split.valEnd}; ${origins.train.length} training, ${origins.val.length} validation, ${origins.test.length} test windows`);
  if (source.problems.length) say(`filled (--fill ${fill}): ${describeProblems(source)}`);
  say(`${config.mode} ${config.cell.toUpperCase()} ${config.layers}×${config.hidden}${config.highway ? ` + linear highway of ${config.highway}` : ''}, lookback ${spec.lookback}, horizon ${spec.horizon}, season ${spec.season}, `
    + `difference ${spec.difference}${series.cycles.length ? `, calendar ${series.cycles.join('+')}` : ''}, loss ${config.loss.kind}; batch ${training.batch}, Adam lr ${training.schedule.lr}, clip ${training.clip ?? 'none'}, `
    + `${training.maxUpdates} updates${training.maxSeconds ? ` or ${formatDuration(training.maxSeconds)}` : ''}${resume ? `; resuming at update ${trainer.updates}` : ''}`);
  const log = (record: object): void => {
    appendLog(o.log, record);
  };
  const progress = new Progress(o.quiet ? 'quiet' : process.stderr.isTTY ? 'tty' : 'plain', 'MASE', 30, 'values/s');
  const meta = (test: Scoreboard | null): ForecastMeta => ({
    task: 'forecast', writtenBy: `bptt ${VERSION}`, model: config, scaler: series.scaler, training, settings,
    data: dataMeta(source, spec, prepared, fill), progress: forecastProgress(trainer), test,
  });
  /** `last` carries the trainer's state, so a run can continue from it. */
  let lastSaved: { path: string; updates: number } | null = null;
  const saveLast = (): string => {
    if (lastSaved?.updates !== trainer.updates) lastSaved = { path: saveForecaster(o.out, 'last', model, meta(null), trainer.snapshot()), updates: trainer.updates };
    return lastSaved.path;
  };
  const signals = new StopSignals();
  try {
    let val: number | null = trainer.last?.mase ?? null;
    const rate = new RateMeter();
    while (!trainer.finished && !signals.reason) {
      const r = trainer.step();
      log({ type: 'update', update: r.updates, epoch: r.epoch, loss: r.loss, gradNorm: r.gradNorm, clipped: r.clipped, lr: r.lr, elapsedMs: Math.round(r.elapsedMs), skipped: r.skipped });
      if (r.skipped) progress.note(`skipped: ${r.skipped}`);
      report?.recorder.step(r.updates, { loss: r.loss, lr: r.lr, gradNorm: r.gradNorm, clipped: r.clipped });
      rate.update(r.windows * spec.horizon);
      // not right after a skipped update: those weights may be diverging, and last.json must stay the good one
      if ((r.updates % training.evalEvery === 0 || trainer.finished) && !r.skipped) {
        if (origins.val.length) {
          const v = trainer.validate();
          val = v.mase;
          log({ type: 'validation', update: r.updates, ...v });
          progress.note(`update ${r.updates} (epoch ${r.epoch.toFixed(1)}, ${formatDuration(r.elapsedMs / 1000)}): validation RMSE ${fmt(v.rmse)}, MAE ${fmt(v.mae)}, MASE ${v.mase.toFixed(3)}${v.best ? ' (best)' : ''}`);
          if (v.best) saveForecaster(o.out, 'best', model, meta(null));
          report?.recorder.validation(r.updates, { rmse: v.rmse, mase: v.mase });
        }
        saveLast();
        report?.write();
      }
      progress.update({ step: r.updates, epoch: r.epoch, loss: r.loss, val, tokensPerSecond: rate.value, gradNorm: r.gradNorm, lr: r.lr, done: trainer.done, elapsedSeconds: r.elapsedMs / 1000 });
      await new Promise((resolve) => setImmediate(resolve)); // lets signals and the progress timer in
    }
    progress.stop();
  } finally {
    signals.release();
  }
  // The last weights (and the trainer's state) are in last.json (saved here when a signal stopped the loop between checkpoints); the best validated ones are scored on the test split and saved as best.json.
  const lastPath = saveLast();
  trainer.restoreBest();
  const board = scoreboard(model, series, origins.test, { trainEnd: split.trainEnd, season: spec.season });
  const path = saveForecaster(o.out, 'best', model, meta(board));
  report?.recorder.meta({ 'test RMSE': board.model.rmse, 'test MAE': board.model.mae, 'test MASE': board.model.mase, 'best update': trainer.best?.updates ?? null });
  report?.write();
  log({ type: 'done', updates: trainer.updates, elapsedMs: Math.round(trainer.elapsedMs), bestUpdate: trainer.best?.updates ?? null, test: board });
  const first = series.timeAfter(origins.test[0]!, 1), last = series.timeAfter(origins.test[origins.test.length - 1]!, spec.horizon);
  const span = first !== null && last !== null ? `, ${formatTimestamp(first, ts.style!)} to ${formatTimestamp(last, ts.style!)}` : '';
  console.log(`done: ${trainer.updates} updates in ${formatDuration(trainer.elapsedMs / 1000)}${trainer.best ? `; best validation at update ${trainer.best.updates}` : ''}; checkpoint ${path}`);
  console.log(`test: ${board.windows} windows × ${board.horizon} steps${span}; MASE scale: in-sample MAE of the seasonal naive forecast (season ${board.season}) over the training rows, ${fmt(board.scale)}\n`);
  console.log(table(board, config));
  if (signals.reason) {
    console.error(`bptt: ${signals.reason}: saved ${lastPath} at update ${trainer.updates}; continue with --resume`);
    process.exitCode = 130;
  }
}

interface Setup {
  source: LoadedSource;
  prepared: Prepared;
  spec: ForecastSpec;
  config: ForecasterConfig;
  training: ForecastTrainingOptions;
  fill: FillMethod | null;
  /** the command-line settings a resumed run is checked against */
  settings: Record<string, unknown>;
  resume: Resume | null;
}

interface Resume {
  path: string;
  model: Forecaster;
  state: ForecastTrainerState;
}

function freshSetup(o: TrainForecastOptions): Setup {
  return { ...setup(o), settings: settingsOf(o), resume: null };
}

/**
 * The checkpoint decides the model, data and settings; the budget, output and
 * display options may be given anew. The data must prepare as it did (the CSV
 * named again with --csv, with the recorded hash; the same scaler and split),
 * else the saved state would continue on other windows.
 */
function resumeSetup(o: TrainForecastOptions, cmd: Command, given: (name: string) => boolean): Setup {
  const ckpt = loadForecaster(o.resume === true ? join(o.out, 'last.json') : o.resume!);
  const state = forecastTrainerStateOf(ckpt); // checks the manifest's fields first
  const where = `--resume ${ckpt.path}`;
  const saved = savedSettings(cmd, ckpt.path, ckpt.meta.settings);
  // A CSV is never read from the path the manifest names: it is named again, and its hash decides (it may have moved).
  const csv = saved.csv !== undefined;
  const mine = settingsOf(o);
  for (const k of FIXED.filter((k) => given(k) && !(k === 'csv' && csv))) {
    if (JSON.stringify(mine[k]) !== JSON.stringify(saved[k])) {
      const want = saved[k] === undefined ? `no ${flag(k)}, as saved` : `${typed(k, saved[k])} as saved, or no ${flag(k)}`;
      throw new ConfigError(expected(where, want, typed(k, mine[k])));
    }
  }
  if (csv && o.csv === undefined) throw fileNotGiven(where, '--csv', ckpt.meta.data.source);
  const was = savedBudget(cmd, ckpt.path, ckpt.meta.training);
  const budget = given('steps') || given('time') ? { steps: o.steps, time: o.time } : { steps: was.maxUpdates ?? o.steps, time: was.maxSeconds ?? undefined };
  const evalEvery = given('evalEvery') ? o.evalEvery : was.evalEvery;
  const s = setup({ ...o, ...saved, csv: o.csv, ...budget, evalEvery } as TrainForecastOptions);
  const same = (what: string, now: unknown, then: unknown): void => {
    if (JSON.stringify(now) === JSON.stringify(then)) return;
    const key = isObject(now) && isObject(then) ? Object.keys({ ...now, ...then }).find((k) => JSON.stringify(now[k]) !== JSON.stringify(then[k])) : undefined;
    const part = (x: unknown): unknown => (key ? (x as Record<string, unknown>)[key] : x);
    throw new DataError(expected(where, `${what}${key ? ` (${key})` : ''} it was trained with, ${show(part(then))}`, show(part(now)), 'the CSV or its reading changed; train anew'));
  };
  if (csv) checkSameFile(where, '--csv', ckpt.meta.data.source, s.source.source);
  else same('the data', s.source.source, ckpt.meta.data.source);
  const prepared = dataMeta(s.source, s.spec, s.prepared, s.fill);
  same('the prepared data', { ...prepared, source: ckpt.meta.data.source }, ckpt.meta.data);
  same('the scaler', s.prepared.series.scaler, ckpt.meta.scaler);
  same('the model', s.config, ckpt.meta.model);
  const rules = (t: Partial<ForecastTrainingOptions>): unknown => ({ ...t, maxUpdates: null, maxSeconds: null, evalEvery: null });
  same('the training settings', rules(s.training), rules(was));
  const settings = csv ? { ...ckpt.meta.settings, csv: resolve(o.csv!) } : ckpt.meta.settings;
  return { ...s, settings, resume: { path: ckpt.path, model: ckpt.model, state } };
}

/** The manifest's budget and validation interval, checked as --steps, --time and --eval-every would be. */
function savedBudget(cmd: Command, path: string, t: ForecastTrainingOptions): ForecastTrainingOptions {
  const where = `checkpoint '${path}'`;
  checkSaved(cmd, 'steps', t.maxUpdates, where, 'training.maxUpdates');
  if (t.maxSeconds !== null) checkSaved(cmd, 'time', t.maxSeconds, where, 'training.maxSeconds');
  checkSaved(cmd, 'evalEvery', t.evalEvery, where, 'training.evalEvery');
  return t;
}

/** Puts the saved trainer state in place; a state that does not fit the model or the data is a DataError naming the checkpoint. */
function restoreTrainer(trainer: ForecastTrainer, r: Resume): void {
  const where = `checkpoint '${r.path}'`;
  try {
    trainer.restore(r.state);
  } catch (e) {
    if (e instanceof BpttError) throw new DataError(`${where}: ${e.message}`);
    throw e;
  }
}

/** The run's settings as saved: the fixed options that were set (the CSV as an absolute path). */
function settingsOf(o: TrainForecastOptions): Partial<Record<Fixed, unknown>> {
  return Object.fromEntries(FIXED.filter((k) => o[k] !== undefined).map((k) => [k, k === 'csv' ? resolve(o.csv!) : o[k]]));
}

/**
 * The saved settings that were set, each checked as its command-line option
 * would be: a hand-edited manifest fails here, not deep in the data preparation.
 */
function savedSettings(cmd: Command, path: string, settings: Record<string, unknown>): Partial<Record<Fixed, unknown>> {
  const given = FIXED.filter((k) => settings[k] !== undefined);
  for (const k of given) checkSaved(cmd, k, settings[k], `checkpoint '${path}'`, `settings.${k}`);
  return Object.fromEntries(given.map((k) => [k, settings[k]]));
}

/** What the manifest records of the data and its preparation. */
function dataMeta(source: LoadedSource, spec: ForecastSpec, p: Prepared, fill: FillMethod | null): ForecastDataMeta {
  const ts = source.series;
  return {
    source: source.source, time: source.timeColumn, target: ts.names[0]!, features: ts.names.slice(1), frequency: ts.frequency, style: ts.style,
    season: spec.season, difference: spec.difference, lag: p.series.lag, cycles: [...p.series.cycles], fill, split: { fractions: spec.split, ...p.split },
  };
}

function flag(k: Fixed): string {
  return k === 'calendar' ? '--no-calendar' : `--${kebab(k)}`;
}

/** An option as typed: `--hidden 8`, `--split 0.7,0.15`, `--clip none`, `--no-calendar`. */
function typed(k: Fixed, v: unknown): string {
  if (k === 'calendar') return v === false ? '--no-calendar' : 'calendar features';
  return `${flag(k)} ${v === null ? 'none' : Array.isArray(v) ? v.join(',') : String(v)}`;
}

function setup(o: TrainForecastOptions): Omit<Setup, 'settings' | 'resume'> {
  if (!o.dataset === !o.csv) throw new ConfigError(expected('bptt train forecast', 'either --csv FILE or --dataset co2|seattle', o.csv ? 'both' : 'neither'));
  const preset = o.dataset ? DATASETS[o.dataset] : null;
  const target = o.target ?? preset?.target;
  if (!target) throw new ConfigError(expected('bptt train forecast', '--target COLUMN with --csv', 'no --target'));
  const fill = o.fill === 'none' ? null : o.fill ?? preset?.fill ?? null;
  const timeColumn = o.timeColumn === 'auto' && preset && !o.csv ? preset.time : o.timeColumn;
  const source = loadSource({ csv: o.csv ?? null, dataset: o.dataset ?? null, timeColumn, target, features: o.features, fill });
  const frequency = source.series.frequency;
  const season = o.season ?? (frequency ? defaultSeason(frequency) : 1);
  const lookback = o.lookback ?? preset?.lookback;
  const horizon = o.horizon ?? preset?.horizon;
  if (!lookback || !horizon) throw new ConfigError(expected('bptt train forecast', '--lookback L and --horizon H with --csv', `${lookback ? '' : 'no --lookback '}${horizon ? '' : 'no --horizon'}`.trim()));
  const spec: ForecastSpec = { lookback, horizon, season, difference: o.difference ?? (season > 1 ? 'seasonal' : 'first'), calendar: o.calendar && source.timeColumn !== null, split: o.split };
  const prepared = prepareForecast(source.series, spec, source.source.replace(/ \(sha256 \w+\)$/, ''));
  const loss: LossSpec = o.loss === 'huber' ? { kind: 'huber', delta: o.huberDelta } : o.loss === 'quantile' ? { kind: 'quantile', quantiles: o.quantiles } : { kind: o.loss };
  const config: ForecasterConfig = {
    cell: o.cell, hidden: o.hidden, layers: o.layers, mode: o.mode, series: prepared.series.series, calendar: prepared.series.calendarNames.length,
    lookback, horizon, lag: prepared.series.lag, drift: prepared.series.driftPerStep, loss, highway: o.highway ?? lookback,
    forgetBias: o.cell === 'lstm' ? o.forgetBias : 0, seed: o.seed,
  };
  validateForecasterConfig(config); // the combination (e.g. quantiles need the direct mode), before anything is written
  const training: ForecastTrainingOptions = {
    batch: o.batch, schedule: { kind: 'cosine', lr: o.lr, warmup: o.warmup, floor: 0 }, clip: o.clip, weightDecay: o.weightDecay,
    maxUpdates: o.steps, maxSeconds: o.time ?? null, evalEvery: o.evalEvery, seed: o.seed,
  };
  return { source, prepared, spec, config, training, fill };
}

/** The test table, as Markdown. */
function table(b: Scoreboard, c: ForecasterConfig): string {
  const model = `${c.cell.toUpperCase()} ${c.layers}×${c.hidden}${c.highway ? ` + highway ${c.highway}` : ''}, ${c.mode}`;
  const rows: Array<[string, { rmse: number; mae: number; mase: number }]> = [
    [`model (${model})`, b.model], [`seasonal naive (m = ${b.season})`, b.seasonalNaive], [`linear AR(${b.linearAr.order}), least squares`, b.linearAr],
  ];
  const lines = ['| forecast | RMSE | MAE | MASE |', '|---|---|---|---|', ...rows.map(([n, a]) => `| ${n} | ${fmt(a.rmse)} | ${fmt(a.mae)} | ${fmt(a.mase)} |`)];
  if (b.coverage !== null) lines.push('', `share of test values inside the outermost quantiles: ${(100 * b.coverage).toFixed(1)} %`);
  return lines.join('\n');
}

function fmt(x: number): string {
  return Math.abs(x) >= 100 ? x.toFixed(1) : Math.abs(x) >= 1 ? x.toFixed(3) : x.toPrecision(3);
}

function describeProblems(s: LoadedSource): string {
  const shown = s.problems.slice(0, 3).map((p) => `${p.column} row ${p.row} (${p.got})`);
  return `${s.problems.length} place${s.problems.length > 1 ? 's' : ''}: ${shown.join('; ')}${s.problems.length > 3 ? '; …' : ''}`;
}

function list(v: string): string[] {
  const items = v.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new InvalidArgumentError('expected column names separated by commas');
  return items;
}

function fractions(v: string): [number, number] {
  const parts = v.split(/[,/]/).map((s) => Number(s.trim()));
  const [a, b] = parts.length === 3 ? parts.map((x) => x / (parts[0]! + parts[1]! + parts[2]!)) : parts;
  if (!(parts.length === 2 || parts.length === 3) || !(a! > 0 && b! >= 0 && a! + b! < 1)) throw new InvalidArgumentError('expected TRAIN,VAL fractions (e.g. 0.7,0.15) or TRAIN/VAL/TEST shares (e.g. 70/15/15), with a test part left');
  return [a!, b!];
}

function quantileList(v: string): number[] {
  const q = v.split(',').map((s) => Number(s.trim()));
  if (!q.every((x, i) => x > 0 && x < 1 && (i === 0 || x > q[i - 1]!))) throw new InvalidArgumentError('expected increasing levels in (0, 1), e.g. 0.1,0.5,0.9');
  return q;
}
