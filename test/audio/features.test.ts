import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  audioFeatures, dct2, deltas, fft, frameSignal, hzToMel, makeWindow, melFilterbank, melToHz, normalise, powerSpectrum, preEmphasis,
} from '../../src/audio/index.js';
import { ConfigError, DataError, Rng } from '../../src/tensor/index.js';

const tone = (hz: number, rate: number, n: number, amp = 0.5) => Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / rate));

describe('FFT and power spectrum', () => {
  test('fft matches a naive DFT on random complex input', () => {
    const rng = new Rng(7);
    for (const n of [1, 2, 8, 64, 512]) {
      const re = Float64Array.from({ length: n }, () => rng.normal());
      const im = Float64Array.from({ length: n }, () => rng.normal());
      const [r0, i0] = [re.slice(), im.slice()];
      fft(re, im);
      for (let k = 0; k < n; k++) {
        let sr = 0, si = 0;
        for (let t = 0; t < n; t++) {
          const a = (-2 * Math.PI * k * t) / n;
          sr += r0[t]! * Math.cos(a) - i0[t]! * Math.sin(a);
          si += r0[t]! * Math.sin(a) + i0[t]! * Math.cos(a);
        }
        assert.ok(Math.abs(re[k]! - sr) < 1e-9 * n && Math.abs(im[k]! - si) < 1e-9 * n, `n=${n} k=${k}: ${re[k]},${im[k]} vs ${sr},${si}`);
      }
    }
    assert.throws(() => fft(new Float64Array(6), new Float64Array(6)), ConfigError);
  });

  test("a 1 kHz tone's power spectrum peaks at bin 1000·nfft/16000, with Parseval's energy", () => {
    const x = tone(1000, 16000, 512);
    const p = powerSpectrum(x);
    assert.equal(p.length, 257);
    assert.equal(p.indexOf(Math.max(...p)), 32);
    // a bin-centred tone: all energy in bin 32 (and its mirror), |X|²/n = n·A²/4
    assert.ok(Math.abs(p[32]! / ((512 * 0.25) / 4) - 1) < 1e-5, `peak ${p[32]}`);
    assert.ok(p[31]! < 1e-8 && p[33]! < 1e-8);
    // a 400-sample frame is zero-padded to 512 and still peaks at the nearest bin
    const q = powerSpectrum(tone(1000, 16000, 400));
    assert.equal(q.indexOf(Math.max(...q)), 32);
  });
});

describe('mel filterbank', () => {
  test('HTK mel formula: 1000 Hz ≈ 1000 mel, and melToHz inverts hzToMel', () => {
    assert.ok(Math.abs(hzToMel(1000) - 999.99) < 0.05, `${hzToMel(1000)}`);
    for (const hz of [0, 123, 4000, 8000]) assert.ok(Math.abs(melToHz(hzToMel(hz)) - hz) < 1e-6);
  });

  test('triangles peak at 1 at their centres, centres increase evenly in mel, filters cover the range', () => {
    const nfft = 1 << 15, sampleRate = 16000;
    const { centresHz, weights } = melFilterbank({ nMels: 40, nfft, sampleRate, lowHz: 0, highHz: 8000 });
    assert.equal(weights.length, 40);
    assert.equal(weights[0]!.length, nfft / 2 + 1);
    const step = hzToMel(8000) / 41;
    centresHz.forEach((c, m) => {
      assert.ok(Math.abs(hzToMel(c) - step * (m + 1)) < 1e-6, `centre ${m} at ${hzToMel(c)} mel`);
      const w = weights[m]!;
      const peak = w.indexOf(Math.max(...w));
      assert.ok(Math.abs((peak * sampleRate) / nfft - c) <= sampleRate / nfft, `filter ${m} peaks at bin ${peak}, centre ${c} Hz`);
      assert.ok(w[peak]! > 0.99 && w[peak]! <= 1);
    });
    // between the first and last centre the triangles sum to 1; outside [0, 8000] nothing
    for (let k = 0; k < nfft / 2 + 1; k += 97) {
      const f = (k * sampleRate) / nfft;
      const sum = weights.reduce((s, w) => s + w[k]!, 0);
      if (f >= centresHz[0]! && f <= centresHz[39]!) assert.ok(Math.abs(sum - 1) < 1e-5, `sum ${sum} at ${f} Hz`);
      else assert.ok(sum <= 1 + 1e-6);
    }
    const narrow = melFilterbank({ nMels: 10, nfft: 512, sampleRate, lowHz: 300, highHz: 3400 });
    assert.ok(narrow.weights.every((w) => w.slice(0, Math.floor((300 * 512) / 16000)).every((x) => x === 0)), 'nothing below lowHz');
    assert.throws(() => melFilterbank({ nMels: 10, nfft: 512, sampleRate, lowHz: 0, highHz: 9000 }), ConfigError);
  });
});

