/**
 * ONNX export of recurrent models: token ids → Embedding (Gather) → stacked
 * RNN / LSTM / GRU layers (the ONNX operators, one per layer) → Linear
 * (MatMul + Add). Opset 14, float32, time-major [T, B, ...].
 *
 * Weight layouts (ONNX operator spec): W [D, G·H, in], R [D, G·H, H],
 * B [D, 2·G·H] = [Wb, Rb]. Gate blocks are reordered from PyTorch's:
 * LSTM i,f,g,o → i,o,f,c; GRU r,z,n → z,r,h with linear_before_reset = 1
 * (PyTorch's GRU) or 0 (resetAfter: false); RNN activations Tanh or Relu.
 */
import type { Embedding, Linear, Recurrent } from '../../../nn/index.js';
import { ConfigError, Tensor, expected, requireBoolean, show, textOf } from '../../../tensor/index.js';
import { OnnxGraph, type Dim } from './graph.js';

export const ONNX_OPSET = 14;

export type RecurrentCellKind = 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru' | 'gru_reset_before';

/** Which cell a recurrent layer runs (its step table is named after it). */
export function recurrentCellKind(rnn: Recurrent): RecurrentCellKind {
  const name = rnn.cell?.name;
  const kinds: readonly string[] = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru', 'gru_reset_before'];
  if (typeof name !== 'string' || !kinds.includes(name)) throw new ConfigError(expected('recurrentCellKind', 'an RNN, LSTM or GRU layer', textOf(name)));
  return name as RecurrentCellKind;
}

/** PyTorch gate block k of each ONNX block, and the ONNX operator. */
const LAYOUT: Record<RecurrentCellKind, { op: 'RNN' | 'LSTM' | 'GRU'; blocks: number[] }> = {
  rnn_tanh: { op: 'RNN', blocks: [0] },
  rnn_relu: { op: 'RNN', blocks: [0] },
  lstm: { op: 'LSTM', blocks: [0, 3, 1, 2] }, // i, o, f, c from i, f, g, o
  gru: { op: 'GRU', blocks: [1, 0, 2] }, // z, r, h from r, z, n
  gru_reset_before: { op: 'GRU', blocks: [1, 0, 2] },
};

export interface OnnxSequenceModel {
  /** token ids in (int64 [T, B]) when set; otherwise float features [T, B, inputSize] */
  embedding?: Embedding | null;
  rnn: Recurrent;
  /** a linear layer on every step's output */
  head?: Linear | null;
}

export interface OnnxExportOptions {
  /**
   * true (default): the initial state is an input (`h0`, and `c0` for an LSTM:
   * [layers·directions, B, H], zeros for a fresh start) and the final state an
   * output (`hn`, `cn`), so a stream can be continued window by window.
   */
  state?: boolean;
  /** written into the model's metadata_props */
  metadata?: Record<string, string>;
  producerVersion?: string;
  graphName?: string;
}

/**
 * The model as ONNX bytes. Inputs `tokens` (int64 [T, B]) or `input` (float
 * [T, B, F]; [B, T, F] with batchFirst), then `h0` / `c0`; outputs `logits`
 * (with a head) or `output` ([T, B, D·H]), then `hn` / `cn`.
 */
export function exportOnnx(model: OnnxSequenceModel, options: OnnxExportOptions = {}): Uint8Array {
  const { rnn, embedding = null, head = null } = model;
  const kind = recurrentCellKind(rnn);
  const withState = requireBoolean('exportOnnx', 'state', options.state, true);
  const H = rnn.hiddenSize;
  const D = rnn.directions;
  const slots = rnn.numLayers * D;
  if (embedding && embedding.embeddingDim !== rnn.inputSize) {
    throw new ConfigError(expected('exportOnnx: embedding', `embeddingDim ${rnn.inputSize} (the recurrent input size)`,
      show(embedding.embeddingDim)));
  }
  if (head && head.inFeatures !== D * H) {
    throw new ConfigError(expected('exportOnnx: head', `inFeatures ${D * H} (directions · hidden)`,
      show(head.inFeatures)));
  }

  const g = new OnnxGraph();
  const T = 'time', B = 'batch';
  let x: string;
  if (embedding) {
    const ids = g.input('tokens', 'int64', [T, B]);
    [x] = g.node('Gather', [g.floats('embedding.weight', embedding.weight.value), ids], ['embedded'], { axis: { int: 0 } }) as [string];
  } else {
    const dims: Dim[] = rnn.batchFirst ? [B, T, rnn.inputSize] : [T, B, rnn.inputSize];
    x = g.input('input', 'float', dims);
    if (rnn.batchFirst) [x] = g.node('Transpose', [x], ['input_tm'], { perm: { ints: [1, 0, 2] } }) as [string];
  }
  const h0 = withState ? g.input('h0', 'float', [slots, B, H]) : '';
  const c0 = withState && kind === 'lstm' ? g.input('c0', 'float', [slots, B, H]) : '';

  const { y, hs, cs } = recurrentNodes(g, rnn, kind, x, h0, c0);
  let out = y;
  if (rnn.batchFirst && !embedding) [out] = g.node('Transpose', [out], ['output_bf'], { perm: { ints: [1, 0, 2] } }) as [string];
  const seqDims: Dim[] = rnn.batchFirst && !embedding ? [B, T] : [T, B];
  if (head) {
    const wT = transpose2d(head.weight.value);
    [out] = g.node('MatMul', [out, g.floats('head.weight_t', wT)], ['head_matmul']) as [string];
    if (head.bias) [out] = g.node('Add', [out, g.floats('head.bias', head.bias.value)], ['head_add']) as [string];
    g.output('logits', out, 'float', [...seqDims, head.outFeatures]);
  } else {
    g.output('output', out, 'float', [...seqDims, D * H]);
  }
  if (withState) {
    const [hn] = g.node('Concat', hs, ['hn_concat'], { axis: { int: 0 } }) as [string];
    g.output('hn', hn, 'float', [slots, B, H]);
    if (kind === 'lstm') {
      const [cn] = g.node('Concat', cs, ['cn_concat'], { axis: { int: 0 } }) as [string];
      g.output('cn', cn, 'float', [slots, B, H]);
    }
  }
  return g.encode({
    graphName: options.graphName ?? 'bptt', producerVersion: options.producerVersion ?? '', opset: ONNX_OPSET, metadata: options.metadata,
    docString: `${embedding ? 'Embedding → ' : ''}${rnn.numLayers}-layer ${D === 2 ? 'bidirectional ' : ''}${kind} (hidden ${H})${head ? ' → Linear' : ''}, exported by bptt`,
  });
}

