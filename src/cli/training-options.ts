/**
 * The training flags every `bptt train` command shares: one definition each,
 * with the same name, help text and validation everywhere. A task may give
 * its own default for the learning rate, warm-up, clipping, output folder and
 * budget (a forecaster and a language model do not want the same step size).
 */
import { availableParallelism } from 'node:os';
import { Option, type Command } from 'commander';
import type { Strategy } from '../bptt/index.js';
import type { Schedule } from '../optim/index.js';
import type { Budget } from '../training/index.js';
import { betas, duration, integer, real, realOrNone, strategy, describeStrategy } from './options.js';
import { InvalidArgumentError } from 'commander';

export const DEFAULT_BETAS: readonly [number, number] = [0.9, 0.99];

export interface TrainingDefaults {
  lr: number;
  warmup: number;
  clip: number | null;
  out: string;
  /** the budget when no --steps, --epochs or --time is given */
  budget: Budget;
}

/** The shared flags as commander parses them. */
export interface TrainingFlags {
  lr: number;
  betas: [number, number];
  weightDecay: number;
  schedule: Schedule['kind'];
  warmup: number;
  clip: number | null;
  workers: number;
  time?: number;
  steps?: number;
  epochs?: number;
  evalEvery: number | { epochs: number } | 'auto';
  patience: number | null;
  minDelta: number;
  bptt: Strategy;
  seed: number;
  out: string;
  resume?: string | true;
  log?: string;
  report?: string;
  quiet?: boolean;
}

/** Flags a resumed run may give anew: what it does next, not what it is. */
export const ANEW = ['time', 'steps', 'epochs', 'evalEvery', 'patience', 'minDelta', 'out', 'resume', 'log', 'report',
  'quiet'] as const;

/** '2000' (updates) or '0.5e' (a share of an epoch), or 'auto'. */
export function cadence(v: string): number | { epochs: number } | 'auto' {
  const s = v.trim();
  if (s === 'auto') return 'auto';
  const e = /^(\d+(?:\.\d+)?)e$/.exec(s);
  if (e && Number(e[1]) > 0) return { epochs: Number(e[1]) };
  if (/^\d+$/.test(s) && Number(s) >= 1) return Number(s);
  throw new InvalidArgumentError('expected a number of updates (e.g. 500), a share of an epoch (e.g. 0.5e) or auto');
}

function patience(v: string): number | null {
  return /^(none|off)$/i.test(v.trim()) ? null : integer(1)(v);
}

export function addTrainingOptions(cmd: Command, d: TrainingDefaults): Command {
  const budget = [d.budget.steps && `${d.budget.steps} steps`, d.budget.epochs && `${d.budget.epochs} epochs`,
    d.budget.time && `${d.budget.time}s`].filter(Boolean).join(', ');
  return cmd
    .option('--lr <rate>', 'peak learning rate (Adam)', real(0, 10, true), d.lr)
    .addOption(new Option('--betas <b1,b2>', "Adam's decay rates of the gradient's mean and square")
      .argParser(betas).default([...DEFAULT_BETAS], DEFAULT_BETAS.join(',')))
    .option('--weight-decay <w>', 'decoupled weight decay (AdamW)', real(0), 0)
    .addOption(new Option('--schedule <kind>', 'learning rate after warm-up: cosine decay to 0 over the budget, '
      + 'or constant').choices(['cosine', 'constant']).default('cosine'))
    .option('--warmup <updates>', 'linear learning-rate warm-up', integer(0), d.warmup)
    .option('--clip <norm>', "clip the global gradient norm ('none' to turn off)", realOrNone(0), d.clip)
    .option('--workers <n>', 'worker threads besides the main one (data-parallel over the batch)', integer(0, 64),
      Math.max(0, availableParallelism() - 1))
    .option('--time <duration>', 'wall time of the whole run, start-up and the final save included, e.g. 90s, 10m',
      duration)
    .option('--steps <n>', 'stop after n updates', integer(1))
    .option('--epochs <n>', 'stop after n passes over the training data (may be fractional)', real(0, Infinity, true))
    .addHelpText('after', `\nBudget: whichever of --steps, --epochs, --time comes first (default ${budget}).`)
    .option('--eval-every <n|Xe>', 'validate and save every n updates or every X epochs (e.g. 0.5e); auto: once an '
      + 'epoch, at least 10 times over --steps', cadence, 'auto')
    .option('--patience <n>', "stop after n validations without improvement ('none': never)", patience, null)
    .option('--min-delta <d>', 'the improvement --patience counts (in the validation score)', real(0), 0)
    .addOption(new Option('--bptt <strategy>', 'how the error goes back through time: full, truncated:K1[:K2] or '
      + 'checkpointed[:SEGMENT]').argParser(strategy).default({ kind: 'full' }, 'full'))
    .option('--seed <n>', 'seed of the initialisation, data order and dropout', integer(0, 2 ** 32 - 1), 1)
    .option('--out <dir>', 'run folder (best.json, last.json and their .safetensors)', d.out)
    .option('--resume [checkpoint]', 'continue a run (default: --out/last.json) with its model and settings; name '
      + 'its data files again (bptt reads no file a checkpoint names)')
    .option('--log <file>', 'append one JSON object per update, validation, end of the run and test score to this file')
    .option('--report <file>', 'write an HTML report (loss, learning rate, gradient flow) at each validation and '
      + 'at the end')
    .option('-q, --quiet', 'no progress line; only the final summary');
}

/** The budget the flags give, or the task's default when none is given. */
export function budgetOf(o: TrainingFlags, d: TrainingDefaults): Budget {
  const given = o.steps !== undefined || o.epochs !== undefined || o.time !== undefined;
  return given ? { steps: o.steps ?? null, epochs: o.epochs ?? null, time: o.time ?? null } : d.budget;
}

/** The schedule the flags give. */
export function scheduleOf(o: TrainingFlags): Schedule {
  return { kind: o.schedule, lr: o.lr, warmup: o.warmup, floor: 0 };
}

/** The optimiser settings line of a run's header. */
export function describeTraining(o: TrainingFlags): string {
  return `${describeStrategy(o.bptt)} BPTT, Adam${o.weightDecay ? 'W' : ''} lr ${o.lr} (${o.schedule}, betas `
    + `${o.betas.join(', ')}), clip ${o.clip ?? 'none'}`;
}
