#!/usr/bin/env python3
"""Generate PyTorch parity fixtures for bptt's recurrent layers.

Usage: python3 tools/make_fixtures.py [OUT_DIR]      (default: test/fixtures)

Writes one JSON file per cell kind (rnn_tanh, rnn_relu, lstm, gru,
gru_reset_before), each holding 16 cases:
num_layers {1,2} x bidirectional {no,yes} x lengths {equal, variable}
x initial state {none, given}.  Everything is float64, seeded per case.

Random inputs (weights, x, h0/c0, loss weights) are rounded to 4 decimals
*before* computing, and those exact values are stored.  Computed values
(output, h_n, c_n, loss, grads) are stored with 10 significant digits.

gru_reset_before is the original GRU of Cho et al. (2014),
    n = tanh(W_in x + b_in + W_hn (r * h) + b_hn),
which PyTorch does not provide; it is computed with an explicit time loop
(`manual_gru`) that is first checked, in its linear-before-reset form,
against nn.GRU (outputs, h_n and every gradient to 1e-10).
"""

import json
import math
import os
import sys

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

DTYPE = torch.float64
INPUT_SIZE = 3
HIDDEN_SIZE = 4
T = 5
B = 3
VAR_LENGTHS = [5, 2, 4]  # max == T, deliberately unsorted
MODES = ["rnn_tanh", "rnn_relu", "lstm", "gru", "gru_reset_before"]
GENERATOR = "tools/make_fixtures.py"

torch.set_default_dtype(DTYPE)


# ---------------------------------------------------------------- helpers

def rnd4(t):
    """Round to 4 decimals (the values that get stored and used)."""
    return torch.round(t * 1e4) / 1e4


def sig10(v):
    v = float(v)
    if not math.isfinite(v):
        raise ValueError("non-finite value in fixture: %r" % v)
    return float("%.10g" % v)


def enc_input(t):
    """Encode an input tensor (already rounded to 4 decimals), exactly."""
    data = [float(v) for v in t.detach().reshape(-1).tolist()]
    for v in data:  # shortest repr must round-trip to the same double
        assert float(repr(v)) == v and abs(v * 1e4 - round(v * 1e4)) < 1e-6
    return {"shape": list(t.shape), "data": data}


def enc_out(t):
    """Encode a computed tensor with 10 significant digits."""
    if t is None:
        return None
    return {"shape": list(t.shape),
            "data": [sig10(v) for v in t.detach().reshape(-1).tolist()]}


def make_module(mode, num_layers, bidirectional):
    kw = dict(input_size=INPUT_SIZE, hidden_size=HIDDEN_SIZE,
              num_layers=num_layers, bidirectional=bidirectional,
              batch_first=False, dropout=0.0, bias=True)
    if mode in ("rnn_tanh", "rnn_relu"):
        m = nn.RNN(nonlinearity=mode[4:], **kw)
    elif mode == "lstm":
        m = nn.LSTM(**kw)
    elif mode in ("gru", "gru_reset_before"):
        m = nn.GRU(**kw)  # reset_before only borrows its parameter set
    else:
        raise ValueError(mode)
    return m.to(DTYPE)


def fill_params(module):
    """PyTorch-style U(-1/sqrt(H), 1/sqrt(H)) init, rounded to 4 decimals."""
    k = 1.0 / math.sqrt(HIDDEN_SIZE)
    with torch.no_grad():
        for _, p in module.named_parameters():
            p.copy_(rnd4(torch.empty_like(p).uniform_(-k, k)))


# ------------------------------------------------- manual GRU (both variants)

