#!/usr/bin/env node
/**
 * Spoken digit strings synthesised with espeak-ng (Debian package `espeak-ng`)
 * and post-processed with sox (resampling to 16 kHz mono 16-bit, leading and
 * trailing silence, gain, optional background noise; sox runs with -R,
 * repeatable random numbers, and -D, no dither). Driven by
 * tools/make_speech_data.sh; run with --help for the options.
 *
 * A voice is an English accent (an espeak-ng language voice) plus a voice
 * variant (+m1, +f2, +Alex, ...). The split is by VARIANT: the test variants
 * and the dev variants never occur in training, with any accent, so the test
 * set measures digits spoken by voices the model has never heard. Everything
 * random comes from one seeded generator (mulberry32): the same options give
 * the same manifests and the same audio, bit for bit, with the same espeak-ng
 * and sox versions.
 *
 * Output in --out DIR:
 *   train.tsv, dev.tsv, test.tsv   one line per utterance: path<TAB>digits
 *                                  (path relative to DIR; digits such as 0718)
 *   wav/<split>/<id>.wav           16 kHz mono PCM16
 * Each WAV is written under a temporary name and renamed when complete, and
 * existing WAVs are kept, so an interrupted run resumes where it stopped when
 * started again with the same options.
 *
 *   voices.tsv                     id<TAB>split<TAB>voice<TAB>speed<TAB>pitch<TAB>gap<TAB>noise<TAB>text
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ACCENTS = ['en', 'en-us', 'en-gb-scotland', 'en-gb-x-gbclan', 'en-gb-x-rp', 'en-gb-x-gbcwmd', 'en-029', 'en-us-nyc'];
/** '' is espeak-ng's default voice of the accent. */
export const TRAIN_VARIANTS = ['', 'm1', 'm2', 'm4', 'm5', 'm6', 'm7', 'f1', 'f3', 'f4', 'adam', 'Alex', 'Andy', 'Annie', 'aunty', 'boris',
  'david', 'ed', 'edward', 'john', 'linda', 'max', 'michel', 'paul', 'quincy', 'rob', 'robert', 'steph', 'travis', 'victor', 'zac', 'klatt', 'klatt3'];
export const DEV_VARIANTS = ['m8', 'f5', 'Jacky', 'klatt2'];
export const TEST_VARIANTS = ['m3', 'f2', 'Alicia', 'Mike', 'benjamin', 'grandpa', 'klatt4'];
const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const NOISES = ['whitenoise', 'pinknoise', 'brownnoise'];

const HELP = `usage: make_speech_data.sh --out DIR [options]
  --out DIR        output directory (created; existing manifests are replaced)
  --train N        training utterances (default 4000)
  --dev N          validation utterances (default 400)
  --test N         test utterances (default 800)
  --seed N         seed of every random choice (default 1)
  --noise P        share of utterances mixed with background noise (default 0.3)
  --max-digits N   longest digit string, 1..7 (default 7)
  --min-digits N   shortest digit string (default 1)
  --speed A,B      espeak-ng words per minute range (default 130,230)
  --pad A,B        seconds of silence before and after, each drawn from [A, B] (default 0.05,0.4)
  --jobs N         parallel synthesis processes (default 2)
  --splits LIST    comma-separated subset of train,dev,test to write (default all)
Split by voice variant (a voice = accent + variant, accents: ${ACCENTS.join(' ')}):
  train: ${TRAIN_VARIANTS.map((v) => v || '(default)').join(' ')}
  dev:   ${DEV_VARIANTS.join(' ')}
  test:  ${TEST_VARIANTS.join(' ')}`;

