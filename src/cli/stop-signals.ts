/**
 * Ctrl-C (SIGINT) and SIGTERM during training: the first asks the training
 * loop to stop after the update in progress (the command then saves what it
 * has and exits with code 130); a second one exits at once.
 */
export class StopSignals {
  /** the signal that asked to stop, or null */
  reason: string | null = null;
  private readonly handlers = { SIGINT: () => this.receive('SIGINT'), SIGTERM: () => this.receive('SIGTERM') };

  constructor() {
    for (const [s, h] of Object.entries(this.handlers)) process.on(s, h);
  }

  /** Back to Node's default handling (call when the loop is over). */
  release(): void {
    for (const [s, h] of Object.entries(this.handlers)) process.off(s, h);
  }

  private receive(signal: string): void {
    if (this.reason) process.exit(130); // a second signal: give up at once
    this.reason = signal;
  }
}
