/**
 * WAV (RIFF/WAVE) decoding and encoding. Browser-safe: takes and returns bytes.
 * Supported: PCM (format 1) 8-bit unsigned, 16/24/32-bit signed; IEEE float (format 3)
 * 32/64-bit; WAVE_FORMAT_EXTENSIBLE (0xFFFE) wrapping either; rates of 1 kHz and up.
 * Anything else is a DataError.
 */
import { ConfigError, DataError, expected } from '../tensor/index.js';

export interface Wav {
  sampleRate: number;
  channels: number;
  /** One array per channel, samples scaled to [-1, 1]. */
  samples: Float32Array[];
}

const PCM = 1;
const FLOAT = 3;
const EXTENSIBLE = 0xfffe;
/** Below any audio format in use (telephony is 8 kHz); 1 Hz would be resampled 16,000× to the model's 16 kHz. */
const MIN_SAMPLE_RATE = 1000;

interface Format { format: number; channels: number; sampleRate: number; blockAlign: number; bits: number }

function fourcc(v: DataView, at: number): string {
  return String.fromCharCode(v.getUint8(at), v.getUint8(at + 1), v.getUint8(at + 2), v.getUint8(at + 3));
}

/** Decodes a WAV file; every malformed or truncated input is a DataError naming `where`. */
export function decodeWav(bytes: Uint8Array, where = 'WAV'): Wav {
  const fail = (what: string, got: unknown, hint?: string) => new DataError(expected(where, what, got, hint));
  if (bytes.length < 12) throw fail('a RIFF/WAVE header of 12 bytes', `${bytes.length} bytes`, 'file truncated');
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (fourcc(v, 0) !== 'RIFF' || fourcc(v, 8) !== 'WAVE') throw fail("'RIFF' ... 'WAVE' magic", `'${fourcc(v, 0)}' ... '${fourcc(v, 8)}'`, 'not a WAV file');
  let fmt: Format | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = fourcc(v, at);
    const size = v.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'data') {
      if (!fmt) throw fail("a 'fmt ' chunk before the 'data' chunk", "'data' first");
      if (body + size > bytes.length) {
        throw fail(`a 'data' chunk of ${size} bytes as its header says`, `${bytes.length - body} bytes`, 'file truncated');
      }
      if (size % fmt.blockAlign !== 0) throw fail(`'data' size a multiple of the block size ${fmt.blockAlign}`, size);
      return { sampleRate: fmt.sampleRate, channels: fmt.channels, samples: readSamples(v, body, size / fmt.blockAlign, fmt) };
    }
    if (body + size > bytes.length) throw fail(`a '${id}' chunk of ${size} bytes as its header says`, `${bytes.length - body} bytes`, 'file truncated');
    if (id === 'fmt ') fmt = readFormat(v, body, size, fail);
    at = body + size + (size & 1); // chunks are padded to even length
  }
  throw fail(fmt ? "a 'data' chunk" : "a 'fmt ' chunk", 'none', 'file truncated or not audio');
}

function readFormat(v: DataView, at: number, size: number, fail: (what: string, got: unknown, hint?: string) => DataError): Format {
  if (size < 16) throw fail("a 'fmt ' chunk of at least 16 bytes", size);
  let format = v.getUint16(at, true);
  const channels = v.getUint16(at + 2, true);
  const sampleRate = v.getUint32(at + 4, true);
  const blockAlign = v.getUint16(at + 12, true);
  const bits = v.getUint16(at + 14, true);
  if (format === EXTENSIBLE) {
    if (size < 40) throw fail('an extensible \'fmt \' chunk of 40 bytes', size);
    format = v.getUint16(at + 24, true); // first two bytes of the subformat GUID are the format code
    const tail = Array.from({ length: 14 }, (_, i) => v.getUint8(at + 26 + i));
    const KSDATAFORMAT = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
    if (tail.some((b, i) => b !== KSDATAFORMAT[i])) throw fail('a standard KSDATAFORMAT subformat GUID', 'an unknown GUID');
  }
  if (format !== PCM && format !== FLOAT) throw fail('PCM (1) or IEEE float (3) format', format, 'compressed WAV is not supported');
  const depths = format === PCM ? [8, 16, 24, 32] : [32, 64];
  if (!depths.includes(bits)) throw fail(`${format === PCM ? 'PCM' : 'float'} bit depth ${depths.join('/')}`, bits);
  if (channels === 0) throw fail('at least one channel', 0);
  if (sampleRate < MIN_SAMPLE_RATE) throw fail(`a sample rate of at least ${MIN_SAMPLE_RATE} Hz`, `${sampleRate} Hz`);
  if (blockAlign !== channels * (bits / 8)) throw fail(`block align ${channels * (bits / 8)} (channels × bytes per sample)`, blockAlign);
  return { format, channels, sampleRate, blockAlign, bits };
}

