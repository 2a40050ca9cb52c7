/**
 * The progress API the training commands call today, on the one in
 * src/report/progress.ts and rate-meter.ts. It goes when the commands move
 * onto the runner, which calls those directly.
 */
import { Progress as ProgressLine } from '../report/progress.js';
import { RateMeter as Meter } from '../report/rate-meter.js';

export { formatCount } from '../report/progress.js';

export interface ProgressFields {
  step: number;
  epoch: number;
  loss: number;
  val: number | null;
  tokensPerSecond: number;
  gradNorm: number;
  lr: number;
  done: number;
  elapsedSeconds: number;
}

export class Progress {
  private readonly line: ProgressLine;

  /** `mode`: 'tty' and 'plain' follow process.stderr.isTTY, as the callers' choice does */
  constructor(mode: 'tty' | 'plain' | 'quiet', unit: string, plainEvery = 30, rateUnit = 'tok/s') {
    this.line = new ProgressLine({ quiet: mode === 'quiet', unit, rateUnit, plainEvery });
  }

  update(f: ProgressFields): void {
    const etaSeconds = f.done > 0 ? (f.elapsedSeconds * (1 - f.done)) / f.done : null;
    this.line.update({ ...f, rate: f.tokensPerSecond, etaSeconds });
  }

  note(line: string): void {
    this.line.note(line);
  }

  stop(): void {
    this.line.stop();
  }
}

export class RateMeter extends Meter {
  constructor(count = 0) {
    super({ count });
  }

  /** The count does not change while validating: only the time is left out. */
  override restart(_count?: number): void {
    super.restart();
  }
}
