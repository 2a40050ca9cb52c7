/**
 * What every `bptt train` command does around its task: the resume check, the
 * run folder and its lock, the trainer with its callbacks (progress, --log,
 * --report, checkpoints, signals), and the summary. A command file keeps only
 * its own: flags, data, model, metrics (a `TrainingTask`).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { BpttOptions, Strategy } from '../bptt/index.js';
import type { Module } from '../nn/index.js';
import { ensureWritableDir } from '../io/node/checkpoint-files.js';
import { lockRunFolder, lockRunFolderIfExists } from '../io/node/run-lock.js';
import { Adam, AdamW } from '../optim/index.js';
import { openReport, type ReportFile } from '../report/node/write.js';
import { ConfigError, DataError, expected } from '../tensor/index.js';
import {
  Trainer, type Batches, type Callback, type DataSource, type FitResult, type NamedModel, type TaskCodec,
  type UpdateEngine, type Validation,
} from '../training/index.js';
import { appendLog, jsonLog } from '../training/node/json-log.js';
import { checkpointWriter } from '../training/node/checkpoints.js';
import { loadRun, runStateOf, type LoadedRun } from '../training/node/run-files.js';
import { stopOnSignals } from '../training/node/stop-signals.js';
import { checkSaved, describeStrategy, formatDuration, kebab } from './options.js';
import { reportCallback } from '../report/callbacks.js';
import { progressCallback } from '../report/progress-callback.js';
import { Progress, formatCount } from '../report/progress.js';
import {
  ANEW, addTrainingOptions, budgetOf, describeTraining, scheduleOf, type TrainingDefaults, type TrainingFlags,
} from './training-options.js';
import { VERSION } from './version.js';

/** A task's part of a training run, made by its command from the flags (and the checkpoint it resumes). */
export interface TaskRun<B, C, M extends NamedModel> {
  model: M;
  config: C;
  extra: Record<string, unknown>;
  /** the data trained on, each with its hash (a resumed run must be given the same) */
  data: DataSource[];
  batches: Batches<B>;
  validate: () => Validation;
  /** how the validation score and the loss read, e.g. { score: 'bpc', loss: 'bpc', lossScale: 1 / ln 2 } */
  units: { score: string; loss: string; lossScale?: number; rate: string };
  /** the first lines a run prints */
  header: string;
  /** the recurrent layers the report's gradient-flow diagnostics attach to */
  recurrent: Module[];
  stateful?: boolean;
  engine?: (settings: BpttOptions<B, Record<string, never>>) => Promise<UpdateEngine<B, Record<string, never>>>;
  /** what a validation is expected to cost before one is measured */
  validationItems?: number;
  /** after the run, with the best weights in the model: what it shows unless --quiet; may add to the report */
  finish?: (report: ReportFile | null) => string | null;
  /** the test's cost in validations' worth, which a time budget sets aside */
  testCost?: number;
  /** after the run, with the best weights in the model: its score on held-out data (shown even with --quiet) */
  test?: (deadline: number | null) => { line: string; figures: Record<string, number> } | null;
}

export interface TrainingTask<O extends TrainingFlags, B, C, M extends NamedModel> {
  codec: TaskCodec<C, M>;
  defaults: TrainingDefaults;
  /** flags that name data (named again on --resume, where their files' hashes are checked) */
  dataFlags: readonly string[];
  /** flags that change only what is shown at the end */
  displayFlags?: readonly string[];
  prepare(o: O, resumed: LoadedRun<C, M> | null): TaskRun<B, C, M>;
  /** checks a checkpoint is one this command continues (e.g. g2p, not translate), before anything else */
  checkResumed?(resumed: LoadedRun<C, M>): void;
}

/** A `bptt train` command: its own flags (on `cmd`), the shared training flags, and the run. */
export function trainingCommand<O extends TrainingFlags, B, C, M extends NamedModel>(cmd: Command,
  task: TrainingTask<O, B, C, M>): Command {
  return addTrainingOptions(cmd, task.defaults).action((o: O, c: Command) => runTraining(task, o, c));
}