function readSamples(v: DataView, at: number, frames: number, f: Format): Float32Array[] {
  const out = Array.from({ length: f.channels }, () => new Float32Array(frames));
  const width = f.bits / 8;
  const read = sampleReader(v, f);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < f.channels; c++) out[c]![i] = read(at + (i * f.channels + c) * width);
  }
  return out;
}

function sampleReader(v: DataView, f: Format): (at: number) => number {
  if (f.format === FLOAT) return f.bits === 32 ? (at) => v.getFloat32(at, true) : (at) => v.getFloat64(at, true);
  switch (f.bits) {
    case 8: return (at) => (v.getUint8(at) - 128) / 128;
    case 16: return (at) => v.getInt16(at, true) / 32768;
    case 24: return (at) => (((v.getUint8(at + 2) << 24) | (v.getUint8(at + 1) << 16) | (v.getUint8(at) << 8)) >> 8) / 8388608;
    default: return (at) => v.getInt32(at, true) / 2147483648;
  }
}

export interface EncodeOptions {
  /** 'pcm' (integer, default) or 'float'. */
  format?: 'pcm' | 'float';
  /** 8/16/24/32 for PCM (default 16), 32/64 for float (default 32). */
  bits?: number;
  /** Write a WAVE_FORMAT_EXTENSIBLE header (default false). */
  extensible?: boolean;
}

/** Encodes channels (equal lengths, values in [-1, 1], clipped) as a WAV file. */
export function encodeWav(samples: Float32Array[], sampleRate: number, options: EncodeOptions = {}): Uint8Array {
  const format = options.format ?? 'pcm';
  const bits = options.bits ?? (format === 'pcm' ? 16 : 32);
  const depths = format === 'pcm' ? [8, 16, 24, 32] : [32, 64];
  if (format !== 'pcm' && format !== 'float') throw new ConfigError(expected('encodeWav: format', "'pcm' or 'float'", format));
  if (!depths.includes(bits)) throw new ConfigError(expected(`encodeWav: bits for ${format}`, depths.join('/'), bits));
  const channels = samples.length;
  if (channels === 0) throw new ConfigError(expected('encodeWav', 'at least one channel', 0));
  const frames = samples[0]!.length;
  if (samples.some((c) => c.length !== frames)) throw new ConfigError(expected('encodeWav', `channels of equal length ${frames}`, samples.map((c) => c.length)));
  if (!Number.isInteger(sampleRate) || sampleRate < 1) throw new ConfigError(expected('encodeWav: sampleRate', 'a positive integer', sampleRate));
  const width = bits / 8;
  const fmtSize = options.extensible ? 40 : 16;
  const dataSize = frames * channels * width;
  const bytes = new Uint8Array(12 + 8 + fmtSize + 8 + dataSize);
  const v = new DataView(bytes.buffer);
  const tag = (at: number, s: string) => { for (let i = 0; i < 4; i++) v.setUint8(at + i, s.charCodeAt(i)); };
  tag(0, 'RIFF'); v.setUint32(4, bytes.length - 8, true); tag(8, 'WAVE');
  tag(12, 'fmt '); v.setUint32(16, fmtSize, true);
  const code = format === 'pcm' ? PCM : FLOAT;
  v.setUint16(20, options.extensible ? EXTENSIBLE : code, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * channels * width, true);
  v.setUint16(32, channels * width, true);
  v.setUint16(34, bits, true);
  if (options.extensible) {
    v.setUint16(36, 22, true); // cbSize
    v.setUint16(38, bits, true); // valid bits
    v.setUint32(40, (1 << channels) - 1, true); // channel mask
    v.setUint16(44, code, true);
    [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71].forEach((b, i) => v.setUint8(46 + i, b));
  }
  const data = 20 + fmtSize;
  tag(data, 'data'); v.setUint32(data + 4, dataSize, true);
  const write = sampleWriter(v, format, bits);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) write(data + 8 + (i * channels + c) * width, samples[c]![i]!);
  }
  return bytes;
}

function sampleWriter(v: DataView, format: 'pcm' | 'float', bits: number): (at: number, x: number) => void {
  if (format === 'float') return bits === 32 ? (at, x) => v.setFloat32(at, x, true) : (at, x) => v.setFloat64(at, x, true);
  const full = 2 ** (bits - 1);
  const q = (x: number) => Math.max(-full, Math.min(full - 1, Math.round(x * full)));
  switch (bits) {
    case 8: return (at, x) => v.setUint8(at, q(x) + 128);
    case 16: return (at, x) => v.setInt16(at, q(x), true);
    case 24: return (at, x) => { const s = q(x); v.setUint8(at, s & 255); v.setUint8(at + 1, (s >> 8) & 255); v.setUint8(at + 2, (s >> 16) & 255); };
    default: return (at, x) => v.setInt32(at, q(x), true);
  }
}
