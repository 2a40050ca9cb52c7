/** Every error this library throws is a BpttError, so callers can catch ours apart from bugs. */
export class BpttError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A tensor had the wrong rank, size or layout. */
export class ShapeError extends BpttError {}

/** An option or a combination of options is invalid. */
export class ConfigError extends BpttError {}

/** Input data is malformed: NaN/Infinity, bad lengths, unreadable files. */
export class DataError extends BpttError {}

/** Formats the house style: "<where>: expected <what>, got <what>" plus an optional hint. */
export function expected(where: string, what: string, got: unknown, hint?: string): string {
  const shown = typeof got === 'string' ? got : describe(got);
  return `${where}: expected ${what}, got ${shown}` + (hint ? ` (${hint})` : '');
}

function describe(x: unknown): string {
  if (!Array.isArray(x)) return show(x);
  const head = x.slice(0, 16).map(textOf).join(', ');
  return x.length > 16 ? `[${head}, … (${x.length} in all)]` : `[${head}]`;
}

/**
 * Renders a user value for an error message: strings quoted, the rest as JSON
 * where possible, at most 100 characters. Never throws: a hand-edited file can
 * hold `{"toString": 0}`, which String() and template literals cannot convert.
 */
export function show(x: unknown): string {
  let s: string | undefined;
  try {
    s = typeof x === 'number' || typeof x === 'bigint' || typeof x === 'symbol' || typeof x === 'function' ? String(x) : JSON.stringify(x);
  } catch {
    // cyclic, or a BigInt inside: fall through
  }
  s ??= x === undefined ? 'undefined' : Object.prototype.toString.call(x);
  return s.length > 100 ? `${s.slice(0, 99)}…` : s;
}

/** A string as it is, anything else as `show` renders it (never throws). */
export function textOf(x: unknown): string {
  return typeof x === 'string' ? x : show(x);
}
