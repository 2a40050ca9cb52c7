import { ConfigError, expected, quoted, show } from './errors.js';

/*
 * Eager checks of the options a JavaScript caller passes: the compiler does not
 * stop `bidirectional: 'false'` (truthy) or `dtype: 'float16'`, so every public
 * constructor checks its options here and never reads one it did not check.
 */

/** Rejects option keys the constructor does not know: an ignored option is a silent bug. */
export function rejectUnknownOptions(where: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new ConfigError(expected(where, `options among ${known.join(', ')}`, quoted(key)));
  }
}

export function requirePositiveInt(where: string, name: string, v: unknown): number {
  if (typeof v === 'number' && Number.isInteger(v) && v > 0) return v;
  throw new ConfigError(expected(where, `${name} a positive integer`, show(v)));
}

/** A boolean option, `fallback` when absent (undefined); without a fallback it is required. */
export function requireBoolean(where: string, name: string, v: unknown, fallback?: boolean): boolean {
  if (v === undefined && fallback !== undefined) return fallback;
  if (typeof v === 'boolean') return v;
  throw new ConfigError(expected(where, `${name} true or false`, show(v)));
}