function parseArgs(argv) {
  const o = { out: null, train: 4000, dev: 400, test: 800, seed: 1, noise: 0.3, maxDigits: 7, minDigits: 1, speed: [130, 230], pad: [0.05, 0.4], jobs: 2, splits: ['train', 'dev', 'test'] };
  const int = (k, v, lo, hi) => {
    const n = Number(v);
    if (!/^\d+$/.test(v ?? '') || n < lo || n > hi) fail(`${k}: expected an integer in [${lo}, ${hi}], got '${v}'`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    switch (k) {
      case '--help': case '-h': console.log(HELP); process.exit(0); break;
      case '--out': o.out = v; i++; break;
      case '--train': o.train = int(k, v, 0, 1e6); i++; break;
      case '--dev': o.dev = int(k, v, 0, 1e6); i++; break;
      case '--test': o.test = int(k, v, 0, 1e6); i++; break;
      case '--seed': o.seed = int(k, v, 0, 2 ** 32 - 1); i++; break;
      case '--max-digits': o.maxDigits = int(k, v, 1, 7); i++; break;
      case '--min-digits': o.minDigits = int(k, v, 1, 7); i++; break;
      case '--jobs': o.jobs = int(k, v, 1, 64); i++; break;
      case '--noise': o.noise = Number(v); if (!(o.noise >= 0 && o.noise <= 1)) fail(`--noise: expected a share in [0, 1], got '${v}'`); i++; break;
      case '--speed': o.speed = (v ?? '').split(',').map(Number); if (!(o.speed.length === 2 && o.speed[0] >= 80 && o.speed[1] >= o.speed[0] && o.speed[1] <= 450)) fail(`--speed: expected A,B words per minute with 80 <= A <= B <= 450, got '${v}'`); i++; break;
      case '--pad': o.pad = (v ?? '').split(',').map(Number); if (!(o.pad.length === 2 && o.pad[0] >= 0 && o.pad[1] >= o.pad[0] && o.pad[1] <= 5)) fail(`--pad: expected A,B seconds with 0 <= A <= B <= 5, got '${v}'`); i++; break;
      case '--splits': o.splits = (v ?? '').split(','); if (!o.splits.every((s) => ['train', 'dev', 'test'].includes(s))) fail(`--splits: expected names among train,dev,test, got '${v}'`); i++; break;
      default: fail(`unknown option '${k}' (see --help)`);
    }
  }
  if (!o.out) fail('expected --out DIR');
  if (o.minDigits > o.maxDigits) fail(`expected --min-digits <= --max-digits, got ${o.minDigits} > ${o.maxDigits}`);
  return o;
}

function fail(message) {
  console.error(`make_speech_data: ${message}`);
  process.exit(1);
}

/** mulberry32: a small seeded generator, uniform in [0, 1). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every random choice of one utterance, drawn up front so the plan alone fixes the data. */
function plan(o) {
  const r = rng(o.seed);
  const pick = (xs) => xs[Math.floor(r() * xs.length)];
  const uniform = (a, b) => a + (b - a) * r();
  const variants = { train: TRAIN_VARIANTS, dev: DEV_VARIANTS, test: TEST_VARIANTS };
  const items = [];
  for (const split of ['train', 'dev', 'test']) {
    const n = o[split];
    for (let i = 0; i < n; i++) {
      const len = o.minDigits + Math.floor(r() * (o.maxDigits - o.minDigits + 1));
      const digits = Array.from({ length: len }, () => Math.floor(r() * 10));
      const words = digits.map((d) => (d === 0 && r() < 0.3 ? 'oh' : WORDS[d]));
      const variant = pick(variants[split]);
      const accent = pick(ACCENTS);
      const item = {
        id: `${split}-${String(i).padStart(5, '0')}`, split,
        digits: digits.join(''), text: words.join(' '),
        voice: variant ? `${accent}+${variant}` : accent,
        speed: Math.round(uniform(o.speed[0], o.speed[1])),
        pitch: Math.round(uniform(20, 80)),
        gap: Math.floor(r() * 6), // extra pause between words, 10 ms units
        lead: uniform(o.pad[0], o.pad[1]).toFixed(3), trail: uniform(o.pad[0], o.pad[1]).toFixed(3),
        gain: uniform(0.35, 1).toFixed(3),
        noise: r() < o.noise ? { kind: pick(NOISES), level: uniform(0.004, 0.03).toFixed(4), offset: uniform(0, 50).toFixed(3) } : null,
      };
      if (o.splits.includes(split)) items.push(item);
    }
  }
  return items;
}

function run(cmd, args) {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')}: exit ${code}: ${err.trim()}`))));
  });
}

