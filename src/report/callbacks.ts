/** Runner callbacks that show a run: the HTML report's charts, and (Node) the progress line. */
import type { Callback } from '../training/index.js';
import type { ReportRecorder } from './recorder.js';

/** How a run's figures read: the validation score's unit, the loss's, and the factor from the loss as trained. */
export interface RunUnits {
  score: string;
  loss: string;
  lossScale?: number;
}

/** Records the loss, learning rate, gradient norm and clipping of every update, and every validation. */
export function reportCallback(recorder: ReportRecorder, units: RunUnits): Callback {
  const scale = units.lossScale ?? 1;
  recorder.chart('loss', { unit: units.loss });
  return {
    onUpdate: (e) => {
      recorder.step(e.update, { loss: e.loss * scale, lr: e.lr, gradNorm: e.gradNorm, clipped: e.clipped });
    },
    onValidation: (v) => {
      recorder.validation(v.update, { [units.score]: v.score, ...v.metrics });
    },
  };
}
