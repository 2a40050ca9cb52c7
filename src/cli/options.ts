/** Parsers for command-line values: each throws commander's InvalidArgumentError with what was expected. */
import { InvalidArgumentError, type Command } from 'commander';
import type { Strategy } from '../bptt/index.js';
import { badMeta, isObject } from '../io/trainer-state.js';
import { show } from '../tensor/index.js';

export { formatDuration } from '../report/progress.js';

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^[+-]?\d+$/.test(v.trim()) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer ${max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`}`);
    }
    return n;
  };
}

/** A finite number in [min, max] (or (min, max] when minOpen). */
export function real(min: number, max = Infinity, minOpen = false): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n) || (minOpen ? n <= min : n < min) || n > max) {
      const lo = `${minOpen ? '>' : '>='} ${min}`;
      throw new InvalidArgumentError(`expected a number ${max === Infinity ? lo : `${lo} and <= ${max}`}`);
    }
    return n;
  };
}

/** 'b1,b2': Adam's two decay rates, each in [0, 1). */
export function betas(v: string): [number, number] {
  const parts = v.split(',').map((x) => x.trim());
  const ns = parts.map(Number);
  if (parts.length !== 2 || parts.some((x) => x === '') || !ns.every((n) => n >= 0 && n < 1)) {
    throw new InvalidArgumentError('expected two numbers in [0, 1) separated by a comma, e.g. 0.9,0.99');
  }
  return [ns[0]!, ns[1]!];
}

/** A number, or 'none' / 'off' for null (commander stores a parser's null as '': `nullsRestored` undoes that). */
export function realOrNone(min: number): (v: string) => number | null {
  const parse = real(min, Infinity, true);
  return Object.assign((v: string) => (/^(none|off)$/i.test(v.trim()) ? null : parse(v)), { noneIsNull: true });
}

/** A preAction hook: options parsed by `realOrNone` that said 'none' hold null, as their parser returned. */
export function nullsRestored(_: Command, action: Command): void {
  for (const option of action.options) {
    const key = option.attributeName();
    const parser = (option as { parseArg?: { noneIsNull?: boolean } }).parseArg;
    if (parser?.noneIsNull && action.getOptionValue(key) === '') action.setOptionValueWithSource(key, null, action.getOptionValueSource(key)!);
  }
}

const UNITS: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };

/** A duration in seconds: '90', '90s', '10m', '1h30m', '1.5h'. */
export function duration(v: string): number {
  const s = v.trim();
  if (/^\d+(\.\d+)?$/.test(s) && Number(s) > 0) return Number(s);
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  const total = parts.reduce((a, p) => a + Number(p[1]) * UNITS[p[2]!]!, 0);
  if (!parts.length || parts.map((p) => p[0]).join('') !== s || !(total > 0)) {
    throw new InvalidArgumentError("expected a duration such as 90s, 10m or 1h30m (a plain number is seconds)");
  }
  return total;
}

/** 'full', 'truncated:K1[:K2]' or 'checkpointed[:SEGMENT]'. */
export function strategy(v: string): Strategy {
  const [kind, ...rest] = v.trim().split(':');
  const ints = rest.map(Number);
  const ok = rest.every((r) => /^\d+$/.test(r) && Number(r) >= 1);
  if (kind === 'full' && rest.length === 0) return { kind: 'full' };
  if (kind === 'truncated' && ok && (rest.length === 1 || rest.length === 2) && (ints[1] ?? ints[0]!) >= ints[0]!) {
    return { kind: 'truncated', k1: ints[0]!, k2: ints[1] ?? ints[0]! };
  }
  if (kind === 'checkpointed' && ok && rest.length <= 1) return ints[0] ? { kind: 'checkpointed', segment: ints[0] } : { kind: 'checkpointed' };
  throw new InvalidArgumentError("expected full, truncated:K1[:K2] (K2 >= K1) or checkpointed[:SEGMENT]");
}