export async function runTraining<O extends TrainingFlags, B, C, M extends NamedModel>(
  task: TrainingTask<O, B, C, M>, o: O, cmd: Command,
): Promise<void> {
  const notSettings = new Set<string>([...ANEW, ...task.dataFlags, ...(task.displayFlags ?? [])]);
  // Inputs first, then the output: a bad input leaves no folder or file behind.
  if (o.resume) lockRunFolderIfExists(o.out); // before the checkpoint there is read
  const resumed = o.resume ? loadRun(resumePath(o.resume === true ? o.out : o.resume), task.codec) : null;
  const saved = resumed && runStateOf(resumed); // an old checkpoint or one of weights only is refused first
  if (resumed) task.checkResumed?.(resumed);
  if (resumed) takeSaved(cmd, resumed, notSettings);
  if (resumed) checkNamedAgain(`--resume ${resumed.path}`, resumed.meta.data, cmd);
  const run = task.prepare(o, resumed);
  if (resumed) checkSameData(`--resume ${resumed.path}`, resumed.meta.data, run.data, task.dataFlags);
  const settings = settingsOf(cmd, notSettings, o, task.defaults);
  // the report before the run folder: a bad --report path leaves no folder behind
  const report = o.report ? openReport(o.report, `bptt train ${task.codec.task}: ${run.header.split('\n')[0]}`,
    { ...settings, version: VERSION }) : null;
  const log = o.log ? jsonLog(o.log) : null;
  ensureWritableDir(o.out);
  lockRunFolder(o.out);
  const say = (line: string): void => {
    if (!o.quiet) console.log(line);
  };
  say(`bptt ${VERSION}: ${run.header}`);
  const budget = budgetOf(o, task.defaults);
  const optimizer = new (o.weightDecay > 0 ? AdamW : Adam)(run.model.parameters(),
    { lr: o.lr, weightDecay: o.weightDecay, betas: o.betas });
  const signals = stopOnSignals();
  const progress = new Progress({ quiet: !!o.quiet, unit: run.units.score, rateUnit: run.units.rate });
  const writer = checkpointWriter<B, C, M>({
    dir: o.out, codec: task.codec,
    content: { model: run.model, config: run.config, extra: run.extra, data: run.data, settings,
      writtenBy: `bptt ${VERSION}` },
    onSaved: (name) => name === 'last' && report?.write(),
  });
  const callbacks: Array<Callback<Trainer<B>>> = [
    signals,
    progressCallback(progress, run.units),
    ...(log ? [log] : []),
    ...(report ? [reportCallback(report.recorder, run.units)] : []),
    writer,
    {
      onInterrupt: (reason, t) => {
        progress.stop();
        const at = `at update ${t.progress.updates}`;
        console.error(`bptt: ${reason}: saved ${writer.lastPath} ${at}; continue with --resume`);
        process.exitCode = 130;
      },
    },
  ];
  report?.flow.attach(run.recurrent as never);
  const trainer = new Trainer<B>({
    model: run.model as never, data: run.batches, optimizer, schedule: scheduleOf(o), budget, validate: run.validate,
    evalEvery: o.evalEvery === 'auto' ? undefined : o.evalEvery, patience: o.patience, minDelta: o.minDelta,
    clip: o.clip, bptt: o.bptt, stateful: run.stateful ?? false, recorder: report?.flow ?? null,
    engine: run.engine as never, callbacks, startedAt: 0, validationItems: run.validationItems,
    afterwards: run.test ? run.testCost ?? 1 : 0,
  });
  if (saved) {
    try {
      run.batches.setState(saved.state.data); // before any thread starts; restore sets it again
    } catch (e) {
      throw new DataError(`checkpoint '${resumed!.path}': meta.trainer.data: ${(e as Error).message}`);
    }
    await trainer.restore(saved.state as never, saved.bestWeights);
  }
  say(`${describeTraining(o)}; budget ${describeBudget(budget)}`
    + (resumed ? `; resuming at update ${resumed.meta.trainer?.progress.updates}` : ''));
  const result = await trainer.fit();
  progress.stop();
  if (result.stoppedBy !== 'stopped') summarize(run, result, trainer.deadline, o, report);
}

/** After the run, the best weights in the model: the summary, what the task shows, its test score, the report. */
function summarize<B, C, M extends NamedModel>(run: TaskRun<B, C, M>, result: FitResult, deadline: number | null,
  o: TrainingFlags, report: ReportFile | null): void {
  const best = result.best ? `${result.best.score.toFixed(3)} ${run.units.score} at update ${result.best.update}` : '-';
  const why = result.stoppedBy === 'patience' ? ` (early stop: ${o.patience} validations without improvement)` : '';
  console.log(`done: ${result.updates} updates, ${formatCount(result.items)} ${run.units.rate.replace('/s', '')} `
    + `in ${formatDuration(result.elapsedMs / 1000)}${why}; best validation ${best}; checkpoints in ${o.out}`);
  const shown = run.finish?.(report) ?? null;
  if (shown && !o.quiet) console.log(shown);
  const test = run.test?.(deadline);
  if (test) {
    console.log(test.line);
    appendLog(o.log, { type: 'test', ...test.figures });
  }
  if (report) {
    report.recorder.final({ score: { label: `best validation ${run.units.score}`, value: result.best?.score ?? NaN },
      details: { updates: result.updates, 'stopped by': result.stoppedBy, ...test?.figures } });
    if (shown) report.recorder.sample({ title: 'the best model', text: shown.trim() });
    report.write();
  }
}

