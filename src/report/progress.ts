/**
 * The live progress line of a training run (Node: it draws on a stream,
 * process.stderr by default). On a terminal one line redrawn in place; else
 * (logs, CI) a plain line every `plainEvery` seconds; under `quiet` nothing at
 * all. Every line fits the stream's width: ETA first, then the other fields in
 * order of use, the least useful dropped first when they do not fit.
 */
import { formatNumber } from './svg.js';

/** Where the line is drawn: process.stderr, or anything with write() (tests). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** draw nothing at all (--quiet) */
  quiet?: boolean;
  /** unit of the validation figure, e.g. 'bpc', 'MASE' */
  unit: string;
  /** what `rate` counts per second (default 'tok/s') */
  rateUnit?: string;
  /** default process.stderr; a terminal (isTTY) gets the redrawn line, anything else plain lines */
  stream?: ProgressStream;
  /** seconds between plain lines (default 30) */
  plainEvery?: number;
  /** the clock, in milliseconds (default performance.now) */
  now?: () => number;
}

/** What the line shows. A field left out (or null) is not shown. */
export interface ProgressFields {
  step: number;
  /** fraction of the budget spent, in [0, 1] */
  done: number;
  /** seconds left, from the caller (who knows the budget); null while unknown */
  etaSeconds: number | null;
  epoch?: number;
  loss?: number;
  /** the latest validation figure, in `unit`; null before the first validation */
  val?: number | null;
  /** items per second (a RateMeter's value) */
  rate?: number;
  gradNorm?: number;
  lr?: number;
}

/** Redraws on a terminal at most this often (milliseconds). */
const REDRAW_MS = 200;
const SEPARATOR = '  ';
const BAR_MIN = 6;
const BAR_MAX = 22;

export class Progress {
  private readonly stream: ProgressStream;
  private readonly tty: boolean;
  private readonly now: () => number;
  private latest: ProgressFields | null = null;
  private drawnAt = -Infinity;
  private drawn = false;
  private stopped = false;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.now = options.now ?? (() => performance.now());
  }

  update(fields: ProgressFields): void {
    if (this.options.quiet || this.stopped) return;
    this.latest = fields;
    const t = this.now();
    const every = this.tty ? REDRAW_MS : 1000 * (this.options.plainEvery ?? 30);
    if (t - this.drawnAt < every) return;
    this.drawnAt = t;
    this.draw();
  }

  /** A line of its own (on a terminal, above the progress line). */
  note(line: string): void {
    if (this.options.quiet) return;
    if (!this.tty || this.stopped) return void this.stream.write(`${line}\n`);
    this.stream.write(`${this.drawn ? '\r\x1b[K' : ''}${line}\n`);
    this.drawn = false;
    if (this.latest) this.draw();
  }

  /** Draws the latest fields (on a terminal) and leaves the line; later calls draw nothing. */
  stop(): void {
    if (this.options.quiet || this.stopped) return;
    this.stopped = true;
    if (this.tty && this.latest) {
      this.draw();
      this.stream.write('\n');
    }
  }

  private draw(): void {
    if (!this.tty) return void this.stream.write(`${progressLine(this.latest!, this.options, this.width(), false)}\n`);
    // One column spare: a line filling the last column leaves some terminals' cursor on the next line.
    this.stream.write(`\r${progressLine(this.latest!, this.options, this.width() - 1, true)}\x1b[K`);
    this.drawn = true;
  }

  /** The stream's columns; process.stdout's when drawing on process.stderr without them; else 80. */
  private width(): number {
    const columns = this.stream.columns ?? (this.stream === process.stderr ? process.stdout.columns : undefined);
    return columns && columns > 0 ? columns : 80;
  }
}

/**
 * The line for `f` in at most `width` characters: ETA, done, [bar], step, loss,
 * val, rate, |g|, lr, epoch. When they do not fit, the bar goes first, then
 * epoch, lr, |g|, rate, step, val, loss, done; the ETA always stays (cut to the
 * width when even it is too long). Which fields fit is decided on room for their
 * usual widths, so that they do not come and go as their digits change; on a
 * terminal (`tty`) they are padded to it and a bar fills what is left.
 */
export function progressLine(
  f: ProgressFields, o: Pick<ProgressOptions, 'unit' | 'rateUnit'>, width: number, tty: boolean,
): string {
  const done = Math.min(1, Math.max(0, Number.isFinite(f.done) ? f.done : 0));
  const fields: Field[] = [];
  // rank: a higher rank is dropped first; room: characters kept for the value
  const add = (rank: number, v: number | null | undefined, label: string, room: number, text: Format, unit = '') => {
    if (v === undefined || v === null) return;
    const value = text(v);
    const head = label ? `${label} ` : '';
    const tail = unit ? ` ${unit}` : '';
    fields.push({ text: head + value + tail, rank, width: length(head + tail) + Math.max(room, length(value)) });
  };
  add(0, f.etaSeconds ?? Infinity, 'ETA', 5, formatDuration);
  add(1, done, '', 4, (v) => `${Math.floor(100 * v)}%`);
  add(4, f.step, 'step', 0, String);
  add(2, f.loss, 'loss', 5, (v) => v.toFixed(3));
  add(3, f.val, 'val', 5, (v) => v.toFixed(3), o.unit);
  add(5, f.rate, '', 4, formatCount, o.rateUnit ?? 'tok/s');
  add(6, f.gradNorm, '|g|', 5, formatNumber);
  add(7, f.lr, 'lr', 6, (v) => v.toExponential(1));
  add(8, f.epoch, 'epoch', 4, (v) => v.toFixed(2));
  const total = (): number => fields.reduce((n, x) => n + x.width, 0) + SEPARATOR.length * (fields.length - 1);
  while (fields.length > 1 && total() > width) {
    fields.splice(fields.reduce((worst, x, i) => (x.rank > fields[worst]!.rank ? i : worst), 0), 1);
  }
  const room = width - total() - SEPARATOR.length - 2;
  if (tty && fields.length > 1 && room >= BAR_MIN) {
    const size = Math.min(BAR_MAX, room);
    const full = Math.round(done * size);
    const bar = `[${'#'.repeat(full)}${'-'.repeat(size - full)}]`;
    fields.splice(2, 0, { text: bar, rank: 9, width: size + 2 });
  }
  const line = fields.map((x, i) => (tty && i < fields.length - 1 ? pad(x.text, x.width) : x.text)).join(SEPARATOR);
  return length(line) > width ? [...line].slice(0, Math.max(0, width)).join('') : line;
}

type Format = (v: number) => string;

interface Field {
  text: string;
  rank: number;
  /** the characters it takes in the layout (its text may be shorter) */
  width: number;
}

/** Characters (code points) of a string. */
const length = (s: string): number => [...s].length;
const pad = (s: string, width: number): string => s + ' '.repeat(Math.max(0, width - length(s)));

/** A count in at most 5 characters: 950, 9.5k, 95k, 9.5M. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  return n >= 1e4 ? `${(n / 1e3).toFixed(0)}k` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : n.toFixed(0);
}

/** A duration for people: 42s, 3m05s, 1h02m ('?' when not finite). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
