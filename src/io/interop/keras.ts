/**
 * Keras / TF2 recurrent weights → PyTorch-named parameters (which load into
 * bptt's RNN / LSTM / GRU, and into torch.nn's).
 *
 * Keras stores `kernel` [in, G·H] and `recurrent_kernel` [H, G·H], PyTorch's
 * transposed. Gate blocks: LSTM i,f,c,o = PyTorch's i,f,g,o (same order);
 * GRU z,r,h → PyTorch r,z,n. Biases: LSTM and SimpleRNN one [G·H] (→ bias_ih,
 * bias_hh zero); GRU reset_after=True (Keras's default) [2, 3H] = input and
 * recurrent biases (→ bias_ih, bias_hh; PyTorch's GRU); reset_after=False
 * [3H] (→ bias_ih, bias_hh zero; bptt's GRU with resetAfter: false, the
 * original equations, which PyTorch lacks). Keras's GRU update
 * h = z ⊙ h₋₁ + (1 − z) ⊙ ĥ is PyTorch's.
 */
import { ConfigError, DataError, Tensor, expected, listOf, quoted, requireBoolean } from '../../tensor/index.js';

export type KerasCell = 'lstm' | 'gru' | 'rnn';

/** The three variables of one Keras recurrent cell (one direction of one layer). */
export interface KerasCellWeights {
  kernel: Tensor;
  recurrentKernel: Tensor;
  bias?: Tensor | null;
}

/** One stacked layer: the forward cell, and the backward one of a Bidirectional wrapper. */
export interface KerasLayerWeights {
  forward: KerasCellWeights;
  backward?: KerasCellWeights | null;
}

export interface KerasConversionOptions {
  cell: KerasCell;
  /** GRU only: Keras's reset_after (default: read from the bias shape, [2, 3H] → true, [3H] → false; true without bias) */
  resetAfter?: boolean;
  /** Keras's activation; only what bptt's cells compute is accepted (LSTM/GRU 'tanh'; SimpleRNN 'tanh' or 'relu') */
  activation?: string;
  /** Keras's recurrent_activation (LSTM, GRU): must be 'sigmoid' (Keras 2+'s default; 'hard_sigmoid' is refused) */
  recurrentActivation?: string;
}

export interface KerasConversion {
  /** weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, …, `_reverse` for backward cells */
  tensors: Map<string, Tensor>;
  /** the options of the bptt (or torch.nn) module these weights load into */
  module: { kind: 'RNN' | 'LSTM' | 'GRU'; inputSize: number; hiddenSize: number; numLayers: number; bidirectional: boolean; bias: boolean; nonlinearity?: 'tanh' | 'relu'; resetAfter?: boolean };
}

const GATES: Record<KerasCell, number> = { lstm: 4, gru: 3, rnn: 1 };
/** Keras block of each PyTorch block. */
const BLOCKS: Record<KerasCell, number[]> = { lstm: [0, 1, 2, 3], gru: [1, 0, 2], rnn: [0] };

