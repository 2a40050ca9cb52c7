// The PyTorch parity case runner, shared by parity.test.ts (default backend)
// and parity-wasm.test.ts (wasm backend, float32).
import assert from 'node:assert/strict';
import { constant, mul, sum, add, type Variable, Variable as Var } from '../../src/autograd/index.js';
import { GRU, LSTM, RNN } from '../../src/nn/index.js';
import type { DType } from '../../src/tensor/index.js';
import { readFixture, tensorOf, worstDiff, type TensorJson } from '../helpers.js';

export interface Case {
  name: string;
  mode: 'rnn_tanh' | 'rnn_relu' | 'lstm' | 'gru' | 'gru_reset_before';
  input_size: number;
  hidden_size: number;
  num_layers: number;
  bidirectional: boolean;
  lengths: number[] | null;
  params: Record<string, TensorJson>;
  x: TensorJson;
  h0: TensorJson | null;
  c0: TensorJson | null;
  output: TensorJson;
  h_n: TensorJson;
  c_n: TensorJson | null;
  loss_weights: { output: TensorJson; h_n: TensorJson; c_n: TensorJson | null };
  loss: number;
  grads: Record<string, TensorJson | null>;
}

function build(c: Case, dtype: DType) {
  const base = { inputSize: c.input_size, hiddenSize: c.hidden_size, numLayers: c.num_layers, bidirectional: c.bidirectional, dtype };
  switch (c.mode) {
    case 'rnn_tanh': return new RNN({ ...base, nonlinearity: 'tanh' });
    case 'rnn_relu': return new RNN({ ...base, nonlinearity: 'relu' });
    case 'lstm': return new LSTM(base);
    case 'gru': return new GRU(base);
    case 'gru_reset_before': return new GRU({ ...base, resetAfter: false });
  }
}

/** Tolerances of the issue: 1e-5 absolute in float64, 1e-4 relative to the tensor's scale in float32. */
function assertClose(what: string, got: ArrayLike<number>, want: TensorJson, dtype: DType): void {
  const { err, at, scale } = worstDiff(got, want.data);
  const tol = dtype === 'float64' ? 1e-5 : 1e-4 * Math.max(scale, 1e-3);
  assert.ok(err <= tol, `${what}: max error ${err} at ${at} (got ${got[at]}, want ${want.data[at]}), tolerance ${tol}`);
}

/** Loads the fixture weights into a fresh layer, runs forward and backward, and checks outputs and gradients against PyTorch's. */
export function runCase(c: Case, dtype: DType): void {
  const model = build(c, dtype);
  model.loadStateDict(Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k, tensorOf(v, dtype)])));
  const x = new Var(tensorOf(c.x, dtype), true);
  const h0 = c.h0 ? new Var(tensorOf(c.h0, dtype), true) : undefined;
  const c0 = c.c0 ? new Var(tensorOf(c.c0, dtype), true) : undefined;
  const state = c0 ? { h: h0!, c: c0 } : h0 ? { h: h0 } : undefined;
  const { output, state: final } = model.forward(x, state, c.lengths ? { lengths: c.lengths } : {});
  const weighted = (v: Variable, w: TensorJson) => sum(mul(v, constant(w.data, w.shape, v)));
  let loss = add(weighted(output, c.loss_weights.output), weighted(final.h, c.loss_weights.h_n));
  const finalC = (final as { c?: Variable }).c;
  if (finalC && c.loss_weights.c_n) loss = add(loss, weighted(finalC, c.loss_weights.c_n));
  loss.backward();

  assertClose('output', output.data, c.output, dtype);
  assertClose('h_n', final.h.data, c.h_n, dtype);
  if (c.c_n) assertClose('c_n', finalC!.data, c.c_n, dtype);
  assertClose('loss', [loss.item()], { shape: [], data: [c.loss] }, dtype);
  assertClose('grad x', x.grad!.data, c.grads.x!, dtype);
  if (h0) assertClose('grad h0', h0.grad!.data, c.grads.h0!, dtype);
  if (c0) assertClose('grad c0', c0.grad!.data, c.grads.c0!, dtype);
  for (const [name, p] of model.namedParameters()) {
    assert.ok(p.grad, `grad ${name} missing`);
    assertClose(`grad ${name}`, p.grad.data, c.grads[name]!, dtype);
  }
}

/** The fixture files under test/fixtures, one per recurrent mode. */
export const parityFiles = ['rnn_tanh', 'rnn_relu', 'lstm', 'gru', 'gru_reset_before'] as const;

export function loadCases(file: string): Case[] {
  return readFixture<{ cases: Case[] }>(`${file}.json`).cases;
}
