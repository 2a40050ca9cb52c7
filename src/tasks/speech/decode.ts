/**
 * Transcribing utterances with a trained model: greedy or prefix-beam CTC
 * decoding, and digit error rates. Browser-safe.
 */
import { noGrad } from '../../autograd/index.js';
import { ctcGreedy, ctcPrefixBeam } from '../../decode/index.js';
import { editDistance } from '../../metrics/index.js';
import { ConfigError, expected, show } from '../../tensor/index.js';
import { decodeUntil, testedPart } from '../../training/index.js';
import { lengthGroups, makeBatch, type Example } from './batches.js';
import type { Utterance } from './features.js';
import { BLANK, CLASSES, type SpeechModel } from './model.js';

export interface DecodeOptions {
  /** 0 or 1: greedy (best path); > 1: prefix beam search with this many prefixes */
  beam: number;
  /** utterances per forward pass (default 32) */
  batch?: number;
}

/** The digits (0..9) heard in each utterance, in input order. */
export function transcribe(model: SpeechModel, inputs: readonly Utterance[], options: DecodeOptions): number[][] {
  const { beam } = options;
  const size = options.batch ?? 32;
  if (!(Number.isInteger(beam) && beam >= 0)) {
    throw new ConfigError(expected('transcribe', 'beam an integer >= 0', show(beam)));
  }
  const out: number[][] = new Array(inputs.length);
  const wasTraining = model.training;
  model.eval();
  try {
    noGrad(() => {
      for (const ids of lengthGroups(inputs, size)) {
        const b = makeBatch(ids.map((i) => inputs[i]!), null);
        const lp = model.logProbs(b).data;
        ids.forEach((id, j) => {
          const row = (t: number) => lp.subarray((t * b.batch + j) * CLASSES, (t * b.batch + j + 1) * CLASSES);
          const rows = Array.from({ length: b.lengths[j]! }, (_, t) => row(t));
          const labels = beam > 1 ? ctcPrefixBeam(rows, { beam, blank: BLANK })[0]?.labels ?? []
            : ctcGreedy(rows, { blank: BLANK });
          out[id] = labels.map((c) => c - 1);
        });
      }
    });
  } finally {
    model.train(wasTraining);
  }
  return out;
}

export interface DigitErrors {
  /** edit distance summed over utterances, over the number of reference digits */
  der: number;
  edits: number;
  digits: number;
  utterances: number;
  /** share of utterances not transcribed exactly */
  ser: number;
}

export function digitErrors(hyps: readonly (readonly number[])[], refs: readonly (readonly number[])[]): DigitErrors {
  if (hyps.length !== refs.length) {
    throw new ConfigError(expected('digitErrors', `${refs.length} hypotheses`, hyps.length));
  }
  let edits = 0, digits = 0, wrong = 0;
  hyps.forEach((h, i) => {
    const e = editDistance(h, refs[i]!);
    edits += e;
    digits += refs[i]!.length;
    if (e > 0) wrong++;
  });
  const utterances = refs.length;
  return { der: digits ? edits / digits : 0, edits, digits, utterances, ser: utterances ? wrong / utterances : 0 };
}

/** The digit errors of decoding `examples` (greedy: beam 1). */
export function scoreDigits(model: SpeechModel, examples: readonly Example[], beam = 1): DigitErrors {
  return digitErrors(transcribe(model, examples.map((e) => e.input), { beam }), examples.map((e) => e.digits));
}

/** The best model's digit error rates on the test split, greedy and with a beam. */
export function testScore(model: SpeechModel, test: readonly Example[], beam: number, deadline: number | null = null):
  { line: string; figures: Record<string, number> } {
  const d = decodeUntil(test, deadline, (part) => {
    const inputs = part.map((e) => e.input);
    const [greedy, wide] = [transcribe(model, inputs, { beam: 1 }), transcribe(model, inputs, { beam })];
    return part.map((e, i) => ({ digits: e.digits, greedy: greedy[i]!, wide: wide[i]! }));
  });
  const refs = d.results.map((r) => r.digits);
  const greedy = digitErrors(d.results.map((r) => r.greedy), refs);
  const wide = digitErrors(d.results.map((r) => r.wide), refs);
  const pct = (x: number): string => `${(100 * x).toFixed(2)} %`;
  const errors = (e: DigitErrors): string => `${pct(e.der)} (${e.edits} edits, ${pct(e.ser)} of utterances wrong)`;
  return {
    line: `test: ${testedPart(d, test.length, 'utterances')}, ${greedy.digits} digits; digit error rate greedy `
      + `${errors(greedy)}, beam ${beam} ${errors(wide)}`,
    figures: { 'test DER greedy %': 100 * greedy.der, [`test DER beam ${beam} %`]: 100 * wide.der },
  };
}
