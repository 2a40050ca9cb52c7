/** The progress line on fake streams and a fake clock: its width, its ETA, plain lines, quiet. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Progress, progressLine, type ProgressFields, type ProgressStream } from '../../src/report/progress.js';

/** A stream that keeps what is written, and a clock the test moves. */
function fake(isTTY: boolean, columns?: number): ProgressStream & { written: string[]; clock: { ms: number } } {
  return { isTTY, columns, written: [], clock: { ms: 0 }, write(text: string) { this.written.push(text); } };
}

/** The lines as a terminal shows them: split at carriage returns and newlines, without the erase-line codes. */
function shown(written: readonly string[]): string[] {
  return written.join('').replace(/\x1b\[K/g, '').split(/[\r\n]/).filter((l) => l.length > 0);
}

/** Fields as a long run has them: every field present, wide values. */
const WIDE: ProgressFields = {
  step: 1_234_567, done: 0.4321, etaSeconds: 3 * 3600 + 7 * 60, epoch: 12.34, loss: 12.3456, val: 11.111,
  rate: 1_234_567, gradNorm: 0.000123, lr: 1.5e-10,
};

function progressOn(stream: ReturnType<typeof fake>, plainEvery = 30): Progress {
  return new Progress({ unit: 'bpc', rateUnit: 'tok/s', stream, plainEvery, now: () => stream.clock.ms });
}

describe('Progress', () => {
  for (const columns of [80, 60]) {
    test(`on a terminal of ${columns} columns: every line fits and starts with the ETA`, () => {
      const stream = fake(true, columns);
      const p = progressOn(stream);
      for (let i = 0; i <= 50; i++) {
        stream.clock.ms = 250 * i;
        const eta = i === 0 ? null : 50 - i;
        p.update(i % 2 ? WIDE : { step: i, done: i / 50, etaSeconds: eta, loss: 3 / (i + 1), val: i > 10 ? 2.5 : null });
        if (i % 10 === 5) p.note(`update ${i}: validation ${'x'.repeat(100)}`);
      }
      p.stop();
      const lines = shown(stream.written).filter((l) => !l.startsWith('update '));
      assert.ok(lines.length >= 50, `${lines.length} lines drawn`);
      for (const line of lines) {
        assert.ok(line.length <= columns, `${line.length} > ${columns}: ${line}`);
        assert.match(line, /^ETA (\?|\d)/);
      }
      assert.ok(lines.some((l) => l.includes('step 1234567') && l.includes('loss 12.346')), 'the wide fields that fit');
      assert.ok(stream.written.join('').endsWith('\n'), 'stop() leaves the line');
    });
  }

  test('fields are dropped least useful first, the ETA kept at any width', () => {
    const fields: ProgressFields = {
      step: 1200, done: 0.5, etaSeconds: 65, epoch: 1.5, loss: 2.5, val: 2.25, rate: 12_000, gradNorm: 0.5, lr: 1e-3,
    };
    const o = { unit: 'bpc', rateUnit: 'tok/s' };
    const full = progressLine(fields, o, 200, false);
    const most = 'ETA 1m05s  50%  step 1200  loss 2.500  val 2.250 bpc  12k tok/s  |g| 0.5';
    assert.equal(full, `${most}  lr 1.0e-3  epoch 1.50`);
    assert.equal(progressLine(fields, o, 90, false), `${most}  lr 1.0e-3`);
    assert.equal(progressLine(fields, o, 79, false), most);
    assert.match(progressLine(fields, o, 120, true), /^ETA 1m05s +50% +\[#+-+\] +step 1200 /, 'a bar where there is room');
    assert.equal(progressLine(fields, o, 12, false), 'ETA 1m05s');
    assert.equal(progressLine(fields, o, 5, false), 'ETA 1');
  });

  test('plain mode (not a terminal): a line every plainEvery seconds, at most 80 characters', () => {
    const stream = fake(false);
    const p = progressOn(stream, 30);
    for (let s = 0; s <= 100; s++) {
      stream.clock.ms = 1000 * s;
      p.update({ ...WIDE, step: s });
    }
    p.note('a note');
    p.stop();
    const lines = stream.written.join('').split('\n').slice(0, -1);
    assert.deepEqual(lines.map((l) => /step (\d+)/.exec(l)?.[1] ?? l), ['0', '30', '60', '90', 'a note']);
    for (const line of lines) assert.ok(line.length <= 80, `${line.length}: ${line}`);
    assert.ok(!stream.written.join('').includes('\r'), 'nothing redrawn in place');
  });

  test('quiet: not a byte written, on a terminal or not', () => {
    for (const isTTY of [true, false]) {
      const stream = fake(isTTY, 80);
      const p = new Progress({ quiet: true, unit: 'bpc', stream, now: () => stream.clock.ms });
      for (let i = 0; i < 10; i++) (stream.clock.ms += 1000), p.update(WIDE);
      p.note('validation');
      p.stop();
      assert.deepEqual(stream.written, []);
    }
  });
});