describe('DCT, MFCC, deltas, normalisation', () => {
  test('the DCT-II is orthonormal: its matrix times its transpose is the identity', () => {
    const n = 16;
    const rows = Array.from({ length: n }, (_, i) => dct2(Float64Array.from({ length: n }, (_, j) => (i === j ? 1 : 0))));
    for (let a = 0; a < n; a++) {
      for (let b = 0; b < n; b++) {
        const dot = rows.reduce((s, r) => s + r[a]! * r[b]!, 0);
        assert.ok(Math.abs(dot - (a === b ? 1 : 0)) < 1e-12, `(${a},${b}) = ${dot}`);
      }
    }
  });

  test('MFCC of a constant log-mel vector is c0 = √n·value and zero elsewhere', () => {
    const c = dct2(new Float64Array(40).fill(-3), 13);
    assert.ok(Math.abs(c[0]! - -3 * Math.sqrt(40)) < 1e-10);
    for (let k = 1; k < 13; k++) assert.ok(Math.abs(c[k]!) < 1e-10, `c${k} = ${c[k]}`);
  });

  test('log-mel of white noise (a flat spectrum) matches the expected band energies σ²·Σw²·Σ_k H_mk / nfft', () => {
    const rng = new Rng(3), sigma = 0.1;
    const x = Float32Array.from({ length: 160000 }, () => rng.normal() * sigma);
    const f = audioFeatures(x, 16000, { kind: 'logmel', deltas: false, normalise: false, preEmphasis: 0 });
    const bank = melFilterbank({ nMels: 40, nfft: 512, sampleRate: 16000, lowHz: 0, highHz: 8000 }).weights;
    const windowEnergy = makeWindow('hamming', 400).reduce((s, w) => s + w * w, 0);
    bank.forEach((h, m) => {
      const expectedEnergy = (sigma ** 2 * windowEnergy * h.reduce((s, w) => s + w, 0)) / 512;
      let mean = 0;
      for (let t = 0; t < f.frames; t++) mean += Math.exp(f.data[t * 40 + m]!) / f.frames;
      assert.ok(Math.abs(mean / expectedEnergy - 1) < 0.1, `band ${m}: ${mean} vs ${expectedEnergy}`);
    });
  });

  test('deltas of a linear ramp equal its slope (edges replicated shrink it at the ends)', () => {
    const frames = 10, dim = 2;
    const data = Float32Array.from({ length: frames * dim }, (_, i) => (i % 2 === 0 ? 3 * Math.floor(i / 2) : 5));
    const d = deltas(data, frames, dim);
    for (let t = 2; t < frames - 2; t++) {
      assert.ok(Math.abs(d[t * 2]! - 3) < 1e-6, `slope at ${t}: ${d[t * 2]}`);
      assert.equal(d[t * 2 + 1], 0);
    }
    assert.ok(Math.abs(d[0]! - (3 * (1 + 2 * 2)) / 10) < 1e-6, 'first frame: (1·1 + 2·2)·3 / 10');
  });

  test('normalisation gives mean 0 and variance 1 per dimension; a constant dimension becomes 0', () => {
    const rng = new Rng(1);
    const frames = 50, dim = 3;
    const data = Float32Array.from({ length: frames * dim }, (_, i) => (i % 3 === 2 ? 7 : 10 + 4 * rng.normal() * (1 + (i % 3))));
    normalise(data, frames, dim);
    for (let j = 0; j < dim; j++) {
      const col = Array.from({ length: frames }, (_, t) => data[t * dim + j]!);
      const m = col.reduce((a, b) => a + b, 0) / frames;
      const v = col.reduce((a, b) => a + (b - m) ** 2, 0) / frames;
      assert.ok(Math.abs(m) < 1e-5, `mean ${m}`);
      assert.ok(Math.abs(v - (j === 2 ? 0 : 1)) < 1e-4, `variance ${v}`);
    }
  });
});

