/**
 * Keras HDF5 weight files → the recurrent layers' weights under Keras weight
 * names, as `groupKerasWeights` takes them. Two layouts:
 *
 * - Keras 2 / tf.keras (legacy HDF5), `model.save_weights('w.h5')` and, under
 *   a `model_weights` group, `model.save('m.h5')`: attribute `layer_names`,
 *   one group per layer whose attribute `weight_names` lists dataset paths
 *   relative to it (`lstm/lstm_cell/kernel:0`). The names are kept as they are.
 * - Keras 3, `model.save_weights('w.weights.h5')`: `layers/<layer>/cell/vars/0,1,2`
 *   (kernel, recurrent_kernel, bias; a Bidirectional wrapper's cells under
 *   `forward_layer/` and `backward_layer/`). They are named
 *   `<layer>/cell/kernel`, … (`bidirectional/forward_layer/cell/kernel`).
 *
 * Non-recurrent layers (no recurrent_kernel) are skipped. HDF5 is parsed by
 * jsfive (pure JavaScript, so this module is browser-safe; it stays out of the
 * library barrel so that bundles which do not import it carry no jsfive),
 * inside a read budget (`jsfive-bounded.ts`): jsfive trusts the counts,
 * addresses and sizes in the file, and every exception it throws (often a
 * string) becomes one DataError.
 */
import { DataError, Tensor, expected, listOf, quoted, show, textOf } from '../../tensor/index.js';
import {
  hdf5, withinReadBudget, type H5Dataset, type H5Group, type H5Object, type ReadBudget,
} from './jsfive-bounded.js';

/** The 8 bytes every HDF5 file (without a user block, as Keras writes them) starts with. */
export const HDF5_SIGNATURE = Uint8Array.of(0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a);

/** Whether `bytes` starts with the HDF5 signature. */
export function isHdf5(bytes: Uint8Array): boolean {
  return bytes.length >= HDF5_SIGNATURE.length && HDF5_SIGNATURE.every((b, i) => bytes[i] === b);
}

/** Keras 3 saves a cell's variables in this order. */
const CELL_VARS = ['kernel', 'recurrent_kernel', 'bias'];
/** Keras 3 groups that only hold other layers (a model's `layers`; tf.keras 2.13+'s name for it). */
const CONTAINERS = new Set(['layers', '_layer_checkpoint_dependencies']);
/** Deeper than any model's nesting; past it the links go round in a circle. */
const MAX_DEPTH = 64;

/** The recurrent layers' weights of a Keras .h5 file, under Keras weight names. */
export function readKerasH5(bytes: Uint8Array, where: string): Map<string, Tensor> {
  if (!isHdf5(bytes)) throw new DataError(expected(where, 'an HDF5 file (signature \\x89HDF\\r\\n\\x1a\\n)', 'other bytes'));
  checkComplete(bytes, where);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const named = withinReadBudget(where, bytes.length, (budget) => {
    const file = new hdf5.File(buffer, '');
    const keras2 = keras2Layers(file, where);
    return keras2 ? readKeras2(keras2.weights, keras2.layerNames, where, budget) : readKeras3(file, where, budget);
  });
  if (named.size === 0) {
    throw new DataError(expected(where, 'the weights of a recurrent layer (LSTM, GRU or SimpleRNN)', 'none in the file', 'Keras 2: a layer with a recurrent_kernel among its weight_names; Keras 3: <layer>/cell/vars'));
  }
  return named;
}

/**
 * A truncated file is refused before jsfive reads it: the superblock records
 * where the file ends (HDF5 spec, superblock versions 0 and 2/3, which jsfive
 * reads; addresses of 8 bytes, as jsfive assumes), relative to its base address.
 */
