/**
 * Items per second of training (tokens, values, utterances), right from the
 * first update: the items counted over the training time so far, then over a
 * sliding window of the last `windowSeconds` of training. Time spent on
 * anything else (validation, checkpoints) is left out by restart().
 * Browser-safe.
 */
export interface RateMeterOptions {
  /** the running count at the start (a resumed run's), default 0 */
  count?: number;
  /** the window of training time the rate is measured over, once training has lasted that long (default 10) */
  windowSeconds?: number;
  /** the clock, in milliseconds (default performance.now) */
  now?: () => number;
}

/** Samples kept per window: the window slides in steps of windowSeconds / SAMPLES. */
const SAMPLES = 20;

export class RateMeter {
  /** items per second at the last update (0 before it) */
  value = 0;
  private readonly now: () => number;
  private readonly windowMs: number;
  /** (training milliseconds, running count) every windowMs / SAMPLES, oldest first; the first starts the window */
  private readonly samples: Array<{ t: number; count: number }>;
  /** clock time less the time left out: training time is now() - origin */
  private origin: number;
  /** the clock at the last update (or the start) */
  private lastAt: number;

  constructor(options: RateMeterOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.windowMs = 1000 * (options.windowSeconds ?? 10);
    this.origin = this.lastAt = this.now();
    this.samples = [{ t: 0, count: options.count ?? 0 }];
  }

  /** The running count now (after an update); returns the rate. */
  update(count: number): number {
    this.lastAt = this.now();
    const t = this.lastAt - this.origin;
    if (t - this.samples[this.samples.length - 1]!.t >= this.windowMs / SAMPLES) this.samples.push({ t, count });
    // the window starts at the newest sample at least windowMs old (at the start while training is shorter)
    while (this.samples.length > 1 && t - this.samples[1]!.t >= this.windowMs) this.samples.shift();
    const start = this.samples[0]!;
    if (t > start.t) this.value = (1000 * (count - start.count)) / (t - start.t);
    return this.value;
  }

  /** Leaves out the time since the last update (or the start): call it after validating or saving. */
  restart(): void {
    const at = this.now();
    this.origin += at - this.lastAt;
    this.lastAt = at;
  }
}
