/** A training budget: a number of updates or of seconds, whichever runs out first (at least one is set). */
export interface Budget {
  maxUpdates: number | null;
  maxSeconds: number | null;
}

/** Counts a trainer's updates and time against its budget. */
export abstract class Budgeted {
  private started = performance.now();
  updates = 0;

  protected constructor(private readonly budget: Budget) {}

  /** Continues the count of a run saved after `updates` updates and `elapsedMs` of training (--resume). */
  protected continueFrom(updates: number, elapsedMs: number): void {
    this.updates = updates;
    this.started = performance.now() - elapsedMs;
  }

  get elapsedMs(): number {
    return performance.now() - this.started;
  }

  /** The fraction of the budget spent. */
  get done(): number {
    const { maxUpdates, maxSeconds } = this.budget;
    return Math.max(maxUpdates ? this.updates / maxUpdates : 0, maxSeconds ? this.elapsedMs / 1000 / maxSeconds : 0);
  }

  get finished(): boolean {
    return this.done >= 1;
  }
}

/** What one training update reports (each task adds its own counts). */
export interface UpdateStats {
  updates: number;
  epoch: number;
  /** the batch's mean loss per target, in the task's units */
  loss: number;
  gradNorm: number;
  clipped: boolean;
  skipped: string | null;
  lr: number;
  elapsedMs: number;
}
