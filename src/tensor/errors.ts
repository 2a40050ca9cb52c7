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
  if (Array.isArray(x)) return `[${x.join(', ')}]`;
  if (typeof x === 'number' && Number.isNaN(x)) return 'NaN';
  return String(x);
}
