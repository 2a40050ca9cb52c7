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

/** Characters of a user string echoed in a message; a longer one is cut and its length given. */
const SHOWN = 200;
/** Items of a list echoed in a message. */
const LISTED = 16;
/**
 * A backstop for each part of an `expected` message: a user string that reaches
 * it without show/textOf still cannot turn one error into megabytes of stderr.
 */
const PART = 1000;

/** Formats the house style: "<where>: expected <what>, got <what>" plus an optional hint. */
export function expected(where: string, what: string, got: unknown, hint?: string): string {
  const shown = typeof got === 'string' ? got : listOf(got);
  return `${capped(where)}: expected ${capped(what)}, got ${capped(shown)}` + (hint ? ` (${capped(hint)})` : '');
}

/** An array as `[a, b, … (n in all)]`, its items as `item` renders them; anything else as `show` does. */
export function listOf(x: unknown, item: (v: unknown) => string = textOf): string {
  if (!Array.isArray(x)) return show(x);
  const head = x.slice(0, LISTED).map((v) => item(v)).join(', ');
  return x.length > LISTED ? `[${head}, … (${x.length} in all)]` : `[${head}]`;
}

/**
 * Renders a user value for an error message: strings quoted, the rest as JSON
 * where possible, about 200 characters at most (a long string is cut and its
 * length given). Never throws: a hand-edited file can hold `{"toString": 0}`,
 * which String() and template literals cannot convert.
 */
export function show(x: unknown): string {
  if (typeof x === 'string') return cut(x, (head) => JSON.stringify(head));
  let s: string | undefined;
  try {
    const scalar = typeof x === 'number' || typeof x === 'bigint' || typeof x === 'symbol' || typeof x === 'function';
    s = scalar ? String(x) : JSON.stringify(x, shortened);
  } catch {
    // cyclic, or a BigInt inside: fall through
  }
  s ??= x === undefined ? 'undefined' : Object.prototype.toString.call(x);
  return s.length > SHOWN ? `${s.slice(0, SHOWN - 1)}…` : s;
}

/**
 * JSON.stringify, or null where it throws: a value parsed from a hand-edited
 * file can be nested too deep for it (a RangeError), which JSON.parse was not.
 */
export function jsonOf(x: unknown): string | null {
  try {
    return JSON.stringify(x);
  } catch {
    return null;
  }
}

/** A string as it is (control characters escaped, cut like `show`), anything else as `show` renders it. */
export function textOf(x: unknown): string {
  return typeof x === 'string' ? cut(x, escapeControls) : show(x);
}

/**
 * A string in single quotes, as messages name kinds and keys ('gru'),
 * cut like `show`; anything else as `show` renders it.
 */
export function quoted(x: unknown): string {
  return typeof x === 'string' ? cut(x, (head) => `'${escapeControls(head)}'`) : show(x);
}

/** `s` whole if short, else its start with an ellipsis, framed by `frame`, and its length. */
function cut(s: string, frame: (head: string) => string): string {
  if (s.length <= SHOWN) return frame(s);
  // never split a surrogate pair
  const end = /[\uD800-\uDBFF]/.test(s[SHOWN - 1]!) ? SHOWN - 1 : SHOWN;
  return `${frame(`${s.slice(0, end)}…`)} (${s.length} characters)`;
}

/** As JSON escapes them: a newline or terminal escape read from a file must not break the one-line message. */
function escapeControls(s: string): string {
  return s.replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

/** JSON.stringify replacer that keeps long strings and arrays inside a value from being rendered whole. */
function shortened(_key: string, v: unknown): unknown {
  // half the limit, so that the length still shows when the whole is cut
  if (typeof v === 'string' && v.length > SHOWN / 2) return `${v.slice(0, SHOWN / 2)}… (${v.length} characters)`;
  if (Array.isArray(v) && v.length > LISTED) return [...v.slice(0, LISTED), `… (${v.length} in all)`];
  return v;
}

/** The `PART` backstop. */
function capped(s: string): string {
  return s.length > PART ? `${s.slice(0, PART)}… (${s.length} characters)` : s;
}