def manual_gru(x, params, num_layers, bidirectional, lengths, h0,
               linear_before_reset):
    """Explicit time-loop GRU, stacked like nn.GRU.

    x: [T,B,I]; params: dict name -> tensor (nn.GRU names); lengths: list or
    None; h0: [L*D,B,H] or None.  Returns (output [T,B,D*H], h_n [L*D,B,H]).
    A row is active at time t iff t < length; inactive rows keep their state
    and output 0.  Forward runs t=0..T-1, reverse runs t=T-1..0.
    """
    Tn, Bn, _ = x.shape
    H = HIDDEN_SIZE
    D = 2 if bidirectional else 1
    if lengths is None:
        lengths = [Tn] * Bn
    lens = torch.tensor(lengths)
    layer_in = x
    h_last = []
    for layer in range(num_layers):
        dir_outs = []
        for d in range(D):
            sfx = "_l%d%s" % (layer, "_reverse" if d == 1 else "")
            w_ih = params["weight_ih" + sfx]
            w_hh = params["weight_hh" + sfx]
            b_ih = params["bias_ih" + sfx]
            b_hh = params["bias_hh" + sfx]
            w_hr, w_hz, w_hn = w_hh.chunk(3, 0)
            b_hr, b_hz, b_hn = b_hh.chunk(3, 0)
            if h0 is not None:
                h = h0[layer * D + d]
            else:
                h = torch.zeros(Bn, H, dtype=x.dtype)
            outs = [None] * Tn
            steps = range(Tn) if d == 0 else range(Tn - 1, -1, -1)
            for t in steps:
                gi = layer_in[t] @ w_ih.t() + b_ih
                gi_r, gi_z, gi_n = gi.chunk(3, 1)
                r = torch.sigmoid(gi_r + h @ w_hr.t() + b_hr)
                z = torch.sigmoid(gi_z + h @ w_hz.t() + b_hz)
                if linear_before_reset:  # PyTorch / cuDNN / Keras reset_after
                    n = torch.tanh(gi_n + r * (h @ w_hn.t() + b_hn))
                else:  # original GRU (Cho et al. 2014)
                    n = torch.tanh(gi_n + (r * h) @ w_hn.t() + b_hn)
                h_new = (1 - z) * n + z * h
                active = (t < lens).unsqueeze(1)  # [B,1] bool
                h = torch.where(active, h_new, h)
                outs[t] = torch.where(active, h_new, torch.zeros_like(h_new))
            dir_outs.append(torch.stack(outs, 0))
            h_last.append(h)
        layer_in = torch.cat(dir_outs, 2) if D == 2 else dir_outs[0]
    return layer_in, torch.stack(h_last, 0)


# ------------------------------------------------------------- one case

def run_torch(mode, module, x, lengths, h0, c0):
    if mode == "lstm":
        state = None if h0 is None else (h0, c0)
    else:
        state = h0
    if lengths is None:
        out, hn = module(x, state)
    else:
        packed = pack_padded_sequence(x, torch.tensor(lengths),
                                      enforce_sorted=False)
        out_p, hn = module(packed, state)
        out, _ = pad_packed_sequence(out_p, total_length=x.shape[0])
    if mode == "lstm":
        hn, cn = hn
    else:
        cn = None
    return out, hn, cn


def forward(mode, module, x, lengths, h0, c0):
    if mode == "gru_reset_before":
        params = dict(module.named_parameters())
        out, hn = manual_gru(x, params, module.num_layers,
                             module.bidirectional, lengths, h0,
                             linear_before_reset=False)
        return out, hn, None
    return run_torch(mode, module, x, lengths, h0, c0)


def case_name(mode, L, bi, lengths, init):
    return "%s_l%d_%s_%s_%s" % (mode, L, "bi" if bi else "uni",
                                "varlen" if lengths else "eqlen",
                                "h0" if init else "noh0")


def configs():
    for L in (1, 2):
        for bi in (False, True):
            for lengths in (None, VAR_LENGTHS):
                for init in (False, True):
                    yield L, bi, lengths, init


