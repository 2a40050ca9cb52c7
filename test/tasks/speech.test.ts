/**
 * The speech task: frame stacking, the log-softmax op, batching, the corpus
 * loader's errors, checkpoints, and a seeded end-to-end run on the committed
 * sample (test/fixtures/speech-sample, 9 training utterances of 1–3 digits).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Variable, gradcheck, mul, sum } from '../../src/autograd/index.js';
import { encodeWav } from '../../src/audio/index.js';
import { Adam } from '../../src/optim/index.js';
import { checkDataDir, loadExamples, loadWav, readManifest } from '../../src/tasks/speech/node/corpus.js';
import { logSoftmax } from '../../src/tasks/speech/model.js';
import {
  SpeechBatches, SpeechModel, defaultSpeechFeatures, digitErrors, makeSpeechBatch, scoreDigits, speechCodec,
  speechInputSize, stackFrames, transcribe, type SpeechBatch, type SpeechExample, type SpeechModelConfig,
} from '../../src/tasks/speech/index.js';
import { ConfigError, DataError, Rng, Tensor } from '../../src/tensor/index.js';
import { Trainer, type Callback, type FitOptions } from '../../src/training/index.js';
import { loadRun, runStateOf, saveRun } from '../../src/training/node/run-files.js';

const SAMPLE = fileURLToPath(new URL('../../../test/fixtures/speech-sample/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'bptt-speech-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const CONFIG: SpeechModelConfig = { features: { ...defaultSpeechFeatures }, cell: 'gru', hidden: 32, layers: 2, dropout: 0, seed: 1 };

describe('speech features', () => {
  test('stackFrames joins stack frames every stride frames, repeating the last frame past the end', () => {
    const data = Float32Array.from([0, 10, 1, 11, 2, 12, 3, 13, 4, 14]); // 5 frames × 2
    const u = stackFrames(data, 5, 2, 3, 2);
    assert.deepEqual([u.steps, u.dim], [3, 6]);
    assert.deepEqual([...u.data], [0, 10, 1, 11, 2, 12, 2, 12, 3, 13, 4, 14, 4, 14, 4, 14, 4, 14]);
    assert.deepEqual([...stackFrames(data, 5, 2, 1, 1).data], [...data]);
  });

  test('a WAV becomes ceil(frames / stride) steps of size · 3 · stack inputs', () => {
    const u = loadWav(join(SAMPLE, 'wav/train/train-00001.wav'), defaultSpeechFeatures);
    assert.equal(u.dim, 13 * 3 * 3);
    assert.equal(u.dim, speechInputSize(defaultSpeechFeatures));
    assert.ok(u.steps > 10 && u.steps < 100, `${u.steps} steps`);
    assert.ok(u.data.every(Number.isFinite));
  });
});

describe('logSoftmax', () => {
  test('rows are log-probabilities and the gradient matches central differences', () => {
    const rng = new Rng(3);
    const x = new Variable(Tensor.from(Array.from({ length: 2 * 3 * 5 }, () => 3 * rng.normal()), [2, 3, 5], 'float64'), true);
    const w = new Variable(Tensor.from(Array.from({ length: 30 }, () => rng.normal()), [2, 3, 5], 'float64'), false);
    const y = logSoftmax(x).data;
    for (let r = 0; r < 6; r++) {
      const total = Array.from({ length: 5 }, (_, j) => Math.exp(y[r * 5 + j]!)).reduce((a, b) => a + b);
      assert.ok(Math.abs(total - 1) < 1e-12, String(total));
    }
    const report = gradcheck(() => sum(mul(logSoftmax(x), w)), [x]);
    assert.ok(report.ok, report.message);
  });
});

describe('speech batches', () => {
  const utt = (steps: number, v: number) => ({ steps, dim: 2, data: new Float32Array(steps * 2).fill(v) });

  test('makeSpeechBatch pads time-major with zeros and keeps lengths and digits', () => {
    const b = makeSpeechBatch([utt(2, 1), utt(3, 2)], [[4], [0, 7]]);
    assert.deepEqual([b.steps, b.batch, b.dim, b.lengths], [3, 2, 2, [2, 3]]);
    assert.deepEqual([...b.inputs], [1, 1, 2, 2, 1, 1, 2, 2, 0, 0, 2, 2]);
    assert.deepEqual(b.targets, [[4], [0, 7]]);
  });

  test('every utterance comes once per epoch, in batches of similar length', () => {
    const examples = Array.from({ length: 50 }, (_, i) => ({ input: utt(1 + ((i * 7) % 40), i), digits: [i % 10] }));
    const batches = new SpeechBatches(examples, 8, new Rng(1));
    const seen: number[] = [];
    assert.equal(batches.batchesPerEpoch, 7);
    for (let k = 0; k < 7; k++) {
      const { batch: b, items } = batches.next();
      assert.equal(items, b.batch);
      assert.ok(Math.max(...b.lengths) - Math.min(...b.lengths) <= 40);
      for (let j = 0; j < b.batch; j++) seen.push(b.inputs[j * b.dim]!);
    }
    assert.deepEqual(seen.sort((a, c) => a - c), Array.from({ length: 50 }, (_, i) => i));
    assert.equal(batches.epoch, 1);
  });

  test('state() and restore() continue the order exactly: before the first batch, mid-epoch, at the end of an epoch', () => {
    const examples = Array.from({ length: 50 }, (_, i) => ({ input: utt(1 + ((i * 7) % 40), i), digits: [i % 10] })); // 7 batches an epoch
    for (const done of [0, 3, 7, 10]) {
      const ref = new SpeechBatches(examples, 8, new Rng(1));
      for (let k = 0; k < done; k++) ref.next();
      const copy = new SpeechBatches(examples, 8, new Rng(99));
      copy.setState(structuredClone(ref.getState()));
      assert.equal(copy.epoch, ref.epoch, `epoch after ${done} batches`);
      for (let k = 0; k < 10; k++) assert.deepEqual(copy.next(), ref.next(), `batch ${done + k + 1}`);
    }
    const batches = new SpeechBatches(examples, 8, new Rng(1));
    assert.throws(() => batches.setState({ rng: [1, 2, 3, 4], epochs: 0, at: 8 }),
      (e) => e instanceof DataError && /at most 7 batches handed out in an epoch, got 8/.test(e.message));
    assert.throws(() => batches.setState({ rng: [1, 2, 3, 4], epochs: 2, at: 0 }), DataError);
    assert.throws(() => batches.setState({ rng: [1, 2], epochs: 0, at: 1 }), /rng: expected a generator state/);
  });
});

describe('speech corpus', () => {
  test('reads the manifests of the committed sample; a missing optional one is null', () => {
    const train = readManifest(SAMPLE, 'train')!;
    assert.equal(train.length, 9);
    assert.deepEqual(train[0]!.digits, [7, 2, 6]);
    assert.equal(readManifest(SAMPLE, 'dev', true), null);
  });

  test('bad inputs are DataErrors naming the file', () => {
    assert.throws(() => checkDataDir(join(tmp, 'nope')), (e: Error) => e instanceof DataError && /--data '.*nope': expected an existing directory/.test(e.message));
    assert.throws(() => readManifest(tmp, 'train'), (e: Error) => e instanceof DataError && /manifest '.*train\.tsv': expected a readable file.*make_speech_data/.test(e.message));
    writeFileSync(join(tmp, 'train.tsv'), 'a.wav\t12\nb.wav twelve\n');
    assert.throws(() => readManifest(tmp, 'train'), /train\.tsv' line 2: expected path<TAB>digits/);
    writeFileSync(join(tmp, 'bad.wav'), 'RIFF....WAVEjunk');
    assert.throws(() => loadWav(join(tmp, 'bad.wav'), defaultSpeechFeatures), (e: Error) => e instanceof DataError && /audio '.*bad\.wav'/.test(e.message));
    assert.throws(() => loadWav(join(tmp, 'missing.wav'), defaultSpeechFeatures),
      /audio '.*missing\.wav': expected a readable regular file, got no such file/);
    // A manifest can name a device or a FIFO: refused at once (/dev/zero grew to gigabytes, a FIFO hung).
    assert.throws(() => loadWav('/dev/zero', defaultSpeechFeatures),
      /audio '\/dev\/zero': expected a regular file, got a device/);
    if (spawnSync('mkfifo', [join(tmp, 'fifo.wav')]).status === 0) {
      assert.throws(() => loadWav(join(tmp, 'fifo.wav'), defaultSpeechFeatures), /expected a regular file, got a FIFO/);
    }
    writeFileSync(join(tmp, 'short.wav'), encodeWav([new Float32Array(100)], 16000));
    assert.throws(() => loadWav(join(tmp, 'short.wav'), defaultSpeechFeatures), /at least one 25 ms frame/);
    // Was resampled to 8·10⁹ samples.
    writeFileSync(join(tmp, 'slow.wav'), encodeWav([new Float32Array(500_000)], 1));
    assert.throws(() => loadWav(join(tmp, 'slow.wav'), defaultSpeechFeatures), (e: Error) => e instanceof DataError
      && /^audio '.*slow\.wav': expected a sample rate of at least 1000 Hz, got 1 Hz$/.test(e.message));
  });
});

describe('speech model', () => {
  test('validates its configuration', () => {
    assert.throws(() => new SpeechModel({ ...CONFIG, cell: 'rnn' as 'gru' }), ConfigError);
    assert.throws(() => new SpeechModel({ ...CONFIG, features: { ...CONFIG.features, stride: 4 } }), /stride an integer in \[1, stack \(3\)\]/);
    assert.throws(() => new SpeechModel({ ...CONFIG, layers: 1, dropout: 0.2 }), /dropout 0 with one layer/);
  });

  /** A runner over the sample's training utterances; the model's weights are `model`'s own. */
  function trainerOf(model: SpeechModel, train: SpeechExample[], o: Partial<FitOptions<SpeechBatch>> = {}):
    Trainer<SpeechBatch> {
    return new Trainer<SpeechBatch>({
      model, data: new SpeechBatches(train, 2, new Rng(7).split()), optimizer: new Adam(model.parameters(), { lr: 1e-2 }),
      schedule: { kind: 'cosine', lr: 1e-2, warmup: 2, floor: 0 }, budget: { steps: 12 }, clip: 5, evalEvery: 3,
      validate: () => 100 * scoreDigits(model, train).der, restoreBest: false, ...o,
    });
  }
  const weights = (m: SpeechModel) => [...m.stateDict()].map(([k, t]) => [k, [...t.data]]);

  test('seeded end to end on the sample: 200 updates bring the CTC loss below 0.2 per digit and transcribe the training utterances', async () => {
    // Thresholds: from about 20 nats per digit at the start, this run's loss
    // is 0.52 after 100 updates (5 of the 18 digits wrong), 0.15 after 150 (2
    // wrong), 0.031 after 200 (none wrong). Below 0.2 and at most 1 digit
    // wrong leave a margin for float32 rounding and still require every
    // utterance to be learnt.
    const train = loadExamples(readManifest(SAMPLE, 'train')!, CONFIG.features);
    const model = new SpeechModel(CONFIG);
    const losses: number[] = [];
    const trainer = trainerOf(model, train, {
      data: new SpeechBatches(train, 9, new Rng(1).split()), optimizer: new Adam(model.parameters(), { lr: 3e-3 }),
      schedule: { kind: 'constant', lr: 3e-3, warmup: 20, floor: 0 }, budget: { steps: 200 }, evalEvery: 100,
      callbacks: [{ onUpdate: (e) => losses.push(e.loss) }],
    });
    const result = await trainer.fit();
    assert.equal(result.updates, 200);
    assert.ok(losses[0]! > 5, `first loss ${losses[0]}`);
    assert.ok(losses.at(-1)! < 0.2, `last loss ${losses.at(-1)}`);
    const refs = train.map((e) => e.digits);
    const greedy = digitErrors(transcribe(model, train.map((e) => e.input), { beam: 1 }), refs);
    const beam = digitErrors(transcribe(model, train.map((e) => e.input), { beam: 4 }), refs);
    assert.ok(greedy.der <= 0.1 && beam.der <= 0.1, `greedy ${greedy.der}, beam ${beam.der}`);
    assert.equal(result.last!.score, 100 * greedy.der);

    const path = saveRun(tmp, 'm', speechCodec, {
      model, config: model.config, extra: {}, data: [], settings: {}, writtenBy: 'test', state: null,
    });
    const back = loadRun(path, speechCodec);
    assert.deepEqual(transcribe(back.model, train.map((e) => e.input), { beam: 1 }), transcribe(model, train.map((e) => e.input), { beam: 1 }));
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as { meta: { task: string; model: SpeechModelConfig } };
    const good = structuredClone(manifest);
    for (const [key, value] of [['hidden', 2 ** 30], ['layers', 2 ** 53]] as const) {
      manifest.meta.model = { ...good.meta.model, [key]: value };
      writeFileSync(path, JSON.stringify(manifest));
      assert.throws(() => loadRun(path, speechCodec), (e) => e instanceof DataError && /weights for the model its metadata describes/.test(e.message), key);
    }
    manifest.meta.model = { ...good.meta.model, cell: 'rnn' as 'gru' };
    writeFileSync(path, JSON.stringify(manifest));
    assert.throws(() => loadRun(path, speechCodec), (e) => e instanceof DataError && /meta\.model: expected cell 'lstm' or 'gru'/.test(e.message));
    manifest.meta = good.meta;
    manifest.meta.task = 'forecast';
    writeFileSync(path, JSON.stringify(manifest));
    assert.throws(() => loadRun(path, speechCodec), /expected a speech checkpoint, got task 'forecast'/);
  });

  test('a run saved mid-way and restored continues bit for bit (Adam, batch order, dropout masks, best so far)', async () => {
    const train = loadExamples(readManifest(SAMPLE, 'train')!, CONFIG.features);
    const config: SpeechModelConfig = { ...CONFIG, hidden: 8, dropout: 0.3 };
    const ref = trainerOf(new SpeechModel(config), train);
    const refModel = ref.options.model as SpeechModel;
    await ref.fit();
    const model = new SpeechModel(config);
    const stop: Callback<Trainer<SpeechBatch>> = { onUpdate: (e, t) => e.update === 7 && t.stop('test') };
    const first = trainerOf(model, train, { callbacks: [stop] });
    assert.equal((await first.fit()).stoppedBy, 'stopped');
    const state = await first.snapshot();
    const saved = saveRun(tmp, 'mid', speechCodec, {
      model, config, extra: {}, data: [], settings: {}, writtenBy: 'test', state: state as never,
      bestWeights: first.best!.weights,
    });
    const loaded = loadRun(saved, speechCodec);
    const { state: back, bestWeights } = runStateOf(loaded);
    const resumed = trainerOf(loaded.model, train);
    await resumed.restore(back as never, bestWeights);
    assert.deepEqual([resumed.progress.updates, resumed.best?.event.update], [7, 6]);
    const result = await resumed.fit();
    assert.equal(result.updates, 12);
    assert.deepEqual(weights(loaded.model), weights(refModel), 'the same last weights');
    assert.deepEqual({ ...result.best, epoch: 0 }, { ...ref.best!.event, epoch: 0 });
    assert.deepEqual([...resumed.best!.weights.values()].map((t) => [...t.data]),
      [...ref.best!.weights.values()].map((t) => [...t.data]), 'the same best weights');
    assert.deepEqual(resumed.options.optimizer.stateDict(), ref.options.optimizer.stateDict());

    // The NaN guard numbers the updates of a resumed run on, and ends it after ten skipped in a row.
    const again = loadRun(saved, speechCodec);
    const nan = trainerOf(again.model, train, { budget: { steps: 30 } });
    await nan.restore(runStateOf(again).state as never, runStateOf(again).bestWeights);
    for (const p of again.model.head.parameters()) p.data.fill(NaN);
    await assert.rejects(nan.fit(), (e) => e instanceof DataError && /got 10, updates 8 to 17; the first, update 8: /.test(e.message));
  });

  test('--bptt: the recogniser unrolls whole utterances only', () => {
    const model = new SpeechModel({ ...CONFIG, hidden: 4 });
    const b = makeSpeechBatch([{ steps: 4, dim: speechInputSize(CONFIG.features), data: new Float32Array(4 * 117) }], [[1]]);
    assert.throws(() => model.unroll(b, 0, 2, null, true), (e) => e instanceof ConfigError && /train with the full BPTT strategy/.test(e.message));
  });
});