function checkComplete(bytes: Uint8Array, where: string): void {
  const version = bytes[8];
  const fields = version === 0 ? { offsetSize: 13, base: 24, eof: 40 } : version === 2 || version === 3 ? { offsetSize: 9, base: 12, eof: 28 } : null;
  if (!fields) throw new DataError(expected(where, 'an HDF5 superblock of version 0, 2 or 3', `version ${version ?? 'none (the file ends first)'}`));
  if (bytes.length < fields.eof + 8) throw new DataError(expected(where, 'a whole HDF5 superblock', `${bytes.length} bytes (a truncated file)`));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[fields.offsetSize] !== 8) throw new DataError(expected(where, 'an HDF5 file with 8-byte addresses', `${bytes[fields.offsetSize]}-byte ones`));
  const end = view.getBigUint64(fields.base, true) + view.getBigUint64(fields.eof, true);
  if (end > BigInt(bytes.length)) throw new DataError(expected(where, `${end} bytes (where its superblock says the file ends)`, `${bytes.length} bytes (a truncated file)`));
}

/** Keras 2's layer list: the root's `layer_names` (save_weights), or model_weights's (model.save); null in a Keras 3 file. */
function keras2Layers(file: H5Group, where: string): { weights: H5Group; layerNames: string[] } | null {
  const layerNames = stringsAttr(file, 'layer_names', where);
  if (layerNames) return { weights: file, layerNames };
  if (!file.keys.includes('model_weights')) return null;
  const weights = asGroup(file.get('model_weights'), `${where}: model_weights`);
  const inModel = stringsAttr(weights, 'layer_names', `${where}: model_weights`);
  return inModel ? { weights, layerNames: inModel } : null;
}

/** Keras 2: each layer's `weight_names`; a cell (the names up to /kernel etc.) is kept when it has a recurrent_kernel. */
function readKeras2(weights: H5Group, layerNames: string[], where: string, budget: ReadBudget): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const groups = new Set(weights.keys);
  for (const layer of layerNames) {
    if (!groups.has(layer)) {
      throw new DataError(expected(`${where}: layer ${quoted(layer)}`, 'a group of that name (layer_names lists it)',
        'none'));
    }
    const layerAt = `${where}: ${textOf(layer)}`;
    const group = asGroup(weights.get(layer), layerAt);
    const names = stringsAttr(group, 'weight_names', layerAt) ?? [];
    const cellOf = (name: string): string => name.replace(/:\d+$/, '').replace(/\/?[^/]*$/, '');
    const recurrent = new Set(names.filter((n) => /(^|\/)recurrent_kernel(:\d+)?$/.test(n)).map(cellOf));
    for (const name of names) {
      if (!recurrent.has(cellOf(name))) continue;
      const at = `${where}: ${textOf(`${layer}/${name}`)}`;
      const tensor = tensorOf(asDataset(group.get(name), at), at, budget);
      out.set(name.startsWith(`${layer}/`) ? name : `${layer}/${name}`, tensor);
    }
  }
  return out;
}

/** Keras 3: every `…/cell/vars` group; the path without `layers/` names the layer. */
function readKeras3(file: H5Group, where: string, budget: ReadBudget): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  const visit = (group: H5Group, path: string[]): void => {
    if (path.length > MAX_DEPTH) {
      const start = textOf(`/${path.slice(0, 4).join('/')}`);
      throw new DataError(expected(where, `groups nested at most ${MAX_DEPTH} deep`,
        `${start}/… deeper (links that go round in a circle?)`));
    }
    for (const key of group.keys) {
      const inCell = key === 'vars' && path.at(-1) === 'cell';
      if (key === 'vars' && !inCell) continue; // another layer's, or the optimizer's, variables
      const child = group.get(key);
      if (!(child instanceof hdf5.Group)) continue;
      if (inCell) readCell(child, path, where, budget, out);
      else visit(child, [...path, key]);
    }
  };
  visit(file, []);
  return out;
}

function readCell(vars: H5Group, path: string[], where: string, budget: ReadBudget, out: Map<string, Tensor>): void {
  const at = `${where}: ${textOf(`/${path.join('/')}/vars`)}`;
  const keys = vars.keys;
  if (!keys.includes('0') || !keys.includes('1') || keys.some((k) => !['0', '1', '2'].includes(k))) {
    throw new DataError(expected(at, 'the datasets 0, 1 and 2 (kernel, recurrent_kernel, bias) or 0 and 1',
      listOf([...keys].sort())));
  }
  const cell = path.filter((p) => !CONTAINERS.has(p)).join('/');
  for (const k of keys) {
    out.set(`${cell}/${CELL_VARS[Number(k)]}`, tensorOf(asDataset(vars.get(k), `${at}/${k}`), `${at}/${k}`, budget));
  }
}

