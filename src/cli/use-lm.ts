/** `bptt sample` and `bptt eval`: using a trained language model. */
import { Command, Option } from 'commander';
import { mobyDick, readTextFile } from '../data/node/text-files.js';
import { loadLanguageModel } from '../tasks/language-model/node/checkpoint.js';
import { scoreTokens } from '../tasks/language-model/evaluate.js';
import { beamText, primeIds, sampleText } from '../tasks/language-model/generate.js';
import { ConfigError, expected } from '../tensor/index.js';
import { integer, real } from './options.js';

interface SampleOptions {
  checkpoint: string;
  prime: string;
  length: number;
  temperature: number;
  topK: number;
  topP: number;
  beam?: number;
  seed: number;
}

export function sampleCommand(): Command {
  return new Command('sample')
    .description('generate text from a trained language model, streamed as it is drawn')
    .requiredOption('--checkpoint <path>', 'a checkpoint manifest (.json) or a training --out directory (its best.json)')
    .option('--prime <text>', 'text to continue (default: a blank line)', '')
    .option('--length <n>', 'tokens (characters or words) to generate', integer(1, 1_000_000), 500)
    .option('--temperature <t>', 'divide the logits by t; 0 picks the most likely token', real(0), 0.8)
    .option('--top-k <k>', 'draw only among the k most likely tokens (0: all)', integer(0), 0)
    .option('--top-p <p>', 'draw only from the smallest set of tokens whose probability reaches p', real(0, 1, true), 1)
    .addOption(new Option('--beam <width>', 'instead of sampling, the most likely continuation found by a beam of this width (printed at the end)').argParser(integer(1, 1000)))
    .option('--seed <n>', 'seed of the draws', integer(0, 2 ** 32 - 1), 1)
    .action((o: SampleOptions) => sample(o));
}

function sample(o: SampleOptions): void {
  if (o.beam !== undefined && (o.topK !== 0 || o.topP !== 1)) {
    throw new ConfigError(expected('bptt sample', '--beam without --top-k / --top-p (a beam does not sample)', `--beam ${o.beam} with sampling options`));
  }
  const { model, vocabulary } = loadLanguageModel(o.checkpoint);
  const prime = primeIds(vocabulary, o.prime);
  if (prime.unknown) console.error(`bptt sample: ${prime.unknown} token(s) of --prime are not in the model's vocabulary and read as <unk>`);
  process.stdout.write(o.prime);
  if (o.beam !== undefined) {
    process.stdout.write(beamText(model, vocabulary, { prime: o.prime, length: o.length, width: o.beam }).text + '\n');
    return;
  }
  for (const piece of sampleText(model, vocabulary, { prime: o.prime, length: o.length, temperature: o.temperature, topK: o.topK, topP: o.topP, seed: o.seed })) {
    process.stdout.write(piece);
  }
  process.stdout.write('\n');
}

export function evalCommand(): Command {
  return new Command('eval')
    .description('score a text with a trained language model: bits per character (or per word) and perplexity')
    .requiredOption('--checkpoint <path>', 'a checkpoint manifest (.json) or a training --out directory (its best.json)')
    .option('--text <file>', 'UTF-8 text to score (default: Moby Dick)')
    .option('--batch <n>', 'streams scored side by side (each carries its state through its part of the text)', integer(1), 32)
    .option('--json', 'print the result as JSON')
    .action((o: { checkpoint: string; text?: string; batch: number; json?: boolean }) => {
      const { model, vocabulary } = loadLanguageModel(o.checkpoint);
      const text = o.text ? readTextFile(o.text) : mobyDick();
      const { ids, unknown } = vocabulary.encode(text);
      if (ids.length < 2) throw new ConfigError(expected(`--text ${o.text}`, 'at least two tokens to score', ids.length));
      const s = scoreTokens(model, ids, { batch: o.batch });
      const unit = vocabulary.level === 'char' ? 'bits per character' : 'bits per word';
      if (o.json) {
        console.log(JSON.stringify({ text: o.text ?? 'moby-dick', tokens: s.tokens, unknown, loss: s.loss, bits: s.bits, perplexity: s.perplexity, level: vocabulary.level }));
        return;
      }
      console.log(`${s.bits.toFixed(4)} ${unit}, perplexity ${s.perplexity.toFixed(3)}, over ${s.tokens} predicted tokens${unknown ? ` (${unknown} not in the vocabulary, scored as <unk>)` : ''}`);
    });
}
