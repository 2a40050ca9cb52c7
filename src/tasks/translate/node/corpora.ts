/**
 * The data of `bptt train translate` and `g2p` (Node: reads files): training pairs, their vocabularies, the dev
 * and test parts with what scores them, and each source with its hash (a resumed run must be given the same).
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { cmudict } from '../../../data/node/cmudict.js';
import { g2pSplit, type G2PEntry } from '../../../data/g2p.js';
import type { TokenLevel } from '../../../data/index.js';
import { readParallelFiles } from '../../../data/node/parallel-files.js';
import { ConfigError, Rng, expected } from '../../../tensor/index.js';
import { decodeUntil, testedPart, type DataSource } from '../../../training/index.js';
import { buildVocabulary, type TextPair } from '../data.js';
import { scoreG2P, scoreTranslation, type Vocabularies } from '../texts.js';

/** The fixed seed of the CMUdict train/dev/test split (by word, 90/5/5). */
export const G2P_SPLIT_SEED = 1;

/** A part scored from outputs: its sources, and the scores of outputs of its first outputs.length items. */
export interface Part {
  sources: string[];
  score(outputs: string[]): Record<string, number>;
}

export interface Seq2SeqData {
  kind: 'g2p' | 'text';
  title: string;
  train: TextPair[];
  vocab: Vocabularies;
  dev: Part;
  test: Part | null;
  sources: DataSource[];
  /** the test scores of copying the source (translation) */
  baseline?: Record<string, number>;
}

const FILES = ['source', 'target', 'devSource', 'devTarget', 'testSource', 'testTarget'] as const;
export const PARALLEL_FILES: readonly string[] = FILES;

export type ParallelOptions = Partial<Record<(typeof FILES)[number], string>> & {
  level: TokenLevel; sourceLevel?: TokenLevel; targetLevel?: TokenLevel; vocabSize: number; maxTokens: number;
  shareEmbeddings?: boolean; seed: number;
};

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function g2pData(): Seq2SeqData {
  const { entries } = cmudict();
  const split = g2pSplit(entries, G2P_SPLIT_SEED);
  const train = split.train.flatMap((e) => e.prons.map((p) => ({ source: e.word, target: p.join(' ') })));
  const vocab = {
    source: buildVocabulary(train.map((p) => p.source), 'char'),
    target: buildVocabulary(train.map((p) => p.target), 'word'),
  };
  const part = (es: readonly G2PEntry[]): Part => ({
    sources: es.map((e) => e.word),
    score: (outputs) => {
      const prons = es.slice(0, outputs.length).map((e) => e.prons);
      const s = scoreG2P(outputs.map((x) => x.split(' ').filter(Boolean)), prons);
      return { per: s.per, wer: s.wer };
    },
  });
  const n = (es: readonly unknown[]): string => es.length.toLocaleString('en');
  return {
    kind: 'g2p', title: `g2p on CMUdict: ${n(split.train)} / ${n(split.dev)} / ${n(split.test)} words (train / dev / `
      + `test, split seed ${G2P_SPLIT_SEED}), ${n(train)} training pronunciations`,
    train, vocab, dev: part(split.dev), test: part(split.test),
    sources: [{ role: 'bundled', name: 'cmudict', sha256: sha256(JSON.stringify(entries)) }],
  };
}

