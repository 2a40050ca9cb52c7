/**
 * Ctrl-C (SIGINT) and SIGTERM during training (Node): the first asks the run
 * to stop after the update in progress (callbacks then save what it has, and
 * the command exits with code 130); a second one exits at once.
 */
import type { Callback } from '../events.js';

export function stopOnSignals(): Callback<{ stop(reason: string): void }> & { readonly reason: string | null } {
  let reason: string | null = null;
  let trainer: { stop(reason: string): void } | null = null;
  const receive = (signal: string): void => {
    if (reason) process.exit(130); // a second signal: give up at once
    reason = signal;
    trainer?.stop(signal);
  };
  const handlers = { SIGINT: () => receive('SIGINT'), SIGTERM: () => receive('SIGTERM') };
  const release = (): void => {
    for (const [s, h] of Object.entries(handlers)) process.off(s, h);
  };
  return {
    get reason() {
      return reason;
    },
    onStart(t) {
      trainer = t;
      for (const [s, h] of Object.entries(handlers)) process.on(s, h);
    },
    onInterrupt: release,
    onEnd: release,
  };
}