/** One ONNX RNN/LSTM/GRU node per layer; returns the last layer's output [T, B, D·H] and each layer's final states. */
function recurrentNodes(g: OnnxGraph, rnn: Recurrent, kind: RecurrentCellKind, x: string, h0: string, c0: string): { y: string; hs: string[]; cs: string[] } {
  const { op, blocks } = LAYOUT[kind];
  const H = rnn.hiddenSize, D = rnn.directions;
  const params = new Map(rnn.namedParameters().map(([n, p]) => [n, p.value]));
  const hs: string[] = [], cs: string[] = [];
  let input = x;
  for (let l = 0; l < rnn.numLayers; l++) {
    const dirs = Array.from({ length: D }, (_, d) => `_l${l}${d === 1 ? '_reverse' : ''}`);
    const get = (name: string): Tensor | null => params.get(name) ?? null;
    const W = stackDirections(dirs.map((s) => reorderRows(get(`weight_ih${s}`)!, blocks, H)));
    const R = stackDirections(dirs.map((s) => reorderRows(get(`weight_hh${s}`)!, blocks, H)));
    const G = blocks.length * H;
    const bias = stackDirections(dirs.map((s) => {
      const bi = get(`bias_ih${s}`), bh = get(`bias_hh${s}`);
      const both = new Float32Array(2 * G);
      if (bi) both.set(reorderRows(bi, blocks, H).data, 0);
      if (bh) both.set(reorderRows(bh, blocks, H).data, G);
      return new Tensor([2 * G], both);
    }));
    const slice = (state: string, name: string): string => (state === ''
      ? ''
      : g.node('Slice', [state, g.int64s('starts', [l * D]), g.int64s('ends', [(l + 1) * D]), g.int64s('axes', [0])], [`${name}_l${l}`])[0]!);
    const inputs = [input, g.floats(`W_l${l}`, W), g.floats(`R_l${l}`, R), g.floats(`B_l${l}`, bias), '', slice(h0, 'h0')];
    if (op === 'LSTM') inputs.push(slice(c0, 'c0'));
    while (inputs[inputs.length - 1] === '') inputs.pop();
    const attrs: Parameters<OnnxGraph['node']>[3] = { hidden_size: { int: H }, direction: { string: D === 2 ? 'bidirectional' : 'forward' } };
    if (op === 'GRU') attrs.linear_before_reset = { int: kind === 'gru' ? 1 : 0 };
    if (op === 'RNN') attrs.activations = { strings: Array(D).fill(kind === 'rnn_relu' ? 'Relu' : 'Tanh') };
    const outs = g.node(op, inputs, op === 'LSTM' ? [`Y_l${l}`, `Y_h_l${l}`, `Y_c_l${l}`] : [`Y_l${l}`, `Y_h_l${l}`], attrs);
    hs.push(outs[1]!);
    if (op === 'LSTM') cs.push(outs[2]!);
    // Y is [T, D, B, H]: to [T, B, D·H] for the next layer (directions side by side, as PyTorch concatenates them).
    const [yt] = g.node('Transpose', [outs[0]!], [`Y_l${l}_tbdh`], { perm: { ints: [0, 2, 1, 3] } });
    [input] = g.node('Reshape', [yt!, g.int64s('shape_tb_', [0, 0, -1])], [`out_l${l}`]) as [string];
  }
  return { y: input, hs, cs };
}

/** Rows of a [G·H, ...] (or [G·H]) tensor in the ONNX block order. */
function reorderRows(t: Tensor, blocks: readonly number[], H: number): Tensor {
  const rowLen = t.shape.length > 1 ? t.shape[1]! : 1;
  const out = new Float32Array(t.size);
  blocks.forEach((from, to) => out.set(t.data.subarray(from * H * rowLen, (from + 1) * H * rowLen), to * H * rowLen));
  return new Tensor(t.shape, out);
}

function stackDirections(ts: Tensor[]): Tensor {
  const out = new Float32Array(ts.reduce((n, t) => n + t.size, 0));
  let at = 0;
  for (const t of ts) {
    out.set(t.data, at);
    at += t.size;
  }
  return new Tensor([ts.length, ...ts[0]!.shape], out);
}

function transpose2d(t: Tensor): Tensor {
  const [r, c] = t.shape as [number, number];
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j]!;
  return new Tensor([c, r], out);
}
