import { ConfigError, DataError, ShapeError, Tensor, expected, show } from '../tensor/index.js';

/** One utterance's per-frame log-probabilities: a [T, C] tensor or one row of C per frame. */
export type CtcPosteriors = Tensor | readonly ArrayLike<number>[];

export interface CtcGreedyOptions {
  /** frames to read (default all): the utterance's input length */
  length?: number;
  blank?: number;
}

export interface CtcBeamOptions extends CtcGreedyOptions {
  /** prefixes kept after each frame (default 8) */
  beam?: number;
}

export interface CtcHypothesis {
  labels: number[];
  /** log P(labels | x), summed over every alignment the beam kept */
  logProb: number;
}

/** Best-path decoding: the argmax label per frame, repeats collapsed, blanks dropped. */
export function ctcGreedy(logProbs: CtcPosteriors, options: CtcGreedyOptions = {}): number[] {
  const { rows, C, blank } = frames('ctcGreedy', logProbs, options);
  const labels: number[] = [];
  let previous = -1;
  for (const row of rows) {
    let best = 0;
    for (let c = 1; c < C; c++) if (row[c]! > row[best]!) best = c;
    if (best !== blank && best !== previous) labels.push(best);
    previous = best;
  }
  return labels;
}

/** A prefix's probability split by how its alignments end: in a blank or in its last label. */
interface Beam {
  labels: number[];
  blank: number;
  label: number;
}

/**
 * Prefix beam search (Hannun et al. 2014, without a language model), in log
 * space: every prefix sums the probability of all the alignments that collapse
 * to it, so a label sequence spread over many paths can beat the best single
 * path. Returns up to `beam` hypotheses, best first.
 */
export function ctcPrefixBeam(logProbs: CtcPosteriors, options: CtcBeamOptions = {}): CtcHypothesis[] {
  const { rows, C, blank } = frames('ctcPrefixBeam', logProbs, options);
  const width = options.beam ?? 8;
  if (!Number.isInteger(width) || width < 1) {
    throw new ConfigError(expected('ctcPrefixBeam', 'beam an integer >= 1', show(width)));
  }
  let beams: Beam[] = [{ labels: [], blank: 0, label: -Infinity }];
  for (const row of rows) {
    const next = new Map<string, Beam>();
    const entry = (labels: number[]) => {
      const key = labels.join(',');
      let e = next.get(key);
      if (!e) next.set(key, (e = { labels, blank: -Infinity, label: -Infinity }));
      return e;
    };
    for (const p of beams) {
      const total = logAdd(p.blank, p.label);
      const same = entry(p.labels);
      same.blank = logAdd(same.blank, total + row[blank]!);
      const end = p.labels.length > 0 ? p.labels[p.labels.length - 1]! : -1;
      // Repeating the last label without a blank in between stays on the same prefix.
      if (end >= 0) same.label = logAdd(same.label, p.label + row[end]!);
      for (let c = 0; c < C; c++) {
        if (c === blank) continue;
        const longer = entry([...p.labels, c]);
        longer.label = logAdd(longer.label, (c === end ? p.blank : total) + row[c]!);
      }
    }
    // Extending a label by itself needs a blank first: from a prefix never ending in one, that entry has probability 0.
    beams = [...next.values()].filter((b) => logAdd(b.blank, b.label) > -Infinity).sort((a, b) => logAdd(b.blank, b.label) - logAdd(a.blank, a.label)).slice(0, width);
  }
  return beams.map((b) => ({ labels: b.labels, logProb: logAdd(b.blank, b.label) }));
}

function logAdd(a: number, b: number): number {
  if (a === -Infinity) return b;
  if (b === -Infinity) return a;
  return a > b ? a + Math.log1p(Math.exp(b - a)) : b + Math.log1p(Math.exp(a - b));
}

function frames(where: string, logProbs: CtcPosteriors, options: CtcGreedyOptions): { rows: ArrayLike<number>[]; C: number; blank: number } {
  let rows: ArrayLike<number>[];
  if (logProbs instanceof Tensor) {
    if (logProbs.rank !== 2) throw new ShapeError(expected(where, 'logProbs [time, classes]', [...logProbs.shape], 'decode one utterance at a time'));
    const [T, C] = logProbs.shape as [number, number];
    rows = Array.from({ length: T }, (_, t) => logProbs.data.subarray(t * C, (t + 1) * C));
  } else rows = [...logProbs];
  const C = rows.length > 0 ? rows[0]!.length : 0;
  rows.forEach((r, t) => {
    if (r.length !== C) throw new ShapeError(expected(where, `${C} classes in every frame`, `${r.length} at frame ${t}`));
    for (let c = 0; c < C; c++) if (Number.isNaN(r[c]!)) throw new DataError(expected(where, 'log-probabilities without NaN', `NaN at frame ${t}, class ${c}`));
  });
  const length = options.length ?? rows.length;
  if (!Number.isInteger(length) || length < 0 || length > rows.length) {
    throw new DataError(expected(where, `length an integer in [0, ${rows.length}]`, show(length)));
  }
  const blank = options.blank ?? 0;
  if (!Number.isInteger(blank) || blank < 0 || (C > 0 && blank >= C)) {
    throw new ConfigError(expected(where, `blank in [0, ${C})`, show(blank)));
  }
  return { rows: rows.slice(0, length), C, blank };
}