/** Line-aligned parallel files; without dev files, 5 % of the training lines are held out by a seeded draw. */
export function parallelData(o: ParallelOptions): Seq2SeqData {
  const where = 'bptt train translate';
  for (const side of ['source', 'target'] as const) {
    if (!o[side]) throw new ConfigError(expected(where, `--${side} <file>`, 'none'));
  }
  const sources: DataSource[] = [];
  const read = (part: string, s: 'source' | 'devSource' | 'testSource', t: 'target' | 'devTarget' | 'testTarget') => {
    if (!o[s] !== !o[t]) {
      throw new ConfigError(expected(where, `--${part}source and --${part}target together`,
        `only --${part}${o[s] ? 'source' : 'target'}`));
    }
    if (!o[s] || !o[t]) return null;
    const pairs = readParallelFiles(o[s], o[t]);
    for (const [k, side] of [[s, 'source'], [t, 'target']] as const) { // the hash of its lines as read
      const text = pairs.map((p) => p[side]).join('\n');
      sources.push({ role: `--${part}${side}`, name: resolve(o[k]!), sha256: sha256(text) });
    }
    return pairs;
  };
  let train = read('', 'source', 'target')!;
  let dev = read('dev-', 'devSource', 'devTarget');
  if (!dev) {
    const n = Math.max(1, Math.round(train.length * 0.05));
    const held = new Set(new Rng(o.seed).shuffle(train.map((_, i) => i)).slice(0, n));
    [dev, train] = [train.filter((_, i) => held.has(i)), train.filter((_, i) => !held.has(i))];
  }
  const test = read('test-', 'testSource', 'testTarget');
  const [sl, tl] = [o.sourceLevel ?? o.level, o.targetLevel ?? o.level];
  if (o.shareEmbeddings && sl !== tl) {
    throw new ConfigError(expected(where, '--share-embeddings with the same token level on both sides',
      `${sl} and ${tl}`));
  }
  const both = (): string[] => train.flatMap((p) => [p.source, p.target]);
  const shared = o.shareEmbeddings ? buildVocabulary(both(), sl, o.vocabSize) : null;
  const vocab = {
    source: shared ?? buildVocabulary(train.map((p) => p.source), sl, o.vocabSize),
    target: shared ?? buildVocabulary(train.map((p) => p.target), tl, o.vocabSize),
  };
  const fits = (p: TextPair): boolean => vocab.source.encode(p.source).ids.length <= o.maxTokens
    && vocab.target.encode(p.target).ids.length <= o.maxTokens;
  const kept = train.filter(fits);
  if (kept.length === 0) {
    throw new ConfigError(expected(where, `training pairs of at most --max-tokens ${o.maxTokens} tokens per side`,
      'none'));
  }
  const part = (pairs: TextPair[]): Part => ({
    sources: pairs.map((p) => p.source),
    score: (outputs) => {
      const s = scoreTranslation(outputs, pairs.slice(0, outputs.length).map((p) => p.target));
      return { bleu: s.bleu, chrf: s.chrf };
    },
  });
  const cut = train.length - kept.length;
  const skipped = cut ? ` (${cut} longer than ${o.maxTokens} tokens skipped)` : '';
  return {
    kind: 'text', title: `translation ${o.source} → ${o.target}: ${kept.length} training pairs${skipped}, `
      + `${dev.length} dev, ${test ? test.length : 'no'} test`,
    train: kept, vocab, dev: part(dev), test: test && part(test), sources,
    baseline: test ? part(test).score(test.map((p) => p.source)) : undefined,
  };
}

/**
 * The test scores (greedy and beam, and the baseline) of `decode`, as a Markdown table: of the whole test
 * part, or of as much of it as the time budget leaves time for (`deadline`, on performance.now()).
 */
export function testTable(data: Seq2SeqData, limit: number | undefined, beam: number,
  decode: (sources: string[], beam: number) => string[], deadline: number | null):
  { line: string; figures: Record<string, number> } | null {
  if (!data.test) return null;
  const all = data.test.sources.slice(0, limit);
  const d = decodeUntil(all, deadline, (part) => {
    const [greedy, wide] = [decode(part, 1), decode(part, beam)];
    return part.map((_, i) => ({ greedy: greedy[i]!, wide: wide[i]! }));
  });
  const rows: Array<[string, Record<string, number>]> = [['greedy', data.test.score(d.results.map((r) => r.greedy))],
    [`beam ${beam}`, data.test.score(d.results.map((r) => r.wide))]];
  const figures = Object.fromEntries(rows.flatMap(([n, s]) => Object.entries(s).map(([k, v]) => [`test ${k}, ${n}`,
    v])));
  const pct = (x: number | undefined): string => `${(100 * x!).toFixed(2)} %`;
  if (data.kind === 'g2p') {
    const line = [`test: ${testedPart(d, all.length, 'words')}`, '', '| decoding | PER | WER |', '|---|---|---|',
      ...rows.map(([n, s]) => `| ${n} | ${pct(s.per)} | ${pct(s.wer)} |`)].join('\n');
    return { line, figures };
  }
  const table = rows.map(([n, s]): [string, Record<string, number>] => [`model, ${n}`, s]);
  if (data.baseline) table.unshift(['copy the source', data.test.score(all.slice(0, d.count))]);
  const line = [`test: ${testedPart(d, all.length, 'sentences')}`, '', '| output | BLEU | chrF |', '|---|---|---|',
    ...table.map(([n, s]) => `| ${n} | ${s.bleu!.toFixed(2)} | ${s.chrf!.toFixed(2)} |`)].join('\n');
  return { line, figures };
}
