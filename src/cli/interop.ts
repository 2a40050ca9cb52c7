/**
 * `bptt export` and `bptt import`: checkpoints to and from PyTorch (safetensors
 * under torch.nn names), Keras weights, and ONNX. Every input is read and
 * checked before anything is written; files are written atomically.
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { errnoText, readFileSafe, writeFileSafe } from '../io/node/safe-files.js';
import { loadCheckpoint, saveCheckpoint } from '../io/node/checkpoint-files.js';
import { groupKerasWeights, kerasToTorch, type KerasCell } from '../io/interop/keras.js';
import { isHdf5, readKerasH5 } from '../io/interop/keras-h5.js';
import { exportOnnx } from '../io/interop/onnx/export.js';
import { StateDictError, loadTorchStateDict } from '../io/interop/state-dict.js';
import { decodeSafetensors, encodeSafetensors } from '../io/safetensors.js';
import { LM_TASKS, loadLanguageModel } from '../tasks/language-model/node/checkpoint.js';
import { SPEECH_TASK, speechCodec } from '../tasks/speech/codec.js';
import { loadRun } from '../training/node/run-files.js';
import { SPEECH_CLASSES, speechInputSize } from '../tasks/speech/index.js';
import { ConfigError, DataError, expected, jsonOf, quoted, type Tensor } from '../tensor/index.js';
import { VERSION } from './version.js';

/** Weights files to import: the largest a Node Buffer holds. */
const MAX_IMPORT_BYTES = 2 ** 31 - 1;

interface ExportOptions {
  checkpoint: string;
  format: 'onnx' | 'torch';
  out: string;
  state: boolean;
}

export function exportCommand(): Command {
  return new Command('export')
    .description('write a checkpoint for another framework: PyTorch safetensors (torch.nn names) or ONNX (a language or speech model)')
    .requiredOption('--checkpoint <path>', 'a checkpoint manifest (.json) or a training --out directory (its best.json)')
    .addOption(new Option('--format <format>', 'torch: the weights as a safetensors file load_state_dict(strict=True) takes; onnx: a language or speech model as an ONNX graph (opset 14)').choices(['torch', 'onnx']).makeOptionMandatory())
    .requiredOption('--out <file>', 'the file to write (replaced atomically if it exists)')
    .option('--no-state', 'onnx: no h0/c0 inputs and hn/cn outputs (every call starts from a zero state)')
    .action((o: ExportOptions) => exportCheckpoint(o));
}

function exportCheckpoint(o: ExportOptions): void {
  checkOutFile(o.out);
  let bytes: Uint8Array;
  let what: string;
  if (o.format === 'torch') {
    const ckpt = loadCheckpoint(o.checkpoint);
    const raw = ckpt.meta as { task?: unknown; model?: unknown; vocabulary?: unknown; extra?: { vocabulary?: unknown } };
    const meta = { ...raw, vocabulary: raw.extra?.vocabulary ?? raw.vocabulary };
    // checks the weights fit the model the manifest describes
    if (LM_TASKS.includes(String(meta.task))) loadLanguageModel(o.checkpoint);
    const metadata: Record<string, string> = { format: 'pt', 'bptt.version': VERSION };
    for (const key of ['task', 'model', 'vocabulary'] as const) {
      const v = meta[key];
      if (v === undefined) continue;
      const json = typeof v === 'string' && key === 'task' ? v : jsonOf(v);
      if (json === null) {
        throw new DataError(expected(`checkpoint '${ckpt.path}': meta.${key}`, 'a value JSON can write',
          'one nested too deep'));
      }
      metadata[`bptt.${key}`] = json;
    }
    bytes = encodeSafetensors(ckpt.weights, metadata);
    what = `${ckpt.weights.size} tensors under torch.nn names`;
  } else if (taskOf(o.checkpoint) === SPEECH_TASK) {
    ({ bytes, what } = speechOnnx(o));
  } else {
    const { model, meta, path } = loadLanguageModel(o.checkpoint);
    model.eval();
    bytes = exportOnnx({ embedding: model.embedding, rnn: model.rnn, head: model.head }, {
      state: o.state,
      producerVersion: VERSION,
      graphName: 'bptt_language_model',
      metadata: { 'bptt.model': JSON.stringify(meta.model), 'bptt.vocabulary': JSON.stringify(meta.extra.vocabulary), 'bptt.checkpoint': path },
    });
    const c = meta.model;
    what = `ONNX opset 14: tokens [T, B] int64${o.state ? `, h0${c.cell === 'lstm' ? ', c0' : ''} [${c.layers}, B, ${c.hidden}]` : ''} → logits [T, B, ${c.vocab}]${o.state ? `, hn${c.cell === 'lstm' ? ', cn' : ''}` : ''}`;
  }
  writeOut(o.out, bytes);
  console.log(`wrote ${o.out}: ${what}`);
}