describe('framing and audioFeatures', () => {
  test('pre-emphasis, windows and framing follow their formulas', () => {
    assert.deepEqual(Array.from(preEmphasis(Float32Array.of(1, 1, 2), 0.5)), [1, 0.5, 1.5]);
    const h = makeWindow('hamming', 5);
    assert.ok(Math.abs(h[0]! - 0.08) < 1e-6 && Math.abs(h[2]! - 1) < 1e-6);
    assert.deepEqual(Array.from(makeWindow('hann', 3)), [0, 1, 0]);
    const f = frameSignal(Float32Array.from({ length: 10 }, (_, i) => i), 4, 3);
    assert.equal(f.frames, 3);
    assert.deepEqual(Array.from(f.data.subarray(4, 8)), [3, 4, 5, 6]);
    assert.throws(() => frameSignal(new Float32Array(3), 4, 1), DataError);
  });

  test('one second at 16 kHz: 98 frames of 39 MFCC+Δ+ΔΔ, or 40 log-mels; stereo 44.1 kHz is mixed and resampled', () => {
    const x = tone(1000, 16000, 16000);
    const m = audioFeatures(x, 16000);
    assert.deepEqual([m.frames, m.dim, m.data.length], [98, 39, 98 * 39]);
    assert.ok(m.data.every(Number.isFinite));
    const lm = audioFeatures(x, 16000, { kind: 'logmel', deltas: false, normalise: false });
    assert.equal(lm.dim, 40);
    // the mel band holding 1 kHz is the loudest
    const bank = melFilterbank({ nMels: 40, nfft: 512, sampleRate: 16000, lowHz: 0, highHz: 8000 });
    const row = Array.from(lm.data.subarray(40 * 50, 40 * 51));
    const loudest = row.indexOf(Math.max(...row));
    assert.ok(Math.abs(bank.centresHz[loudest]! - 1000) < 100, `loudest band centred at ${bank.centresHz[loudest]} Hz`);
    const stereo = audioFeatures([tone(1000, 44100, 44100), tone(1000, 44100, 44100)], 44100, { kind: 'logmel', deltas: false, normalise: false });
    assert.equal(stereo.frames, 98);
    const row2 = Array.from(stereo.data.subarray(40 * 50, 40 * 51));
    assert.equal(row2.indexOf(Math.max(...row2)), loudest);
  });

  test('silence stays finite thanks to the log floor; bad options are ConfigErrors', () => {
    const s = audioFeatures(new Float32Array(8000), 16000, { kind: 'logmel', deltas: false, normalise: false });
    assert.ok(s.data.every((v) => Math.abs(v - Math.log(1e-10)) < 1e-3));
    assert.throws(() => audioFeatures(new Float32Array(8000), 16000, { nCoeffs: 50 }), ConfigError);
    assert.throws(() => audioFeatures(new Float32Array(8000), 16000, { kind: 'logmel', nCoeffs: 13 }), ConfigError);
    assert.throws(() => audioFeatures(new Float32Array(8000), 16000, { hopSize: 3 } as never), /options: expected .*got 'hopSize'/);
    assert.throws(() => audioFeatures(new Float32Array(100), 16000), DataError);
  });
});
