#!/usr/bin/env python3
"""PyTorch interop fixtures for bptt: state dicts in both directions.

Usage (from the repository root, after `npx tsc -p .` so dist/ is current):

    /usr/bin/python3 tools/make_interop_fixtures.py [OUT_DIR]   (default: test/fixtures/interop)

For every config of CONFIGS (also written to OUT_DIR/configs.json, which the
tests read) it writes:

  torch_<name>.safetensors     the state dict of a seeded torch model
                               (float32, torch.nn names: rnn.weight_ih_l0, ..., head.weight)
  io_<name>.safetensors        a float32 input (x, or token ids as F64), initial
                               state h0 (c0), and torch's outputs computed in float64
                               from those weights: output, h_n, c_n, logits
  ours_<name>.safetensors      bptt's export of a model bptt initialised itself
                               (seed in the config), written by `node` through
                               bptt's encodeTorchSafetensors (dist/ must be built)
  ours_<name>.torch.safetensors  torch's outputs for that file, loaded with
                               load_state_dict(strict=True), on the same inputs

so the tests check: torch weights load into bptt and give torch's outputs,
and bptt's export loads strictly into torch and gives what bptt computes.
Safetensors are read and written by tools/safetensors_io.py (Debian has no
python3-safetensors); the format is an 8-byte header length, a JSON header,
then little-endian data. Deterministic: rerunning writes identical files.
"""
import json
import os
import subprocess
import sys

import torch
from torch import nn

import safetensors_io

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
T, B = 5, 2

# kind: torch module; the bptt test builds the same from these fields.
CONFIGS = [
    {"name": "lstm_bi2", "cell": "lstm", "input": 3, "hidden": 4, "layers": 2, "bidirectional": True, "head": 3, "seed": 11},
    {"name": "gru", "cell": "gru", "input": 3, "hidden": 4, "layers": 1, "bidirectional": False, "head": 3, "seed": 12},
    {"name": "gru_bi2", "cell": "gru", "input": 3, "hidden": 4, "layers": 2, "bidirectional": True, "head": 2, "seed": 13},
    {"name": "rnn_tanh", "cell": "rnn_tanh", "input": 3, "hidden": 4, "layers": 2, "bidirectional": False, "head": 3, "seed": 14},
    {"name": "rnn_relu", "cell": "rnn_relu", "input": 3, "hidden": 4, "layers": 1, "bidirectional": True, "head": 3, "seed": 15},
    {"name": "lm_lstm", "cell": "lstm", "vocab": 7, "input": 3, "hidden": 4, "layers": 2, "bidirectional": False, "head": 7, "seed": 16},
]



def write_safetensors(path, tensors, metadata=None):
    """torch tensors (float64 stays F64, the rest F32) as safetensors."""
    safetensors_io.write_safetensors(path, {n: t.detach().cpu().numpy() for n, t in tensors.items()}, metadata)


def read_safetensors(path):
    return {n: torch.from_numpy(a) for n, a in safetensors_io.read_safetensors(path).items()}


class Net(nn.Module):
    """[Embedding →] RNN/LSTM/GRU → Linear, time-major."""

    def __init__(self, c):
        super().__init__()
        if "vocab" in c:
            self.embedding = nn.Embedding(c["vocab"], c["input"])
        cls = {"lstm": nn.LSTM, "gru": nn.GRU}.get(c["cell"])
        if cls is None:
            self.rnn = nn.RNN(c["input"], c["hidden"], c["layers"], nonlinearity=c["cell"][4:], bidirectional=c["bidirectional"])
        else:
            self.rnn = cls(c["input"], c["hidden"], c["layers"], bidirectional=c["bidirectional"])
        self.head = nn.Linear(c["hidden"] * (2 if c["bidirectional"] else 1), c["head"])

    def forward(self, x, state):
        if hasattr(self, "embedding"):
            x = self.embedding(x)
        y, state = self.rnn(x, state)
        return y, state, self.head(y)


