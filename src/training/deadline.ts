/**
 * Work after a run that a time budget includes (a test set decoded greedily
 * and with a beam): done in parts until the deadline, so a short budget scores
 * the first items rather than overrunning; a figure on part of a test set says so.
 */

/** What `decodeUntil` decoded: the first `count` items' results, and whether that was all of them. */
export interface Decoded<R> {
  results: R[];
  count: number;
  complete: boolean;
}

/**
 * Decodes `items` in parts of `part` until `deadline` (a `now()` time; null: no
 * deadline); at least one part, so there is always a figure.
 */
export function decodeUntil<T, R>(items: readonly T[], deadline: number | null, decode: (part: T[]) => R[],
  part = 64, now: () => number = () => performance.now()): Decoded<R> {
  const results: R[] = [];
  for (let i = 0; i < items.length; i += part) {
    if (i > 0 && deadline !== null && now() >= deadline) break;
    results.push(...decode(items.slice(i, i + part)));
  }
  return { results, count: results.length, complete: results.length === items.length };
}

/** How a partial test set is named in a line: 'test: 320 of 6194 words (the time budget ran out ...)'. */
export function testedPart(d: Decoded<unknown>, total: number, unit: string): string {
  return d.complete ? `${total} ${unit}`
    : `the first ${d.count} of ${total} ${unit} (the time budget ran out; a longer --time scores them all)`;
}
