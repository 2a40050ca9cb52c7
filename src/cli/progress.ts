/**
 * The live progress line of `bptt train`: a bar redrawn in place on a
 * terminal (cli-progress), plain lines every `plainEvery` seconds otherwise
 * (logs, CI), nothing in quiet mode. Notes (validation, checkpoints) print
 * above the bar.
 */
import cliProgress from 'cli-progress';
import { formatDuration } from './options.js';

export interface ProgressFields {
  step: number;
  epoch: number;
  loss: number;
  /** validation bits per token (bpc for characters), or null before the first validation */
  val: number | null;
  tokensPerSecond: number;
  gradNorm: number;
  lr: number;
  /** fraction of the budget spent, in [0, 1] */
  done: number;
  elapsedSeconds: number;
}

export class Progress {
  private readonly multi: cliProgress.MultiBar | null = null;
  private readonly bar: cliProgress.SingleBar | null = null;
  private lastPlain = -Infinity;

  /** `unit`: of the validation figure; `rateUnit`: what tokensPerSecond counts (windows' values for a forecaster) */
  constructor(private readonly mode: 'tty' | 'plain' | 'quiet', private readonly unit: string, private readonly plainEvery = 30, private readonly rateUnit = 'tok/s') {
    if (mode === 'tty') {
      this.multi = new cliProgress.MultiBar({
        format: `{bar} {pct}% | step {step} | epoch {epoch} | loss {loss} | val {val} {unit} | {tps} ${rateUnit} | |g| {gnorm} | lr {lr} | ETA {eta}`,
        barsize: 16, hideCursor: true, clearOnComplete: false, stream: process.stderr, fps: 5,
      }, cliProgress.Presets.shades_classic);
      this.bar = this.multi.create(1000, 0, this.payload(null));
    }
  }

  update(f: ProgressFields): void {
    if (this.bar) {
      this.bar.update(Math.round(f.done * 1000), this.payload(f));
    } else if (this.mode === 'plain' && f.elapsedSeconds - this.lastPlain >= this.plainEvery) {
      this.lastPlain = f.elapsedSeconds;
      const p = this.payload(f);
      process.stderr.write(`${p.pct}% step ${p.step} | epoch ${p.epoch} | loss ${p.loss} | val ${p.val} ${this.unit} | ${p.tps} ${this.rateUnit} | |g| ${p.gnorm} | lr ${p.lr} | ETA ${p.eta}\n`);
    }
  }

  /** A line of its own (above the bar on a terminal). */
  note(line: string): void {
    if (this.mode === 'quiet') return;
    if (this.multi) this.multi.log(line.endsWith('\n') ? line : `${line}\n`);
    else process.stderr.write(`${line}\n`);
  }

  stop(): void {
    this.multi?.stop();
  }

  private payload(f: ProgressFields | null): Record<string, string> {
    const eta = f && f.done > 0 ? formatDuration((f.elapsedSeconds * (1 - f.done)) / f.done) : '?';
    return {
      pct: f ? (100 * f.done).toFixed(1) : '0.0',
      step: f ? String(f.step) : '0',
      epoch: f ? f.epoch.toFixed(2) : '0.00',
      loss: f && Number.isFinite(f.loss) ? f.loss.toFixed(3) : '-',
      val: f?.val != null ? f.val.toFixed(3) : '-',
      unit: this.unit,
      tps: f ? formatCount(f.tokensPerSecond) : '-',
      gnorm: f && Number.isFinite(f.gradNorm) ? f.gradNorm.toFixed(2) : '-',
      lr: f ? f.lr.toExponential(1) : '-',
      eta,
    };
  }
}

export function formatCount(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(0)}k` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
}

/** Items per second of training, measured over windows of at least 2 s from a running count. */
export class RateMeter {
  value = 0;
  private at = performance.now();

  constructor(private count = 0) {}

  /** The running count now; returns the latest rate. */
  update(count: number): number {
    const now = performance.now();
    if (now - this.at > 2000) {
      this.value = ((count - this.count) * 1000) / (now - this.at);
      this.at = now;
      this.count = count;
    }
    return this.value;
  }

  /** Starts a new window at `count` after work that is not training (validation, checkpoints). */
  restart(count: number): void {
    this.at = performance.now();
    this.count = count;
  }
}
