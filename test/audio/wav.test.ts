import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeWav, encodeWav, resample, toMono } from '../../src/audio/index.js';
import { powerSpectrum } from '../../src/audio/fft.js';
import { ConfigError, DataError } from '../../src/tensor/index.js';

const tone = (hz: number, rate: number, n: number, amp = 0.5) => Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));
const ramp = (n: number) => Float32Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));
const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);

/** A mono 16-bit file with 100 samples: fmt body at 20, data header at 36, data at 44. */
const plain = () => encodeWav([tone(440, 8000, 100)], 8000);
const patch = (bytes: Uint8Array, f: (v: DataView) => void) => { f(new DataView(bytes.buffer)); return bytes; };
const rejects = (bytes: Uint8Array, message: RegExp) =>
  assert.throws(() => decodeWav(bytes, "WAV 'x.wav'"), (e: Error) => e instanceof DataError && e.message.startsWith("WAV 'x.wav': expected") && message.test(e.message));

describe('encodeWav / decodeWav round trips', () => {
  for (const [format, bits, tol] of [['pcm', 8, 1 / 128], ['pcm', 16, 1 / 32768], ['pcm', 24, 1 / 8388608], ['pcm', 32, 1e-7], ['float', 32, 0], ['float', 64, 0]] as const) {
    test(`${format} ${bits}-bit stereo keeps rate, channels and samples (within one quantisation step)`, () => {
      const left = ramp(257), right = tone(1000, 22050, 257, 0.9);
      const wav = decodeWav(encodeWav([left, right], 22050, { format, bits }));
      assert.equal(wav.sampleRate, 22050);
      assert.equal(wav.channels, 2);
      assert.equal(wav.samples[0]!.length, 257);
      assert.ok(maxAbsDiff(wav.samples[0]!, left) <= tol * 1.01, `left error ${maxAbsDiff(wav.samples[0]!, left)}`);
      assert.ok(maxAbsDiff(wav.samples[1]!, right) <= tol * 1.01, `right error ${maxAbsDiff(wav.samples[1]!, right)}`);
    });
  }

  test('PCM extremes map to -1 and just under 1; out-of-range input is clipped', () => {
    const wav = decodeWav(encodeWav([Float32Array.of(-1, 1, -2, 2, 0)], 16000, { bits: 24 }));
    assert.deepEqual(Array.from(wav.samples[0]!), [-1, 8388607 / 8388608, -1, 8388607 / 8388608, 0]);
    const u8 = encodeWav([Float32Array.of(0)], 16000, { bits: 8 });
    assert.equal(u8[44], 128, '8-bit PCM is unsigned with silence at 128');
  });

  test('WAVE_FORMAT_EXTENSIBLE headers (PCM 16-bit and float 32-bit) decode', () => {
    const x = tone(300, 48000, 64);
    const pcm = encodeWav([x, x, x], 48000, { extensible: true });
    assert.equal(new DataView(pcm.buffer).getUint16(20, true), 0xfffe);
    const a = decodeWav(pcm);
    assert.equal(a.channels, 3);
    assert.ok(maxAbsDiff(a.samples[2]!, x) < 1e-4);
    const f = decodeWav(encodeWav([x], 48000, { format: 'float', extensible: true }));
    assert.deepEqual(f.samples[0], x);
  });

  test('unknown chunks are skipped, including the pad byte of an odd-sized chunk', () => {
    const base = plain();
    const list = Uint8Array.of(0x4c, 0x49, 0x53, 0x54, 3, 0, 0, 0, 1, 2, 3, 0); // 'LIST', size 3, body, pad
    const bytes = new Uint8Array(base.length + list.length);
    bytes.set(base.subarray(0, 12));
    bytes.set(list, 12);
    bytes.set(base.subarray(12), 24);
    assert.deepEqual(decodeWav(bytes).samples[0], decodeWav(base).samples[0]);
  });
});