def inputs_for(c, gen):
    slots = c["layers"] * (2 if c["bidirectional"] else 1)
    io = {}
    if "vocab" in c:
        io["x"] = torch.randint(0, c["vocab"], (T, B), generator=gen).to(torch.float64)
    else:
        io["x"] = (torch.rand(T, B, c["input"], generator=gen) * 2 - 1).to(torch.float32)
    io["h0"] = (torch.rand(slots, B, c["hidden"], generator=gen) - 0.5).to(torch.float32)
    if c["cell"] == "lstm":
        io["c0"] = (torch.rand(slots, B, c["hidden"], generator=gen) - 0.5).to(torch.float32)
    return io


def run(model, c, io):
    """Outputs in float64 of a float32-weighted model (the weights are exact in both)."""
    m = Net(c).double().eval()
    m.load_state_dict({k: v.double() for k, v in model.state_dict().items()}, strict=True)
    x = io["x"].long() if "vocab" in c else io["x"].double()
    state = io["h0"].double() if c["cell"] != "lstm" else (io["h0"].double(), io["c0"].double())
    with torch.no_grad():
        y, s, logits = m(x, state)
    out = {"output": y, "logits": logits}
    if c["cell"] == "lstm":
        out["h_n"], out["c_n"] = s
    else:
        out["h_n"] = s
    return out


NODE_EXPORT = r"""
import { writeFileSync } from 'node:fs';
import { Embedding, GRU, LSTM, Linear, Module, RNN, Rng, encodeTorchSafetensors } from './dist/src/index.js';
const [dir, json] = process.argv.slice(1);
class Net extends Module {
  constructor(c) {
    super();
    const rng = new Rng(c.seed);
    if (c.vocab) this.embedding = this.addModule('embedding', new Embedding(c.vocab, c.input, { rng: rng.split() }));
    const o = { inputSize: c.input, hiddenSize: c.hidden, numLayers: c.layers, bidirectional: c.bidirectional, rng: rng.split() };
    this.rnn = this.addModule('rnn', c.cell === 'lstm' ? new LSTM(o) : c.cell === 'gru' ? new GRU(o) : new RNN({ ...o, nonlinearity: c.cell.slice(4) }));
    this.head = this.addModule('head', new Linear(c.hidden * (c.bidirectional ? 2 : 1), c.head, { rng: rng.split() }));
  }
}
for (const c of JSON.parse(json)) writeFileSync(`${dir}/ours_${c.name}.safetensors`, encodeTorchSafetensors(new Net(c)));
"""


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "test", "fixtures", "interop")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    with open(os.path.join(out, "configs.json"), "w") as f:
        json.dump({"generator": "tools/make_interop_fixtures.py", "T": T, "B": B, "configs": CONFIGS}, f, indent=1)
        f.write("\n")
    # bptt's side first: its exports of models it initialised itself.
    subprocess.run(["node", "--input-type=module", "-e", NODE_EXPORT, os.path.abspath(out), json.dumps(CONFIGS)], cwd=ROOT, check=True)
    for c in CONFIGS:
        torch.manual_seed(c["seed"])
        gen = torch.Generator().manual_seed(1000 + c["seed"])
        model = Net(c)
        write_safetensors(os.path.join(out, f"torch_{c['name']}.safetensors"), model.state_dict(), {"format": "pt"})
        io = inputs_for(c, gen)
        write_safetensors(os.path.join(out, f"io_{c['name']}.safetensors"), {**io, **run(model, c, io)})

        ours = Net(c)
        ours.load_state_dict(read_safetensors(os.path.join(out, f"ours_{c['name']}.safetensors")), strict=True)
        write_safetensors(os.path.join(out, f"ours_{c['name']}.torch.safetensors"), run(ours, c, io))
        print(f"{c['name']}: torch and bptt state dicts written, bptt's loaded with strict=True")


if __name__ == "__main__":
    main()
