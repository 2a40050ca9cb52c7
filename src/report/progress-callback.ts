/** The progress line as a runner callback (it draws on a stream: Node). */
import type { Callback } from '../training/index.js';
import type { RunUnits } from './callbacks.js';
import type { Progress } from './progress.js';
import { RateMeter } from './rate-meter.js';

/** Redraws `progress` after every update (the rate leaves validations out); a note per validation. */
export function progressCallback(progress: Progress, units: RunUnits): Callback<{ progress: { items: number } }> {
  let val: number | null = null;
  let rate = new RateMeter();
  const scale = units.lossScale ?? 1;
  return {
    onStart: (t) => {
      rate = new RateMeter({ count: t.progress.items });
    },
    onUpdate: (e) => {
      if (e.skipped) progress.note(`skipped: ${e.skipped}`);
      rate.update(e.items);
      progress.update({
        step: e.update, epoch: e.epoch, loss: e.loss * scale, val, rate: rate.value, gradNorm: e.gradNorm, lr: e.lr,
        done: e.progress, etaSeconds: Number.isFinite(e.etaSeconds) ? e.etaSeconds : null,
      });
    },
    onValidation: (v) => {
      rate.restart(); // the rate is of training, not validation
      val = v.score;
      const more = Object.entries(v.metrics).map(([k, x]) => `, ${k} ${x.toFixed(3)}`).join('');
      progress.note(`update ${v.update} (epoch ${v.epoch.toFixed(2)}): validation ${v.score.toFixed(3)} `
        + `${units.score}${more}${v.best ? ' (best)' : ''}`);
    },
  };
}