/** The task of a checkpoint ONNX export takes (a language model or a speech model). */
function taskOf(path: string): string {
  const { path: manifest, meta } = loadCheckpoint(path);
  const task = (meta as { task?: unknown }).task;
  if (!LM_TASKS.includes(String(task)) && task !== SPEECH_TASK) {
    throw new ConfigError(expected(`checkpoint '${manifest}'`,
      `a language-model or ${SPEECH_TASK} checkpoint for --format onnx`, `task ${quoted(task)}`,
      '--format torch takes every checkpoint'));
  }
  return String(task);
}

/** A speech model as ONNX: stacked features in, per-frame logits out (log-softmax and CTC decoding stay with the caller). */
function speechOnnx(o: ExportOptions): { bytes: Uint8Array; what: string } {
  const { model, meta, path } = loadRun(o.checkpoint, speechCodec);
  model.eval();
  const c = meta.model;
  const bytes = exportOnnx({ rnn: model.rnn, head: model.head }, {
    state: o.state,
    producerVersion: VERSION,
    graphName: 'bptt_speech',
    metadata: { 'bptt.model': JSON.stringify(c), 'bptt.features': JSON.stringify(c.features), 'bptt.labels': 'blank, then the digits 0-9', 'bptt.checkpoint': path },
  });
  const lstm = c.cell === 'lstm';
  const inputs = o.state ? `, h0${lstm ? ', c0' : ''} [${2 * c.layers}, B, ${c.hidden}]` : '';
  const outputs = o.state ? `, hn${lstm ? ', cn' : ''}` : '';
  return { bytes, what: `ONNX opset 14: input [T, B, ${speechInputSize(c.features)}] (stacked features)${inputs} → logits [T, B, ${SPEECH_CLASSES}] (blank, digits 0-9)${outputs}` };
}

interface ImportOptions {
  from: 'torch' | 'keras';
  weights: string;
  like?: string;
  out: string;
  stripPrefix?: string;
  cell?: KerasCell;
  resetAfter?: boolean;
  activation?: string;
  layers?: string;
}

export function importCommand(): Command {
  return new Command('import')
    .description('bring weights trained elsewhere into bptt: a PyTorch state dict into a language-model checkpoint, or Keras recurrent weights into torch.nn names')
    .addOption(new Option('--from <framework>', 'torch: a state dict (safetensors) of the language model; keras: recurrent layers, from .h5 (Keras 2 or Keras 3 weights) or safetensors under Keras weight names').choices(['torch', 'keras']).makeOptionMandatory())
    .requiredOption('--weights <file>', 'the file to read: torch: safetensors; keras: .h5 (Keras 2 or Keras 3 weights) or safetensors under Keras weight names')
    .option('--like <checkpoint>', 'torch: the bptt checkpoint whose model and vocabulary the weights belong to')
    .requiredOption('--out <path>', 'torch: a directory for the new checkpoint (last.json); keras: the safetensors file to write')
    .option('--strip-prefix <prefix>', "torch: drop this prefix from every name first (e.g. 'module.' of a DistributedDataParallel state dict)")
    .addOption(new Option('--cell <cell>', 'keras: the recurrent layers').choices(['lstm', 'gru', 'rnn']))
    .option('--reset-after', "keras GRU: reset_after=True (Keras's default; read from the bias shape when not given)")
    .option('--no-reset-after', 'keras GRU: reset_after=False (bptt GRU resetAfter: false)')
    .addOption(new Option('--activation <name>', "keras SimpleRNN: its activation").choices(['tanh', 'relu']))
    .option('--layers <names>', 'keras: the layer names in stacking order, comma-separated (default: sorted by name)')
    .action((o: ImportOptions, cmd: Command) => (o.from === 'torch' ? importTorch(o, cmd) : importKeras(o, cmd)));
}