def make_case(mode, L, bi, lengths, init, seed):
    torch.manual_seed(seed)
    D = 2 if bi else 1
    H = HIDDEN_SIZE
    module = make_module(mode, L, bi)
    fill_params(module)
    x = rnd4(torch.randn(T, B, INPUT_SIZE)).requires_grad_(True)
    h0 = c0 = None
    if init:
        h0 = rnd4(torch.randn(L * D, B, H)).requires_grad_(True)
        if mode == "lstm":
            c0 = rnd4(torch.randn(L * D, B, H)).requires_grad_(True)
    w_out = rnd4(torch.randn(T, B, D * H))
    w_h = rnd4(torch.randn(L * D, B, H))
    w_c = rnd4(torch.randn(L * D, B, H)) if mode == "lstm" else None

    out, hn, cn = forward(mode, module, x, lengths, h0, c0)
    assert list(out.shape) == [T, B, D * H]
    assert list(hn.shape) == [L * D, B, H]
    if lengths is not None:  # padded positions are exactly zero
        for b, n in enumerate(lengths):
            assert torch.all(out[n:, b] == 0)
    loss = (out * w_out).sum() + (hn * w_h).sum()
    if cn is not None:
        loss = loss + (cn * w_c).sum()
    names = [n for n, _ in module.named_parameters()]
    leaves = [x] + [p for _, p in module.named_parameters()]
    if h0 is not None:
        leaves.append(h0)
    if c0 is not None:
        leaves.append(c0)
    g = torch.autograd.grad(loss, leaves)
    grads = {"x": enc_out(g[0]),
             "h0": enc_out(g[1 + len(names)]) if h0 is not None else None,
             "c0": enc_out(g[2 + len(names)]) if c0 is not None else None}
    for i, n in enumerate(names):
        grads[n] = enc_out(g[1 + i])

    return {
        "name": case_name(mode, L, bi, lengths, init),
        "mode": mode,
        "seed": seed,
        "input_size": INPUT_SIZE, "hidden_size": H,
        "num_layers": L, "bidirectional": bi,
        "T": T, "B": B,
        "lengths": list(lengths) if lengths is not None else None,
        "params": {n: enc_input(p) for n, p in module.named_parameters()},
        "x": enc_input(x),
        "h0": enc_input(h0) if h0 is not None else None,
        "c0": enc_input(c0) if c0 is not None else None,
        "output": enc_out(out),
        "h_n": enc_out(hn),
        "c_n": enc_out(cn),
        "loss_weights": {"output": enc_input(w_out), "h_n": enc_input(w_h),
                         "c_n": enc_input(w_c) if w_c is not None else None},
        "loss": sig10(loss.item()),
        "grads": grads,
    }


# ------------------------------------------------------------ sanity check

def sanity_check_manual_gru():
    """manual_gru(linear_before_reset=True) must match nn.GRU to 1e-10."""
    worst = 0.0
    n_cfg = 0
    for L, bi, lengths, init in configs():
        torch.manual_seed(12345 + n_cfg)
        D = 2 if bi else 1
        gru = make_module("gru", L, bi)
        fill_params(gru)
        x = rnd4(torch.randn(T, B, INPUT_SIZE)).requires_grad_(True)
        h0 = (rnd4(torch.randn(L * D, B, HIDDEN_SIZE)).requires_grad_(True)
              if init else None)
        w_out = torch.randn(T, B, D * HIDDEN_SIZE)
        w_h = torch.randn(L * D, B, HIDDEN_SIZE)
        params = dict(gru.named_parameters())
        leaves = [x] + list(params.values()) + ([h0] if init else [])

        out_r, hn_r, _ = run_torch("gru", gru, x, lengths, h0, None)
        g_r = torch.autograd.grad((out_r * w_out).sum() + (hn_r * w_h).sum(),
                                  leaves)
        out_m, hn_m = manual_gru(x, params, L, bi, lengths, h0,
                                 linear_before_reset=True)
        g_m = torch.autograd.grad((out_m * w_out).sum() + (hn_m * w_h).sum(),
                                  leaves)
        diffs = [(out_r - out_m).abs().max().item(),
                 (hn_r - hn_m).abs().max().item()]
        diffs += [(a - b).abs().max().item() for a, b in zip(g_r, g_m)]
        d = max(diffs)
        name = case_name("gru", L, bi, lengths, init)
        assert d < 1e-10, "manual GRU != nn.GRU for %s: %g" % (name, d)
        worst = max(worst, d)
        n_cfg += 1

        # the two variants must genuinely differ (reset-before is not a no-op)
        out_b, _ = manual_gru(x, params, L, bi, lengths, h0,
                              linear_before_reset=False)
        assert (out_b - out_m).abs().max().item() > 1e-6
    print("sanity: manual GRU (linear-before-reset) == nn.GRU on %d configs "
          "(outputs, h_n, grads of x/h0/all params); max abs diff %.3g"
          % (n_cfg, worst))