/** Converts the layers of a Keras recurrent stack (first layer first). */
export function kerasToTorch(layers: readonly KerasLayerWeights[], options: KerasConversionOptions): KerasConversion {
  const where = 'kerasToTorch';
  const { cell } = options;
  if (!Object.hasOwn(GATES, cell)) throw new ConfigError(expected(where, "cell 'lstm', 'gru' or 'rnn'", quoted(cell)));
  checkActivations(where, options);
  if (layers.length === 0) throw new ConfigError(expected(where, 'at least one layer', 0));
  const bidirectional = !!layers[0]!.backward;
  const first = layers[0]!.forward;
  const G = GATES[cell];
  if (first.kernel.rank !== 2 || first.kernel.shape[1]! % G !== 0) {
    throw new DataError(expected(`${where}: layer 0 kernel`, `a 2-D [input, ${G}·hidden] tensor`, [...first.kernel.shape]));
  }
  const H = first.kernel.shape[1]! / G;
  const inputSize = first.kernel.shape[0]!;
  const hasBias = first.bias != null;
  const fromBias = first.bias ? first.bias.rank === 2 : true;
  const resetAfter = cell === 'gru' ? requireBoolean(where, 'resetAfter', options.resetAfter, fromBias) : undefined;
  const tensors = new Map<string, Tensor>();
  layers.forEach((layer, l) => {
    if (!!layer.backward !== bidirectional) throw new DataError(expected(`${where}: layer ${l}`, bidirectional ? 'a backward cell, as layer 0 has' : 'no backward cell, as layer 0 has none', bidirectional ? 'none' : 'one'));
    const cells: Array<[string, KerasCellWeights]> = [[`_l${l}`, layer.forward]];
    if (layer.backward) cells.push([`_l${l}_reverse`, layer.backward]);
    for (const [suffix, w] of cells) {
      const at = `${where}: layer ${l}${suffix.endsWith('_reverse') ? ' backward' : ''}`;
      const inSize = l === 0 ? inputSize : H * (bidirectional ? 2 : 1);
      checkShape(`${at} kernel`, w.kernel, [inSize, G * H]);
      checkShape(`${at} recurrent_kernel`, w.recurrentKernel, [H, G * H]);
      tensors.set(`weight_ih${suffix}`, transposeBlocks(w.kernel, BLOCKS[cell], H));
      tensors.set(`weight_hh${suffix}`, transposeBlocks(w.recurrentKernel, BLOCKS[cell], H));
      if ((w.bias != null) !== hasBias) throw new DataError(expected(`${at} bias`, hasBias ? 'a bias, as layer 0 has' : 'no bias, as layer 0 has none', hasBias ? 'none' : 'one'));
      if (!w.bias) continue;
      const [bIh, bHh] = splitBias(`${at} bias`, w.bias, cell, G, H, resetAfter);
      tensors.set(`bias_ih${suffix}`, reorder(bIh, BLOCKS[cell], H));
      tensors.set(`bias_hh${suffix}`, reorder(bHh, BLOCKS[cell], H));
    }
  });
  const kind = cell === 'lstm' ? 'LSTM' : cell === 'gru' ? 'GRU' : 'RNN';
  const module: KerasConversion['module'] = { kind, inputSize, hiddenSize: H, numLayers: layers.length, bidirectional, bias: hasBias };
  if (cell === 'rnn') module.nonlinearity = (options.activation ?? 'tanh') as 'tanh' | 'relu';
  if (cell === 'gru') module.resetAfter = resetAfter;
  return { tensors, module };
}

/** A Keras Dense layer's kernel [in, out] as PyTorch's Linear weight [out, in] (the bias is the same). */
export function kerasDenseToTorch(kernel: Tensor, bias?: Tensor | null): Map<string, Tensor> {
  if (kernel.rank !== 2) throw new DataError(expected('kerasDenseToTorch: kernel', 'a 2-D [in, out] tensor', [...kernel.shape]));
  const out = new Map([['weight', transposeBlocks(kernel, [0], kernel.shape[1]!)]]);
  if (bias) {
    checkShape('kerasDenseToTorch: bias', bias, [kernel.shape[1]!]);
    out.set('bias', bias.clone());
  }
  return out;
}

function checkActivations(where: string, o: KerasConversionOptions): void {
  const act = o.activation ?? 'tanh';
  const allowed = o.cell === 'rnn' ? ['tanh', 'relu'] : ['tanh'];
  if (!allowed.includes(act)) {
    const names = allowed.map((a) => `'${a}'`).join(' or ');
    throw new ConfigError(expected(where, `activation ${names}`, quoted(act), 'bptt computes only these'));
  }
  if (o.cell === 'rnn') {
    if (o.recurrentActivation !== undefined) {
      throw new ConfigError(expected(where, 'no recurrentActivation for a SimpleRNN', quoted(o.recurrentActivation)));
    }
  } else if ((o.recurrentActivation ?? 'sigmoid') !== 'sigmoid') {
    throw new ConfigError(expected(where, "recurrentActivation 'sigmoid'", quoted(o.recurrentActivation),
      "Keras 1's default 'hard_sigmoid' computes other gates"));
  }
  if (o.resetAfter !== undefined && o.cell !== 'gru') {
    throw new ConfigError(expected(where, 'resetAfter only for a GRU', `resetAfter with cell ${quoted(o.cell)}`));
  }
}

/** Keras's bias as (input-side, hidden-side) biases in Keras block order. */
function splitBias(where: string, bias: Tensor, cell: KerasCell, G: number, H: number, resetAfter: boolean | undefined): [Tensor, Tensor] {
  if (cell === 'gru' && resetAfter) {
    checkShape(where, bias, [2, G * H], 'reset_after=True keeps input and recurrent biases, shape (2, 3·units)');
    return [new Tensor([G * H], bias.data.slice(0, G * H)), new Tensor([G * H], bias.data.slice(G * H))];
  }
  checkShape(where, bias, [G * H], cell === 'gru' ? 'reset_after=False keeps one bias, shape (3·units)' : undefined);
  return [bias.clone(), Tensor.zeros([G * H], bias.dtype)];
}