describe('speech checkpoints of the format before the run format (test/fixtures/old-checkpoints/speech)', () => {
  const OLD = fileURLToPath(new URL('../../../test/fixtures/old-checkpoints/speech/', import.meta.url));
  const wavs = ['test-00000', 'test-00001', 'test-00002'].map((n) => join(SAMPLE, 'wav/test', `${n}.wav`));

  test('load for use and transcribe as the version that wrote them did; resuming them is refused', () => {
    // what that version's `bptt transcribe` printed (NOTE.md there)
    const expected = [
      [OLD, 1, ['7167371671647', '7167371', '71716171467']],
      [join(OLD, 'last.json'), 4, ['71414161637171414141716173714674707070717', '47371416161673737171717',
        '714161417141617171414147373707171']],
    ] as const;
    for (const [path, beam, digits] of expected) {
      const run = loadRun(path, speechCodec);
      assert.deepEqual(run.meta.data.map((d) => d.role), ['--data']);
      assert.equal(run.meta.trainer, null);
      const heard = transcribe(run.model, wavs.map((w) => loadWav(w, run.model.config.features)), { beam });
      assert.deepEqual(heard.map((d) => d.join('')), digits, path);
    }
    assert.throws(() => runStateOf(loadRun(join(OLD, 'last.json'), speechCodec)),
      (e) => e instanceof DataError && /a training state to resume from/.test(e.message));
  });
});
