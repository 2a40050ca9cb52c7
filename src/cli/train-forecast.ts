/** `bptt train forecast`: a recurrent forecaster on a CSV series, scored against two baselines on the test split. */
import { Command, Option } from 'commander';
import { FILL_METHODS, describeFrequency, formatTimestamp } from '../data/index.js';
import { forecastCodec } from '../tasks/forecast/codec.js';
import { formatValue, scoreTable, scoreboard, validation } from '../tasks/forecast/evaluate.js';
import { Forecaster, type ForecasterConfig } from '../tasks/forecast/model.js';
import { forecastSetup, type ForecastSettings } from '../tasks/forecast/node/setup.js';
import { ForecastBatches } from '../tasks/forecast/batches.js';
import { describeProblems } from '../tasks/forecast/node/source.js';
import type { ForecastBatch } from '../tasks/forecast/windows.js';
import { ConfigError, DataError, expected } from '../tensor/index.js';
import { dataParallel } from '../training/node/data-parallel.js';
import { fractions, integer, levels, names, real } from './options.js';
import { formatCount } from '../report/progress.js';
import { trainingCommand, type TrainingTask } from './run-training.js';
import type { TrainingDefaults, TrainingFlags } from './training-options.js';

type Flags = ForecastSettings & TrainingFlags & { batch: number };
const DEFAULTS: TrainingDefaults = { lr: 3e-3, warmup: 50, clip: 1, out: 'runs/forecast', budget: { steps: 1500 } };

const task: TrainingTask<Flags, ForecastBatch, ForecasterConfig, Forecaster> = {
  codec: forecastCodec,
  defaults: DEFAULTS,
  dataFlags: ['csv'],
  prepare(o, resumed) {
    const where = 'bptt train forecast';
    if (o.bptt.kind === 'truncated') {
      throw new ConfigError(expected(where, '--bptt full or checkpointed', '--bptt truncated', 'the loss comes '
        + 'after the whole window, so a truncated update before it has no error; shorten --lookback instead'));
    }
    const s = forecastSetup(o, where);
    const { series, split, origins } = s.prepared;
    if (!origins.val.length) {
      throw new ConfigError(expected(where, 'validation windows (--split with a validation fraction > 0)', 'none',
        'validation chooses the weights kept'));
    }
    const saved = resumed?.meta;
    if (saved && saved.data[0]?.sha256 === s.source.source.sha256
      && JSON.stringify([s.config, s.extra]) !== JSON.stringify([saved.model, saved.extra])) {
      throw new DataError(expected(`--resume ${resumed!.path}`, 'the data prepared as it was trained on',
        'another preparation', 'the CSV reading changed; train anew'));
    }
    const model = resumed?.model ?? new Forecaster(s.config);
    const c = s.config, ts = s.source.series;
    const scoring = { trainEnd: split.trainEnd, season: s.spec.season };
    const freq = ts.frequency ? describeFrequency(ts.frequency) : 'plain steps';
    // every thread trains at least one window of each batch, the smaller last one of an epoch too
    const workers = Math.min(o.workers, Math.min(o.batch, origins.train.length % o.batch || o.batch) - 1);
    return {
      model, config: c, extra: s.extra as never, data: [s.source.source],
      batches: new ForecastBatches(series, origins.train, o.batch, c, o.seed),
      validate: () => validation(model, series, origins.val, scoring),
      units: { score: 'RMSE', loss: `${c.loss.kind} (scaled units)`, rate: 'values/s' },
      header: `forecasting '${ts.names[0]}'${ts.names.length > 1 ? ` from ${ts.names.join(', ')}` : ''} `
        + `(${s.source.name}): ${formatCount(split.rows)} ${freq} rows, split ${split.trainEnd} / `
        + `${split.valEnd - split.trainEnd} / ${split.rows - split.valEnd}; ${origins.train.length} training, `
        + `${origins.val.length} validation, ${origins.test.length} test windows`
        + (s.source.problems.length ? `\nfilled (--fill ${s.fill}): ${describeProblems(s.source)}` : '')
        + `\n${c.mode} ${describeModel(c)}, lookback ${c.lookback}, horizon ${c.horizon}, season ${s.spec.season}, `
        + `difference ${s.spec.difference}${series.cycles.length ? `, calendar ${series.cycles.join('+')}` : ''}, `
        + `loss ${c.loss.kind}; batch ${o.batch}, ${workers + 1} thread${workers ? 's' : ''}`,
      recurrent: [model.rnn],
      engine: workers ? dataParallel({ module: new URL('../tasks/forecast/node/replica.js', import.meta.url), config: c,
        workers }) : undefined,
      test: () => {
        const b = scoreboard(model, series, origins.test, scoring);
        const t = (origin: number, h: number): string => formatTimestamp(series.timeAfter(origin, h)!, ts.style!);
        const span = ts.style ? `, ${t(origins.test[0]!, 1)} to ${t(origins.test.at(-1)!, c.horizon)}` : '';
        const line = `test: ${b.windows} windows × ${b.horizon} steps${span}; MASE scale: in-sample MAE of the `
          + `seasonal naive forecast (season ${b.season}) over the training rows, ${formatValue(b.scale)}\n\n`
          + scoreTable(b, `${describeModel(c)}, ${c.mode}`);
        return { line, figures: { 'test RMSE': b.model.rmse, 'test MAE': b.model.mae, 'test MASE': b.model.mase } };
      },
    };
  },
};