/** [rows, G·H] → [G·H, rows], with the gate blocks moved to PyTorch's order. */
function transposeBlocks(t: Tensor, blocks: readonly number[], H: number): Tensor {
  const [rows, cols] = t.shape as [number, number];
  const out = Tensor.zeros([cols, rows], t.dtype);
  blocks.forEach((from, to) => {
    for (let j = 0; j < H; j++) {
      for (let i = 0; i < rows; i++) out.data[(to * H + j) * rows + i] = t.data[i * cols + from * H + j]!;
    }
  });
  return out;
}

function reorder(v: Tensor, blocks: readonly number[], H: number): Tensor {
  const out = Tensor.zeros(v.shape, v.dtype);
  blocks.forEach((from, to) => out.data.set(v.data.subarray(from * H, (from + 1) * H), to * H));
  return out;
}

function checkShape(where: string, t: Tensor, want: readonly number[], hint?: string): void {
  if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
    throw new DataError(expected(where, `shape [${want.join(', ')}]`, [...t.shape], hint));
  }
}

/**
 * Groups Keras variables by name into a recurrent stack. Names are Keras
 * weight paths, e.g. `lstm/lstm_cell/kernel:0` (Keras 2), `lstm/kernel`
 * (Keras 3), `bidirectional/forward_lstm/lstm_cell/recurrent_kernel`.
 * Layers are ordered by `order` (a list of layer-name prefixes) or else by
 * name, naturally (`lstm`, `lstm_1`, `lstm_2`, …); in a Bidirectional
 * wrapper the path with `backward` is the backward cell.
 */
export function groupKerasWeights(named: ReadonlyMap<string, Tensor>, order?: readonly string[]): KerasLayerWeights[] {
  const where = 'groupKerasWeights';
  const cells = new Map<string, Partial<Record<'kernel' | 'recurrent_kernel' | 'bias', Tensor>>>();
  for (const [raw, t] of named) {
    const name = raw.replace(/:\d+$/, '');
    const m = /^(.*)\/(kernel|recurrent_kernel|bias)$/.exec(name);
    if (!m) {
      throw new DataError(expected(`${where}: ${quoted(raw)}`, 'a name ending in /kernel, /recurrent_kernel or /bias',
        'another name'));
    }
    const key = m[1]!.replace(/\/[a-z_]*cell(_\d+)?$/, ''); // Keras 2 puts the variables under <layer>/<cell>/
    const entry = cells.get(key) ?? {};
    entry[m[2] as 'kernel'] = t;
    cells.set(key, entry);
  }
  const layerOf = (key: string): { layer: string; backward: boolean } => {
    const m = /^(.*)\/(forward|backward)_[^/]*$/.exec(key);
    return m ? { layer: m[1]!, backward: m[2] === 'backward' } : { layer: key, backward: false };
  };
  const layers = new Map<string, KerasLayerWeights>();
  for (const [key, v] of cells) {
    if (!v.kernel || !v.recurrent_kernel) {
      throw new DataError(expected(`${where}: ${quoted(key)}`, 'a kernel and a recurrent_kernel',
        Object.keys(v).join(', ')));
    }
    const w: KerasCellWeights = { kernel: v.kernel, recurrentKernel: v.recurrent_kernel, bias: v.bias ?? null };
    const { layer, backward } = layerOf(key);
    const l = layers.get(layer) ?? ({} as KerasLayerWeights);
    if (backward) l.backward = w;
    else l.forward = w;
    layers.set(layer, l);
  }
  for (const [name, l] of layers) {
    if (!l.forward) {
      throw new DataError(expected(`${where}: layer ${quoted(name)}`, 'a forward cell', 'only a backward one'));
    }
  }
  let names = [...layers.keys()];
  if (order) {
    const missing = order.filter((n) => !layers.has(n));
    const extra = names.filter((n) => !order.includes(n));
    if (missing.length || extra.length) {
      throw new DataError(expected(`${where}: layer order`, `exactly the layers in the file ${listOf(names)}`,
        listOf(order)));
    }
    names = [...order];
  } else {
    names.sort(naturalCompare);
  }
  return names.map((n) => layers.get(n)!);
}

function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
