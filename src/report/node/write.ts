/**
 * Writing a report, Node only: atomically (a temporary file renamed over the
 * target), so a reader or a killed run never sees half a page. Export it from
 * `src/node.ts`, not from the browser-safe `src/index.ts`.
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { refuseNonFile, writeFileSafe } from '../../io/node/safe-files.js';
import { DataError, expected } from '../../tensor/index.js';
import type { FlowSampler, FlowSamplerOptions } from '../flow.js';
import { ReportRecorder, type ReportData } from '../recorder.js';
import { renderReport } from '../render.js';

/** Renders the report and writes it to `path` atomically. */
export function writeReport(path: string, data: ReportData): void {
  data.updated = new Date().toISOString();
  writeFileSafe(path, renderReport(data));
}

/**
 * Fails early, before any training and without writing a file, when `path`
 * cannot take a report: it is a directory, or its directory cannot be created
 * (as --out's is) or written to.
 */
export function ensureWritableReport(path: string): void {
  const fail = (got: string): never => {
    throw new DataError(expected(`--report '${path}'`, 'an HTML file path in a writable directory', got));
  };
  try {
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) fail('a directory');
    refuseNonFile(path, 'an HTML file path (never a link)');
    const dir = dirname(path);
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK);
    if (existsSync(path)) accessSync(path, constants.W_OK);
  } catch (e) {
    if (e instanceof DataError) throw e;
    fail((e as NodeJS.ErrnoException).code ?? String(e));
  }
}

/** A report file a command line run keeps up to date: the recorder, its gradient-flow sampler, and write(). */
export interface ReportFile {
  readonly path: string;
  readonly recorder: ReportRecorder;
  /** give it to the trainer as its gradient-flow recorder */
  readonly flow: FlowSampler;
  /** renders and writes the report now (at checkpoints and at the end) */
  write(): void;
}

/** Checks `path` (a bad one throws a DataError: call it before training); the report is written by write(). */
export function openReport(path: string, title: string, meta: ReportData['meta'] = {}, flow: FlowSamplerOptions = {}): ReportFile {
  const recorder = new ReportRecorder(title, meta);
  const sampler = recorder.flowSampler(flow);
  ensureWritableReport(path);
  return { path, recorder, flow: sampler, write: () => writeReport(path, recorder.data) };
}