export function describeStrategy(s: Strategy): string {
  if (s.kind === 'truncated') return `truncated:${s.k1}:${s.k2 ?? s.k1}`;
  if (s.kind === 'checkpointed') return s.segment ? `checkpointed:${s.segment}` : 'checkpointed';
  return 'full';
}

/** An option's command-line spelling from its key (evalEvery → eval-every), for messages. */
export function kebab(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** The value at a dotted path ('schedule.lr') of a manifest's metadata, or undefined. */
export function savedAt(meta: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((x, part) => (isObject(x) ? x[part] : undefined), meta);
}

/**
 * A value a checkpoint's manifest holds for `command`'s option `key`, checked by
 * that option's own parser (its range, its choices): a resumed run takes no value
 * the command line would refuse. The error names the manifest field:
 * `<where>: meta.<field>: expected <what --key takes>, got <value>` (a DataError).
 */
export function checkSaved(command: Command, key: string, value: unknown, where: string, field: string): void {
  const option = command.options.find((o) => o.attributeName() === key);
  if (!option) throw new Error(`checkSaved: ${command.name()} has no option '${key}'`);
  if (JSON.stringify(value) === JSON.stringify(option.defaultValue)) return; // what leaving the option out gives
  if (value === null && option.defaultValue === undefined) return; // a run's settings keep an unset flag as null
  const flag = option.long ?? `--${kebab(key)}`;
  const bad = (want: string, takes = `, as ${flag} takes`): never => badMeta(where, field, `${want}${takes}`, value);
  if (!option.required && !option.optional) {
    if (typeof value !== 'boolean') bad('true or false');
    return;
  }
  const parse = option.parseArg;
  if (!parse) {
    if (typeof value !== 'string') bad('a string');
    return;
  }
  let text = typeof value === 'string' ? value : show(value);
  if (value === null) text = 'none';
  else if (Array.isArray(value)) text = value.map(String).join(',');
  else if (typeof value === 'object' && 'kind' in value) text = describeStrategy(value as Strategy);
  else if (typeof value === 'object' && 'epochs' in value) text = `${String(value.epochs)}e`;
  let parsed: unknown;
  try {
    parsed = parse(text, undefined);
  } catch (e) {
    if (!(e instanceof InvalidArgumentError)) throw e;
    bad(option.argChoices ? `one of ${option.argChoices.join(', ')}` : e.message.replace(/^expected /, ''));
  }
  // A string "32" passes --seq-len's parser as the text 32 would: the value must be what the parser gives.
  if (JSON.stringify(parsed) !== JSON.stringify(value)) bad(show(parsed), ` (the value of ${flag} ${text})`);
}

/** 'a,b,c': names separated by commas. */
export function names(v: string): string[] {
  const items = v.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new InvalidArgumentError('expected column names separated by commas');
  return items;
}

/** 'TRAIN,VAL' fractions or 'TRAIN/VAL/TEST' shares, with a test part left: the first two as fractions. */
export function fractions(v: string): [number, number] {
  const parts = v.split(/[,/]/).map((s) => Number(s.trim()));
  const [a, b] = parts.length === 3 ? parts.map((x) => x / (parts[0]! + parts[1]! + parts[2]!)) : parts;
  if (!(parts.length === 2 || parts.length === 3) || !(a! > 0 && b! >= 0 && a! + b! < 1)) {
    throw new InvalidArgumentError('expected TRAIN,VAL fractions (e.g. 0.7,0.15) or TRAIN/VAL/TEST shares '
      + '(e.g. 70/15/15), with a test part left');
  }
  return [a!, b!];
}

/** 'q1,q2,...': increasing levels in (0, 1). */
export function levels(v: string): number[] {
  const q = v.split(',').map((s) => Number(s.trim()));
  if (!q.every((x, i) => x > 0 && x < 1 && (i === 0 || x > q[i - 1]!))) {
    throw new InvalidArgumentError('expected increasing levels in (0, 1), e.g. 0.1,0.5,0.9');
  }
  return q;
}