async function synthesise(item, out, noiseFiles) {
  const dir = join(out, 'wav', item.split);
  if (existsSync(join(dir, `${item.id}.wav`))) return; // done by an earlier, interrupted run with the same options
  const raw = join(dir, `${item.id}.raw.wav`);
  const clean = join(dir, `${item.id}.clean.wav`);
  const final = join(dir, `${item.id}.part.wav`); // renamed once complete
  await run('espeak-ng', ['-v', item.voice, '-s', String(item.speed), '-p', String(item.pitch), '-g', String(item.gap), '-w', raw, item.text]);
  const shape = ['pad', item.lead, item.trail, 'vol', item.gain];
  if (!item.noise) {
    await run('sox', ['-R', '-D', raw, '-r', '16000', '-c', '1', '-b', '16', final, 'rate', '-h', ...shape]);
  } else {
    // Noise: a stretch of a long seeded (sox -R) noise file, from a random offset, mixed in at a random level.
    await run('sox', ['-R', '-D', raw, '-r', '16000', '-c', '1', '-b', '16', clean, 'rate', '-h', ...shape]);
    const seconds = Number(execFileSync('soxi', ['-D', clean], { encoding: 'utf8' }).trim());
    const stretch = join(dir, `${item.id}.noise.wav`);
    await run('sox', ['-R', '-D', noiseFiles[item.noise.kind], stretch, 'trim', item.noise.offset, String(seconds)]);
    await run('sox', ['-R', '-D', '-m', '-v', '1', clean, '-v', item.noise.level, stretch, '-b', '16', final]);
    rmSync(stretch, { force: true });
    rmSync(clean, { force: true });
  }
  rmSync(raw, { force: true });
  renameSync(final, join(dir, `${item.id}.wav`));
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  for (const tool of ['espeak-ng', 'sox', 'soxi']) {
    try {
      execFileSync('which', [tool], { stdio: 'ignore' });
    } catch {
      fail(`'${tool}' not found: apt-get install -y espeak-ng sox`);
    }
  }
  const items = plan(o);
  for (const s of o.splits) mkdirSync(join(o.out, 'wav', s), { recursive: true });
  // Three 60-second seeded noise recordings (sox -R: repeatable random numbers), cut at random offsets per utterance.
  const noiseFiles = {};
  for (const kind of NOISES) {
    noiseFiles[kind] = join(o.out, 'wav', `${kind}.wav`);
    await run('sox', ['-R', '-D', '-n', '-r', '16000', '-c', '1', '-b', '16', noiseFiles[kind], 'synth', '60', kind]);
  }
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await synthesise(item, o.out, noiseFiles);
      if (++done % 250 === 0) console.error(`make_speech_data: ${done}/${items.length}`);
    }
  };
  await Promise.all(Array.from({ length: o.jobs }, worker));
  for (const kind of NOISES) rmSync(noiseFiles[kind], { force: true });
  for (const s of o.splits) {
    const lines = items.filter((it) => it.split === s).map((it) => `wav/${s}/${it.id}.wav\t${it.digits}\n`).join('');
    writeFileSync(join(o.out, `${s}.tsv.tmp`), lines);
    renameSync(join(o.out, `${s}.tsv.tmp`), join(o.out, `${s}.tsv`)); // a manifest appears only once its audio is complete
  }
  const info = items.map((it) => [it.id, it.split, it.voice, it.speed, it.pitch, it.gap, it.noise ? `${it.noise.kind}@${it.noise.level}` : '-', it.text].join('\t'));
  writeFileSync(join(o.out, 'voices.tsv'), ['id\tsplit\tvoice\tspeed\tpitch\tgap\tnoise\ttext', ...info].join('\n') + '\n');
  console.error(`make_speech_data: ${items.length} utterances in ${o.out} (${o.splits.map((s) => `${s} ${items.filter((it) => it.split === s).length}`).join(', ')})`);
}

main().catch((e) => fail(e.message));