function importTorch(o: ImportOptions, cmd: Command): void {
  rejectFor('torch', cmd, ['cell', 'resetAfter', 'activation', 'layers']);
  if (!o.like) throw new ConfigError(expected('bptt import --from torch', '--like <checkpoint> (the bptt checkpoint the weights belong to)', 'none'));
  const out = resolve(o.out);
  for (const name of ['last.json', 'best.json']) {
    if (existsSync(join(out, name))) throw new ConfigError(expected(`--out ${o.out}`, 'a directory without a checkpoint (nothing is overwritten)', `one with ${name}`));
  }
  if (existsSync(out) && !statSync(out).isDirectory()) throw new ConfigError(expected(`--out ${o.out}`, 'a directory', 'a file'));
  const ckpt = loadLanguageModel(o.like);
  let tensors = readSafetensors(o.weights);
  const where = `--weights ${o.weights}`;
  if (o.stripPrefix) tensors = new Map([...tensors].map(([n, t]) => [n.startsWith(o.stripPrefix!) ? n.slice(o.stripPrefix!.length) : n, t]));
  try {
    loadTorchStateDict(ckpt.model, tensors, { where });
  } catch (e) {
    const ddp = e instanceof StateDictError && [...tensors.keys()].every((n) => n.startsWith('module.'));
    if (ddp) throw new DataError(`${e.message} (the names start with 'module.', as a DistributedDataParallel state dict: add --strip-prefix module. or save model.module.state_dict())`);
    throw e;
  }
  const meta = { ...ckpt.meta, trainer: null, importedFrom: { framework: 'torch', weights: resolve(o.weights), like: ckpt.path } };
  const path = saveCheckpoint(out, 'last', { meta: meta as unknown as Record<string, unknown>, weights: ckpt.model.stateDict(), state: null });
  console.log(`wrote ${path}: the weights of ${o.weights} in the model and vocabulary of ${ckpt.path} (use it with sample, eval and export)`);
}

function importKeras(o: ImportOptions, cmd: Command): void {
  rejectFor('keras', cmd, ['like', 'stripPrefix']);
  if (!o.cell) throw new ConfigError(expected('bptt import --from keras', '--cell lstm, gru or rnn', 'none'));
  checkOutFile(o.out);
  const named = readKerasWeights(o.weights);
  const where = `--weights ${o.weights}`;
  let conv;
  try {
    const layers = groupKerasWeights(named, o.layers?.split(',').map((s) => s.trim()).filter(Boolean));
    conv = kerasToTorch(layers, { cell: o.cell, resetAfter: o.resetAfter, activation: o.activation });
  } catch (e) {
    if (e instanceof DataError) throw new DataError(`${where}: ${e.message}`);
    throw e;
  }
  const m = conv.module;
  writeOut(o.out, encodeSafetensors(conv.tensors, { format: 'pt', 'bptt.module': JSON.stringify(m) }));
  const opts = [`inputSize: ${m.inputSize}`, `hiddenSize: ${m.hiddenSize}`, `numLayers: ${m.numLayers}`, `bidirectional: ${m.bidirectional}`, `bias: ${m.bias}`];
  if (m.nonlinearity) opts.push(`nonlinearity: '${m.nonlinearity}'`);
  if (m.resetAfter !== undefined) opts.push(`resetAfter: ${m.resetAfter}`);
  console.log(`wrote ${o.out}: ${conv.tensors.size} tensors for new ${m.kind}({ ${opts.join(', ')} })`);
}

/** Keras weights: an HDF5 file (told by its signature; Keras 2 or Keras 3 layout), or else safetensors under Keras names. */
function readKerasWeights(path: string): Map<string, Tensor> {
  const where = `--weights ${path}`;
  const bytes = readFileSafe(path, { maxBytes: MAX_IMPORT_BYTES, where, followLinks: true });
  if (isHdf5(bytes)) return readKerasH5(bytes, where);
  if (bytes.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    throw new DataError(expected(where, '.h5 or safetensors', 'a zip archive', 'a Keras 3 .keras file is one: unzip it and pass its model.weights.h5'));
  }
  try {
    return decodeSafetensors(bytes, where).tensors;
  } catch (e) {
    if (e instanceof DataError && /\.h5$/i.test(path)) throw new DataError(`${e.message} (read as safetensors: it is not HDF5, no \\x89HDF signature at its start)`);
    throw e;
  }
}

/** Options that belong to the other --from are an error, not silently ignored. */
function rejectFor(from: string, cmd: Command, names: string[]): void {
  for (const n of names) {
    if (cmd.getOptionValueSource(n) === 'cli') {
      throw new ConfigError(expected(`bptt import --from ${from}`, `no --${n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, 'it given', `it is for --from ${from === 'torch' ? 'keras' : 'torch'}`));
    }
  }
}

function readSafetensors(path: string): Map<string, Tensor> {
  const where = `--weights ${path}`;
  const bytes = readFileSafe(path, { maxBytes: MAX_IMPORT_BYTES, where, followLinks: true });
  return decodeSafetensors(bytes, where).tensors;
}

function checkOutFile(out: string): void {
  if (existsSync(out) && statSync(out).isDirectory()) throw new ConfigError(expected(`--out ${out}`, 'a file name', 'a directory'));
}

function writeOut(out: string, bytes: Uint8Array): void {
  try {
    mkdirSync(dirname(resolve(out)), { recursive: true });
  } catch (e) {
    throw new DataError(expected(`--out ${out}`, 'a file in a directory this process can make', errnoText(e)));
  }
  writeFileSafe(out, bytes);
}
