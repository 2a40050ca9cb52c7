/** `bptt forecast`: the next H values after the end of a CSV, from a trained forecaster, written as CSV. */
import { Command, Option } from 'commander';
import { writeFileSafe } from '../io/node/safe-files.js';
import { FILL_METHODS, formatTimestamp, type FillMethod } from '../data/index.js';
import { checkForecastExtra, forecastCodec } from '../tasks/forecast/codec.js';
import { forecastAfterEnd } from '../tasks/forecast/predict.js';
import { DATASETS, loadSource } from '../tasks/forecast/node/source.js';
import { ConfigError, expected } from '../tensor/index.js';
import { loadRun } from '../training/node/run-files.js';

interface ForecastOptions {
  checkpoint: string;
  csv?: string;
  dataset?: 'co2' | 'seattle';
  fill?: FillMethod | 'none';
  out?: string;
}

export function forecastCommand(): Command {
  return new Command('forecast')
    .description('forecast the steps after the end of a CSV with a trained forecaster; writes CSV (time, forecast, '
      + 'quantiles)')
    .requiredOption('--checkpoint <path>', 'a checkpoint manifest (.json) or a training --out directory '
      + '(its best.json)')
    .option('--csv <file>', "the series to continue, with the model's columns (default: the data it was trained on)")
    .addOption(new Option('--dataset <name>', 'continue a bundled dataset instead').choices(Object.keys(DATASETS)))
    .addOption(new Option('--fill <method>', 'fill missing values this way (default: as in training)')
      .choices([...FILL_METHODS, 'none']))
    .option('--out <file>', 'write the CSV here (default: standard output)')
    .action((o: ForecastOptions) => forecast(o));
}

function forecast(o: ForecastOptions): void {
  if (o.csv && o.dataset) {
    throw new ConfigError(expected('bptt forecast', 'at most one of --csv and --dataset', 'both'));
  }
  const { model, meta, path } = loadRun(o.checkpoint, forecastCodec);
  const extra = checkForecastExtra(`checkpoint '${path}'`, meta.model, meta.extra);
  const d = extra.data;
  // by default, the data it was trained on
  const trainedOn = meta.data.find((x) => x.role === '--csv' || x.role === 'bundled');
  const csv = o.csv ?? (o.dataset || trainedOn?.role !== '--csv' ? null : trainedOn.name);
  const dataset = o.dataset ?? (csv ? null : (trainedOn?.name as 'co2' | 'seattle' | undefined) ?? null);
  const fill = o.fill === 'none' ? null : o.fill ?? d.fill;
  const source = loadSource({ csv, dataset, timeColumn: d.time ?? 'none', target: d.target, features: d.features,
    fill });
  if (source.problems.length) {
    console.error(`bptt forecast: filled ${source.problems.length} place(s) with missing values or rows `
      + `(--fill ${fill})`);
  }
  const where = csv ? `CSV '${csv}'` : `dataset ${dataset}`;
  const f = forecastAfterEnd(model, extra, source.series, where);
  const quantileNames = (f.levels ?? []).map((q) => `${d.target}_q${+(q * 100).toFixed(4)}`);
  const header = [d.time ?? 'step', d.target, ...quantileNames];
  const rows = f.point.map((p, h) => [
    f.times[h] !== null ? formatTimestamp(f.times[h]!, source.series.style!) : String(h + 1),
    String(+p.toPrecision(8)),
    ...(f.quantiles ? f.quantiles[h]!.map((q) => String(+q.toPrecision(8))) : []),
  ]);
  const text = [header, ...rows].map((r) => r.map(csvField).join(',')).join('\n') + '\n';
  if (!o.out) {
    process.stdout.write(text);
    return;
  }
  writeFileSafe(o.out, text); // written whole or not at all
  console.error(`bptt forecast: ${rows.length} steps after ${where} from ${path} written to ${o.out}`);
}

/** A CSV field, quoted when it holds a comma, a quote or a line break. */
function csvField(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