export function trainForecastCommand(): Command {
  const cmd = new Command('forecast')
    .description('train an LSTM/GRU forecaster on a CSV time series (or a bundled dataset) and score it against '
      + 'seasonal naive and linear AR on the test split')
    .addOption(new Option('--dataset <name>', 'a bundled dataset with its settings: co2 (monthly Mauna Loa CO2) or '
      + 'seattle (hourly Seattle temperature normals)').choices(['co2', 'seattle']))
    .option('--csv <file>', 'a CSV file with a header line (instead of --dataset)')
    .option('--time-column <name>', "the timestamps' column (ISO dates or date-times); 'none': plain steps", 'auto')
    .option('--target <column>', 'the column to forecast')
    .option('--features <columns>', 'more columns to read as inputs, comma-separated', names, [])
    .addOption(new Option('--fill <method>', 'fill missing or non-numeric cells and missing rows: previous, linear or '
      + 'zero (default: they are errors; co2: linear)').choices([...FILL_METHODS, 'none']))
    .option('--horizon <H>', 'steps to forecast (co2: 12, seattle: 24)', integer(1, 10_000))
    .option('--lookback <L>', 'steps the model reads before forecasting (co2: 36, seattle: 72)', integer(1, 10_000))
    .option('--season <m>', 'seasonal period in steps for seasonal naive, MASE and differencing (default: from the '
      + 'spacing: 12 monthly, 24 hourly, 7 daily)', integer(1, 100_000))
    .addOption(new Option('--difference <kind>', 'what the network reads and predicts: none (levels), first or '
      + 'seasonal changes (default seasonal when the season is > 1)').choices(['none', 'first', 'seasonal']))
    .option('--no-calendar', 'no calendar features (time of day, day of week, month or day of year)')
    .option('--split <train,val>', 'time-ordered split: training and validation fractions; the test part is the rest',
      fractions, [0.7, 0.15])
    .addOption(new Option('--mode <mode>', 'direct: one head outputs all H steps; recursive: a one-step model fed its '
      + 'own predictions').choices(['direct', 'recursive']).default('direct'))
    .addOption(new Option('--cell <cell>', 'recurrent cell').choices(['lstm', 'gru']).default('lstm'))
    .option('--hidden <n>', 'hidden units per layer', integer(1, 4096), 32)
    .option('--layers <n>', 'stacked recurrent layers', integer(1, 16), 1)
    .option('--highway <P>', "a linear map of the target's last P inputs added to the output (LSTNet); 0: none "
      + '(default: the lookback)', integer(0, 10_000))
    .option('--forget-bias <b>', 'LSTM: initial forget-gate bias', real(-100, 100), 1)
    .addOption(new Option('--loss <kind>', 'mse, mae, huber or quantile (prediction intervals, direct mode)')
      .choices(['mse', 'mae', 'huber', 'quantile']).default('mse'))
    .option('--huber-delta <d>', 'Huber: where the loss turns linear, in standard deviations',
      real(0, Infinity, true), 1)
    .option('--quantiles <list>', 'quantile loss: the levels, comma-separated', levels, [0.1, 0.5, 0.9])
    .option('--batch <n>', 'windows per update', integer(1, 100_000), 32);
  return trainingCommand(cmd, task);
}

function describeModel(c: ForecasterConfig): string {
  return `${c.cell.toUpperCase()} ${c.layers}×${c.hidden}${c.highway ? ` + highway ${c.highway}` : ''}`;
}
