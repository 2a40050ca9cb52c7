/** `bptt translate`: a trained encoder-decoder (translate or g2p) on lines from a file or stdin. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { writeFileSafe } from '../io/node/safe-files.js';
import { readLines } from '../data/node/parallel-files.js';
import { translateCodec, translateTexts, vocabulariesOf } from '../tasks/translate/index.js';
import { loadRun } from '../training/node/run-files.js';
import { DataError, expected } from '../tensor/index.js';
import { integer, real } from './options.js';

interface TranslateCliOptions {
  checkpoint: string;
  input?: string;
  beam: number;
  lengthPenalty?: number;
  maxLength?: number;
  batch: number;
  attention?: string;
  keepUnk?: boolean;
}

export function translateCommand(): Command {
  return new Command('translate')
    .description('translate lines (stdin or --input) with a checkpoint of bptt train translate or bptt train g2p; one output line per input line')
    .requiredOption('--checkpoint <path>', 'a checkpoint manifest (.json) or a training --out directory (its best.json)')
    .option('--input <file>', 'read lines from this file instead of stdin')
    .option('--beam <width>', 'beam width (1: greedy)', integer(1, 100), 5)
    .option('--length-penalty <alpha>', "GNMT length normalisation of beam scores (default: the training run's)", real(0, 10))
    .option('--max-length <n>', 'most output tokens per line (default: 2 × the input tokens + 10)', integer(1))
    .option('--batch <n>', 'lines decoded together', integer(1, 10_000), 64)
    .option('--keep-unk', 'keep the <unk>s the model outputs (by default each is replaced by the source token it attends to most, when source and target have the same token level)')
    .option('--attention <file>', 'also write the attention weights (JSON: per line, source and output tokens and a weight matrix)')
    .addHelpText('after', `
Empty input lines give empty output lines. Source tokens outside the model's
vocabulary are read as <unk> and counted on stderr. For a g2p model the input
words are lowercased (CMUdict's spelling).`)
    .action((o: TranslateCliOptions) => translate(o));
}

function translate(o: TranslateCliOptions): void {
  const { model, meta, path } = loadRun(o.checkpoint, translateCodec);
  const vocab = vocabulariesOf(meta.model, meta.extra, `checkpoint '${path}'`);
  let lines = o.input ? readLines(o.input) : stdinLines();
  if (meta.extra.kind === 'g2p') lines = lines.map((l) => l.toLowerCase());
  const lengthPenalty = o.lengthPenalty ?? (meta.settings?.lengthPenalty as number | undefined) ?? 0;
  const out = translateTexts(model, vocab, lines, { beam: o.beam, lengthPenalty, batch: o.batch, ...(o.maxLength ? { maxLength: o.maxLength } : {}), ...(o.keepUnk ? { replaceUnknown: false } : {}) });
  if (o.attention) {
    const records = out.map((t, i) => ({ line: i + 1, source: lines[i], output: t.text, sourceTokens: t.sourceTokens, outputTokens: t.tokens, weights: t.attention }));
    writeFileSafe(o.attention, JSON.stringify(records) + '\n');
  }
  process.stdout.write(out.map((t) => t.text + '\n').join(''));
  const unknownLines = out.map((t, i) => (t.unknown ? i + 1 : 0)).filter(Boolean);
  if (unknownLines.length) {
    const total = out.reduce((s, t) => s + t.unknown, 0);
    console.error(`bptt translate: ${total} input token(s) not in the model's source vocabulary were read as <unk> (line${unknownLines.length > 1 ? 's' : ''} ${unknownLines.slice(0, 10).join(', ')}${unknownLines.length > 10 ? ', …' : ''})`);
  }
}

function stdinLines(): string[] {
  if (process.stdin.isTTY) console.error('bptt translate: reading lines from the terminal; end with Ctrl-D');
  let text: string;
  try {
    text = readFileSync(0, 'utf8');
  } catch (e) {
    throw new DataError(expected('bptt translate: stdin', 'readable input', (e as NodeJS.ErrnoException).code ?? String(e)));
  }
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