def sanity_check_reset_before_scalar():
    """Independent pure-Python check of one reset-before layer (fwd+rev)."""
    torch.manual_seed(777)
    gru = make_module("gru", 1, True)
    fill_params(gru)
    x = rnd4(torch.randn(T, B, INPUT_SIZE))
    h0 = rnd4(torch.randn(2, B, HIDDEN_SIZE))
    P = {n: p.detach().tolist() for n, p in gru.named_parameters()}
    with torch.no_grad():
        out, hn = manual_gru(x, dict(gru.named_parameters()), 1, True,
                             VAR_LENGTHS, h0, linear_before_reset=False)
    H = HIDDEN_SIZE
    sig = lambda v: 1.0 / (1.0 + math.exp(-v))
    mv = lambda W, v, r0: [sum(W[r0 + i][j] * v[j] for j in range(len(v)))
                           for i in range(H)]
    worst = 0.0
    for d, sfx in enumerate(["_l0", "_l0_reverse"]):
        Wi, Wh = P["weight_ih" + sfx], P["weight_hh" + sfx]
        bi, bh = P["bias_ih" + sfx], P["bias_hh" + sfx]
        for b in range(B):
            n_b = VAR_LENGTHS[b]
            h = h0[d, b].tolist()
            steps = range(n_b) if d == 0 else range(n_b - 1, -1, -1)
            for t in steps:
                xt = x[t, b].tolist()
                ir, iz, inn = mv(Wi, xt, 0), mv(Wi, xt, H), mv(Wi, xt, 2 * H)
                hr, hz = mv(Wh, h, 0), mv(Wh, h, H)
                r = [sig(ir[i] + bi[i] + hr[i] + bh[i]) for i in range(H)]
                z = [sig(iz[i] + bi[H + i] + hz[i] + bh[H + i])
                     for i in range(H)]
                rh = [r[i] * h[i] for i in range(H)]
                hn_ = mv(Wh, rh, 2 * H)
                n = [math.tanh(inn[i] + bi[2 * H + i] + hn_[i] + bh[2 * H + i])
                     for i in range(H)]
                h = [(1 - z[i]) * n[i] + z[i] * h[i] for i in range(H)]
                for i in range(H):
                    worst = max(worst, abs(out[t, b, d * H + i].item() - h[i]))
            for t in range(n_b, T):
                worst = max(worst, abs(out[t, b, d * H:(d + 1) * H]).max().item())
            for i in range(H):
                worst = max(worst, abs(hn[d, b, i].item() - h[i]))
    assert worst < 1e-12, worst
    print("sanity: reset-before loop == pure-Python Cho et al. GRU "
          "(1 layer, bi, lengths %s, h0); max abs diff %.3g"
          % (VAR_LENGTHS, worst))


# ------------------------------------------------------------------- main

def dump(obj, path):
    """Compact JSON, one case per line (keeps diffs readable)."""
    head = {k: v for k, v in obj.items() if k != "cases"}
    lines = ["{" + ",".join("%s:%s" % (json.dumps(k), json.dumps(v))
                            for k, v in head.items()) + ',"cases":[']
    cases = [json.dumps(c, separators=(",", ":"), allow_nan=False)
             for c in obj["cases"]]
    lines.append(",\n".join(cases))
    lines.append("]}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv):
    out_dir = argv[1] if len(argv) > 1 else os.path.join("test", "fixtures")
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    sanity_check_manual_gru()
    sanity_check_reset_before_scalar()
    total = 0
    for mi, mode in enumerate(MODES):
        cases = []
        for ci, (L, bi, lengths, init) in enumerate(configs()):
            cases.append(make_case(mode, L, bi, lengths, init,
                                   seed=1000 * (mi + 1) + ci))
        obj = {"generator": GENERATOR, "torch_version": torch.__version__,
               "cases": cases}
        path = os.path.join(out_dir, mode + ".json")
        dump(obj, path)
        with open(path) as f:  # must load back identically
            assert json.load(f) == json.loads(json.dumps(obj))
        size = os.path.getsize(path)
        total += size
        print("wrote %s: %d cases, %d bytes" % (path, len(cases), size))
    print("total %d bytes" % total)


if __name__ == "__main__":
    main(sys.argv)