describe('malformed WAV is a DataError with the reason', () => {
  test('not RIFF/WAVE, or shorter than a header', () => {
    rejects(patch(plain(), (v) => v.setUint8(3, 0x58)), /'RIFF' \.\.\. 'WAVE' magic, got 'RIFX'.*not a WAV file/);
    rejects(new TextEncoder().encode('RIFF\0\0\0\0AVI LIST'), /got 'RIFF' \.\.\. 'AVI '/);
    rejects(Uint8Array.of(0x52, 0x49), /12 bytes, got 2 bytes/);
  });

  test('missing fmt or data chunk', () => {
    rejects(plain().subarray(0, 36), /a 'data' chunk, got none/);
    const noFmt = plain();
    noFmt.copyWithin(12, 36); // drop the fmt chunk: data follows the header directly
    rejects(noFmt.subarray(0, noFmt.length - 24), /'fmt ' chunk before the 'data' chunk/);
    const renamed = patch(plain(), (v) => v.setUint8(12, 0x78)); // 'xmt ' is unknown, so fmt is missing
    rejects(renamed, /'fmt ' chunk before the 'data' chunk/);
  });

  test('unsupported format, bit depth or extensible subformat', () => {
    rejects(patch(plain(), (v) => v.setUint16(20, 2, true)), /PCM \(1\) or IEEE float \(3\) format, got 2.*compressed/);
    rejects(patch(plain(), (v) => v.setUint16(34, 12, true)), /PCM bit depth 8\/16\/24\/32, got 12/);
    rejects(patch(encodeWav([Float32Array.of(0)], 8000, { format: 'float' }), (v) => v.setUint16(34, 16, true)), /float bit depth 32\/64, got 16/);
    rejects(patch(encodeWav([Float32Array.of(0)], 8000, { extensible: true }), (v) => v.setUint8(50, 0x11)), /KSDATAFORMAT subformat GUID/);
  });

  test('zero channels, a rate below 1 kHz, inconsistent block align', () => {
    rejects(patch(plain(), (v) => v.setUint16(22, 0, true)), /at least one channel, got 0/);
    for (const rate of [0, 1, 999]) {
      rejects(patch(plain(), (v) => v.setUint32(24, rate, true)),
        new RegExp(`a sample rate of at least 1000 Hz, got ${rate} Hz$`));
    }
    assert.equal(decodeWav(patch(plain(), (v) => v.setUint32(24, 1000, true))).sampleRate, 1000);
    rejects(patch(plain(), (v) => v.setUint16(32, 4, true)), /block align 2 \(channels × bytes per sample\), got 4/);
  });

  test('truncated data and lying headers report the byte counts', () => {
    rejects(plain().subarray(0, 44 + 150), /'data' chunk of 200 bytes as its header says, got 150 bytes \(file truncated\)/);
    rejects(patch(plain(), (v) => v.setUint32(40, 1_000_000, true)), /'data' chunk of 1000000 bytes as its header says, got 200 bytes/);
    rejects(patch(plain(), (v) => v.setUint32(16, 5000, true)), /'fmt ' chunk of 5000 bytes as its header says, got \d+ bytes/);
    rejects(patch(plain(), (v) => v.setUint32(40, 199, true)), /multiple of the block size 2, got 199/);
  });
});

describe('toMono and resample', () => {
  test('toMono averages channels', () => {
    assert.deepEqual(Array.from(toMono([Float32Array.of(1, 0.5), Float32Array.of(0, -0.5)])), [0.5, 0]);
  });

  const peakBin = (x: Float32Array, nfft: number) => {
    const p = powerSpectrum(x.subarray(0, nfft), nfft);
    return p.indexOf(Math.max(...p));
  };
  const rms = (x: Float32Array, from: number, to: number) => Math.sqrt(x.subarray(from, to).reduce((s, v) => s + v * v, 0) / (to - from));

  for (const [from, to] of [[44100, 16000], [8000, 16000], [48000, 16000]] as const) {
    test(`a 1 kHz tone resampled ${from} → ${to} Hz keeps its frequency and amplitude`, () => {
      const y = resample(tone(1000, from, from), from, to); // one second
      assert.equal(y.length, to);
      assert.equal(peakBin(y.subarray(2000), 4096), Math.round((1000 * 4096) / to));
      const expectedRms = 0.5 / Math.SQRT2;
      assert.ok(Math.abs(rms(y, 1000, to - 1000) / expectedRms - 1) < 0.01, `rms ${rms(y, 1000, to - 1000)}`);
    });
  }

  test('upsampling by more than 16× is a ConfigError, an output past 2²⁸ samples a DataError, '
    + 'before either is computed', () => {
    assert.throws(() => resample(new Float32Array(10), 1, 16000), (e) => e instanceof ConfigError
      && e.message === 'resample: expected upsampling by at most 16×, got 1 Hz to 16000 Hz');
    assert.equal(resample(new Float32Array(10), 1000, 16000).length, 160);
    assert.throws(() => resample(new Float32Array(2 ** 24 + 1), 1000, 16000), (e) => e instanceof DataError
      && new RegExp('^resample: expected at most 268435456 output samples, '
        + 'got 16777217 samples at 1000 Hz to 16000 Hz$').test(e.message));
  });

  test('downsampling attenuates a tone above the new Nyquist by > 60 dB, keeps one at 0.85 × Nyquist', () => {
    for (const hz of [8400, 10000, 15000]) {
      const alias = resample(tone(hz, 44100, 44100), 44100, 16000);
      assert.ok(rms(alias, 1000, 15000) < (0.5 / Math.SQRT2) * 1e-3, `${hz} Hz aliased rms ${rms(alias, 1000, 15000)}`);
    }
    const near = resample(tone(6800, 44100, 44100), 44100, 16000);
    assert.ok(Math.abs(rms(near, 1000, 15000) / (0.5 / Math.SQRT2) - 1) < 0.02, `near-Nyquist rms ${rms(near, 1000, 15000)}`);
  });
});