/** A float32 or float64 dataset as a Tensor; its size and chunks are checked before jsfive reads it. */
function tensorOf(d: H5Dataset, where: string, budget: ReadBudget): Tensor {
  const { fileSize } = budget;
  const dtype = d.dtype;
  const m = typeof dtype === 'string' ? /^[<>=|]?f([48])$/.exec(dtype) : null;
  if (!m) throw new DataError(expected(where, 'a float32 or float64 dataset', `dtype ${show(dtype)}`));
  const shape = d.shape;
  if (!Array.isArray(shape) || shape.length > 8 || !shape.every((n) => Number.isSafeInteger(n) && n >= 0)) {
    throw new DataError(expected(where, 'a shape of at most 8 sizes', show(shape)));
  }
  const size = (shape as number[]).reduce((a, b) => a * b, 1);
  const itemBytes = Number(m[1]);
  if (size * itemBytes > fileSize) {
    throw new DataError(expected(where, `data that fits in the file (${fileSize} bytes)`,
      `shape [${shape.join(', ')}]`));
  }
  budget.reading = { where, chunkBytes: chunkBytes(d, shape as number[], size, itemBytes, where) };
  const values = d.value;
  budget.reading = null;
  // findIndex visits the holes a chunk missing from the file leaves (every() skips them: NaN weights)
  if (!Array.isArray(values) || values.length !== size || values.findIndex((v) => typeof v !== 'number') >= 0) {
    throw new DataError(expected(where, `${size} stored numbers`, 'a dataset without them'));
  }
  return new Tensor(shape as number[], m[1] === '8' ? Float64Array.from(values) : Float32Array.from(values));
}

/**
 * The bytes one chunk of a chunked dataset holds (0 when it is stored whole),
 * checked before jsfive reads the chunks: jsfive inflates each chunk and
 * visits each of its elements, so chunks have the dataset's dimensions, none
 * 0, and no more elements than it.
 */
function chunkBytes(d: H5Dataset, shape: number[], size: number, itemBytes: number, where: string): number {
  const chunks = d._dataobjects.chunks;
  if (chunks === null) return 0;
  const ok = Array.isArray(chunks) && chunks.length === shape.length
    && chunks.every((n) => Number.isSafeInteger(n) && n >= 1);
  const elements = ok ? (chunks as number[]).reduce((a, b) => a * b, 1) : NaN;
  if (!(elements <= Math.max(1, size))) {
    const what = `chunks of ${shape.length} sizes of at least 1, at most ${size} elements in all`;
    throw new DataError(expected(where, what, `chunks ${show(chunks)}`));
  }
  return elements * itemBytes;
}

/**
 * A list-of-strings attribute as Keras writes it: fixed-length byte strings
 * (NUL-padded), split into `name0`, `name1`, … when it is large. Null when absent.
 */
function stringsAttr(obj: H5Object, name: string, where: string): string[] | null {
  const attrs = obj.attrs;
  const parts: unknown[] = [];
  if (Object.hasOwn(attrs, name)) parts.push(attrs[name]);
  else for (let i = 0; Object.hasOwn(attrs, `${name}${i}`); i++) parts.push(attrs[`${name}${i}`]);
  if (parts.length === 0) return null;
  return parts.flatMap((p) => {
    const list = typeof p === 'string' ? [p] : p; // a layer without weights has [] (of floats)
    if (!Array.isArray(list) || !list.every((s) => typeof s === 'string')) {
      throw new DataError(expected(`${where}: attribute ${name}`, 'a list of strings', show(list)));
    }
    return list.map((s: string) => s.replace(/\0.*$/s, ''));
  });
}

function asGroup(x: unknown, where: string): H5Group {
  if (!(x instanceof hdf5.Group)) throw new DataError(expected(where, 'a group', x instanceof hdf5.Dataset ? 'a dataset' : 'a broken link'));
  return x;
}

function asDataset(x: unknown, where: string): H5Dataset {
  if (!(x instanceof hdf5.Dataset)) throw new DataError(expected(where, 'a dataset', x instanceof hdf5.Group ? 'a group' : 'a broken link'));
  return x;
}