/** --resume's checkpoint: the one named, or last.json in a folder named (as loadRun would take its best.json). */
function resumePath(path: string): string {
  try {
    if (statSync(path).isDirectory()) return join(path, 'last.json');
  } catch {
    // loadRun names what is wrong with it
  }
  return path;
}

/** Flags a resumed run may give anew that it otherwise takes from the checkpoint. */
const INHERITED = ['steps', 'epochs', 'time', 'evalEvery', 'patience', 'minDelta'];

/** A resumed run's settings: given flags must repeat the saved value; flags not given take it. */
function takeSaved<C, M extends NamedModel>(cmd: Command, run: LoadedRun<C, M>, notSettings: Set<string>): void {
  const where = `--resume ${run.path}`;
  const saved = run.meta.settings;
  const given = (k: string): boolean => cmd.getOptionValueSource(k) === 'cli';
  const budgetGiven = ['steps', 'epochs', 'time'].some(given);
  for (const [key, value] of Object.entries(saved)) {
    if (notSettings.has(key) && !INHERITED.includes(key)) continue;
    if (!cmd.options.some((opt) => opt.attributeName() === key)) continue;
    if (value === null) { // an option not given (or not part of the saved budget)
      if (given(key) && !notSettings.has(key)) {
        throw new ConfigError(expected(where, `no --${kebab(key)}, as saved`,
          `--${kebab(key)} ${text(cmd.getOptionValue(key))}`));
      }
      continue;
    }
    checkSaved(cmd, key, value, `checkpoint '${run.path}'`, `settings.${key}`);
    if (given(key)) {
      if (!notSettings.has(key) && JSON.stringify(cmd.getOptionValue(key)) !== JSON.stringify(value)) {
        throw new ConfigError(expected(where, `--${kebab(key)} ${text(value)} as saved, or no --${kebab(key)}`,
          `--${kebab(key)} ${text(cmd.getOptionValue(key))}`));
      }
    } else if (!(budgetGiven && ['steps', 'epochs', 'time'].includes(key))) {
      cmd.setOptionValueWithSource(key, value ?? undefined, 'env');
    }
  }
}

/** Every flag's value but those that only say where output goes or what is shown, as the checkpoint keeps them. */
function settingsOf(cmd: Command, notSettings: Set<string>, o: TrainingFlags, d: TrainingDefaults):
  Record<string, unknown> {
  const keep = (k: string): boolean => !notSettings.has(k) || ['evalEvery', 'patience', 'minDelta'].includes(k);
  const settings = Object.fromEntries(cmd.options.map((opt) => opt.attributeName()).filter(keep)
    .map((k) => [k, cmd.getOptionValue(k) ?? null]));
  const b = budgetOf(o, d);
  return { ...settings, steps: b.steps ?? null, epochs: b.epochs ?? null, time: b.time ?? null };
}

/** Each data file a resumed run trained on is named again, before any is read. */
function checkNamedAgain(where: string, saved: DataSource[], cmd: Command): void {
  const named = cmd.options.filter((x) => cmd.getOptionValue(x.attributeName()) !== undefined).map((x) => x.long);
  const s = saved.find((x) => x.role.startsWith('--') && !named.includes(x.role));
  if (s) throw notGiven(where, s);
}

/** The data given again must be what the run trained on: the same sources, with the same hashes. */
function checkSameData(where: string, saved: DataSource[], now: DataSource[], flags: readonly string[]): void {
  for (const s of saved) {
    const n = now.find((x) => x.role === s.role);
    if (!n) throw notGiven(where, s);
    if (n.sha256 !== s.sha256) {
      throw new DataError(expected(where, `${s.role} ${s.name} (sha256 ${s.sha256.slice(0, 16)}), the data it was `
        + 'trained on', `${n.name} (sha256 ${n.sha256.slice(0, 16)})`));
    }
  }
  const extra = now.find((n) => !saved.some((s) => s.role === n.role)
    && flags.map(kebab).includes(n.role.replace(/^--/, '')));
  if (extra) throw new ConfigError(expected(where, `no ${extra.role}, as saved`, `${extra.role} ${extra.name}`));
}

function notGiven(where: string, s: DataSource): ConfigError {
  const why = s.role.startsWith('--') ? 'bptt does not read files named inside a checkpoint' : undefined;
  return new ConfigError(expected(where, `${s.role} ${s.name} (sha256 ${s.sha256.slice(0, 16)}) as trained on`,
    `no ${s.role}`, why));
}

function text(v: unknown): string {
  if (v === null || v === undefined) return '(unset)';
  if (typeof v === 'object' && 'kind' in v) return describeStrategy(v as Strategy);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function describeBudget(b: { steps?: number | null; epochs?: number | null; time?: number | null }): string {
  return [b.steps && `${b.steps} updates`, b.epochs && `${b.epochs} epochs`, b.time && formatDuration(b.time)]
    .filter(Boolean).join(' or ');
}
