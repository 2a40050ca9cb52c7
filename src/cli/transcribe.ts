/** `bptt transcribe`: the digits spoken in WAV files, one line per file (path<TAB>digits), from a trained speech checkpoint. */
import { Command } from 'commander';
import { speechCodec } from '../tasks/speech/codec.js';
import { loadWav } from '../tasks/speech/node/corpus.js';
import { transcribe } from '../tasks/speech/decode.js';
import { loadRun } from '../training/node/run-files.js';
import { integer } from './options.js';

interface TranscribeOptions {
  checkpoint: string;
  beam: number;
}

export function transcribeCommand(): Command {
  return new Command('transcribe')
    .description('print the digits spoken in each WAV file (path<TAB>digits, one line per file) with a trained speech model')
    .argument('<wav...>',
      'WAV files (PCM or float, rates from 1 kHz, any channels: mixed to mono, resampled to 16 kHz)')
    .requiredOption('--checkpoint <path>', 'a checkpoint manifest (.json) or a bptt train speech --out directory (its best.json)')
    .option('--beam <n>', 'prefix beam search with this many prefixes; 1 is greedy (best path) decoding', integer(1, 256), 1)
    .action((files: string[], o: TranscribeOptions) => run(files, o));
}

function run(files: string[], o: TranscribeOptions): void {
  const { model } = loadRun(o.checkpoint, speechCodec);
  // Every file is read and checked before anything is printed: a bad one fails the command with no partial output.
  const inputs = files.map((f) => loadWav(f, model.config.features));
  const digits = transcribe(model, inputs, { beam: o.beam });
  process.stdout.write(files.map((f, i) => `${f}\t${digits[i]!.join('')}\n`).join(''));
}
