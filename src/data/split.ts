import { ConfigError, Rng, expected, show } from '../tensor/index.js';

/** Shares of train, dev and test, summing to 1. */
export type SplitFractions = readonly [number, number, number];

export interface Parts<T> {
  train: T[];
  dev: T[];
  test: T[];
}

/**
 * A seeded train/dev/test split by key: items that share a key stay in one
 * part. Keys are sorted before the shuffle, so the result depends only on the
 * items and the seed, not on their order; cumulative rounding keeps each part
 * within one key of its share.
 */
export function splitByKey<T>(items: readonly T[], key: (item: T) => string, seed: number, fractions: SplitFractions, where: string): Parts<T> {
  if (!Number.isFinite(seed)) throw new ConfigError(expected(where, 'a finite seed', show(seed)));
  if (!Array.isArray(fractions) || fractions.length !== 3 || fractions.some((f) => !Number.isFinite(f) || f < 0)) {
    throw new ConfigError(expected(where, 'three fractions >= 0 for train, dev, test', fractions));
  }
  const sum = fractions[0] + fractions[1] + fractions[2];
  if (Math.abs(sum - 1) > 1e-9) throw new ConfigError(expected(where, 'fractions that sum to 1', `a sum of ${sum}`));
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  const keys = [...groups.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  new Rng(seed).shuffle(keys);
  const n = keys.length;
  const trainEnd = Math.round(n * fractions[0]);
  const devEnd = Math.max(trainEnd, Math.round(n * (fractions[0] + fractions[1])));
  const take = (from: number, to: number): T[] => keys.slice(from, to).flatMap((k) => groups.get(k)!);
  return { train: take(0, trainEnd), dev: take(trainEnd, devEnd), test: take(devEnd, n) };
}
