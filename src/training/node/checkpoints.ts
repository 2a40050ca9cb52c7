/**
 * A runner callback that keeps a run folder in the run format (Node): at each
 * validation best.json (when it is the best) then last.json, and last.json when
 * the run is stopped (a signal), so `--resume` continues from where it was.
 * Best first: killed between the two, last.json is the earlier run, which
 * reaches and saves this best again.
 */
import type { Callback } from '../events.js';
import type { NamedModel, TaskCodec } from '../run-format.js';
import type { Trainer } from '../runner.js';
import { saveRun, type RunContent } from './run-files.js';

export interface CheckpointOptions<C, M extends NamedModel> {
  dir: string;
  codec: TaskCodec<C, M>;
  /** what the manifest holds besides the trainer's state and best weights */
  content: Omit<RunContent<C, M>, 'state' | 'bestWeights'>;
  /** after each save (e.g. to log it, or to write a report beside it) */
  onSaved?: (name: 'best' | 'last', path: string, update: number) => void;
}

export function checkpointWriter<B, C, M extends NamedModel>(o: CheckpointOptions<C, M>):
  Callback<Trainer<B>> & { readonly lastPath: string | null } {
  let lastPath: string | null = null;
  const save = async (t: Trainer<B>, names: Array<'best' | 'last'>): Promise<void> => {
    const state = await t.snapshot();
    for (const name of names) {
      const path = saveRun(o.dir, name, o.codec, { ...o.content, state: state as never, bestWeights: t.best?.weights });
      if (name === 'last') lastPath = path;
      o.onSaved?.(name, path, t.progress.updates);
    }
  };
  return {
    get lastPath() {
      return lastPath;
    },
    onValidation: (v, t) => save(t, v.best ? ['best', 'last'] : ['last']),
    onInterrupt: (_reason, t) => save(t, ['last']),
  };
}
