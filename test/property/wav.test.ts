/** Property tests of the WAV reader: encode → decode round trips, and lying or damaged headers give a value or a DataError. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeWav, encodeWav, type Wav } from '../../src/audio/wav.js';
import { defaultSpeechFeatures, wavInput } from '../../src/tasks/speech/features.js';
import { RUNS, applyDamage, bytesWithPrefix, damage, valueOrBpttError } from './arbitraries.js';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A format, and channels of whole quantisation steps of it (so PCM round trips exactly too). */
const layout = fc.record({
  format: fc.constantFrom('pcm' as const, 'float' as const),
  pcmBits: fc.constantFrom(8, 16, 24),
  floatBits: fc.constantFrom(32, 64),
  extensible: fc.boolean(),
  channels: fc.integer({ min: 1, max: 3 }),
  frames: fc.nat({ max: 40 }),
  sampleRate: fc.integer({ min: 1000, max: 200_000 }), // the reader refuses lower rates
});

function signal(l: { format: 'pcm' | 'float'; pcmBits: number; channels: number; frames: number }): fc.Arbitrary<Float32Array[]> {
  const full = 2 ** (l.pcmBits - 1);
  const sample = l.format === 'pcm'
    ? fc.integer({ min: -full, max: full - 1 }).map((k) => k / full)
    : fc.float({ min: -1, max: 1, noNaN: true });
  return fc.array(fc.array(sample, { minLength: l.frames, maxLength: l.frames }).map((a) => Float32Array.from(a)), { minLength: l.channels, maxLength: l.channels });
}

const wavFile = layout.chain((l) => signal(l).map((samples) => ({ l, samples })));

function wellFormed(w: Wav): void {
  assert.ok(w.channels >= 1 && w.sampleRate >= 1);
  assert.equal(w.samples.length, w.channels);
  for (const c of w.samples) assert.equal(c.length, w.samples[0]!.length);
}

describe('WAV properties', () => {
  test('encode then decode gives the samples back exactly (PCM 8/16/24 on its grid, float 32/64, plain and extensible)', () => {
    fc.assert(fc.property(wavFile, ({ l, samples }) => {
      const bits = l.format === 'pcm' ? l.pcmBits : l.floatBits;
      const w = decodeWav(encodeWav(samples, l.sampleRate, { format: l.format, bits, extensible: l.extensible }));
      assert.equal(w.sampleRate, l.sampleRate);
      assert.equal(w.channels, l.channels);
      w.samples.forEach((c, i) => assert.deepEqual([...c], [...samples[i]!]));
    }), RUNS);
  });

  test('32-bit PCM: decoding what was encoded is within half a quantisation step', () => {
    fc.assert(fc.property(fc.array(fc.float({ min: -1, max: 1, noNaN: true }), { maxLength: 50 }), (xs) => {
      const w = decodeWav(encodeWav([Float32Array.from(xs)], 8000, { bits: 32 }));
      w.samples[0]!.forEach((y, i) => assert.ok(Math.abs(y - Math.min(xs[i]!, 1 - 2 ** -31)) <= 2 ** -31 + 1e-7, `${xs[i]} -> ${y}`));
    }), RUNS);
  });

  test('a damaged file (truncated, flipped bytes, spliced, a size field overwritten) gives a well-formed value or a BpttError', () => {
    fc.assert(fc.property(wavFile, damage, ({ l, samples }, d) => {
      const bytes = encodeWav(samples, l.sampleRate, { format: l.format, bits: l.format === 'pcm' ? l.pcmBits : l.floatBits, extensible: l.extensible });
      valueOrBpttError(() => decodeWav(applyDamage(bytes, d)), wellFormed);
    }), { numRuns: 400 });
  });

  test('a header that lies (fmt fields, chunk sizes) gives a value or a BpttError', () => {
    const lie = fc.record({
      format: fc.constantFrom(0, 1, 2, 3, 0xfffe, 0xffff),
      channels: fc.constantFrom(0, 1, 2, 0xffff),
      rate: fc.constantFrom(0, 1, 999, 1000, 44100, 0xffffffff),
      align: fc.nat({ max: 0xffff }),
      bits: fc.constantFrom(0, 1, 8, 12, 16, 24, 32, 64, 0xffff),
      fmtSize: fc.constantFrom(0, 15, 16, 18, 40, 0xffffffff),
      dataSize: fc.oneof(fc.nat({ max: 64 }), fc.constant(0xffffffff)),
      data: fc.uint8Array({ maxLength: 64 }),
    });
    fc.assert(fc.property(lie, (h) => {
      const fmt = new Uint8Array(40);
      const v = new DataView(fmt.buffer);
      v.setUint16(0, h.format, true); v.setUint16(2, h.channels, true); v.setUint32(4, h.rate, true);
      v.setUint16(12, h.align, true); v.setUint16(14, h.bits, true); v.setUint16(24, 1, true);
      const u32 = (x: number): number[] => [x & 255, (x >>> 8) & 255, (x >>> 16) & 255, x >>> 24];
      const bytes = Uint8Array.from([...ascii('RIFF'), 0, 0, 0, 0, ...ascii('WAVE'), ...ascii('fmt '), ...u32(h.fmtSize), ...fmt.subarray(0, Math.min(40, h.fmtSize)),
        ...ascii('data'), ...u32(h.dataSize), ...h.data]);
      valueOrBpttError(() => decodeWav(bytes), wellFormed);
    }), { numRuns: 400 });
  });

  test('the speech input of a WAV at any rate, of any float samples (NaN, ±Infinity), '
    + 'is a value or a BpttError', () => {
    const any = fc.record({
      rate: fc.oneof(
        fc.constantFrom(0, 1, 999, 1000, 8000, 16000, 44100, 0xffffffff),
        fc.integer({ min: 0, max: 48_000 }),
      ),
      samples: fc.float32Array({ minLength: 1200, maxLength: 4000 }), // a 25 ms frame at up to 48 kHz
    });
    fc.assert(fc.property(any, ({ rate, samples }) => {
      const bytes = encodeWav([samples], 8000, { format: 'float' });
      // A 1 Hz file was resampled 16,000×: minutes, or a RangeError.
      new DataView(bytes.buffer).setUint32(24, rate, true);
      valueOrBpttError(() => wavInput(bytes, defaultSpeechFeatures, 'any.wav'));
    }), RUNS);
  });

  test('arbitrary bytes (some with a RIFF/WAVE start) give a value or a BpttError', () => {
    fc.assert(fc.property(bytesWithPrefix(Uint8Array.from([...ascii('RIFF'), 0, 0, 0, 0, ...ascii('WAVE')])), (bytes) => {
      valueOrBpttError(() => decodeWav(bytes), wellFormed);
    }), RUNS);
  });
});
