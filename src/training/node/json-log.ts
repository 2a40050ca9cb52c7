/** The --log file (Node): one JSON object a line per update, validation, interruption and end of a run. */
import { appendFileSafe } from '../../io/node/safe-files.js';
import { DataError, expected } from '../../tensor/index.js';
import type { Callback } from '../events.js';

/** Fails early, before any training, when the log cannot be appended to (the file is created empty if missing). */
export function ensureWritableLog(path: string): void {
  try {
    appendFileSafe(path, '');
  } catch (e) {
    throw new DataError(expected(`--log '${path}'`, 'a regular file this process can append to', (e as Error).message));
  }
}

/** Appends one JSON line to the log, if there is one. */
export function appendLog(path: string | undefined, record: object): void {
  if (path) appendFileSafe(path, JSON.stringify(record) + '\n');
}

/** A callback that logs every event of a run to `path`. */
export function jsonLog(path: string): Callback {
  ensureWritableLog(path);
  const log = (record: object): void => appendLog(path, record);
  return {
    onUpdate: (e) => log({
      type: 'update', update: e.update, epoch: e.epoch, loss: e.loss, gradNorm: e.gradNorm, clipped: e.clipped,
      lr: e.lr, progress: e.progress, items: e.items, trainMs: Math.round(e.trainMs),
      elapsedMs: Math.round(e.elapsedMs), skipped: e.skipped,
    }),
    onValidation: (v) => log({ type: 'validation', update: v.update, epoch: v.epoch, score: v.score, ...v.metrics,
      best: v.best, sinceBest: v.sinceBest, final: v.final }),
    onInterrupt: (reason) => log({ type: 'interrupted', reason }),
    onEnd: (r) => log({ type: 'done', updates: r.updates, epoch: r.epoch, stoppedBy: r.stoppedBy, items: r.items,
      trainMs: Math.round(r.trainMs), elapsedMs: Math.round(r.elapsedMs), best: r.best?.score ?? null,
      bestUpdate: r.best?.update ?? null }),
  };
}
