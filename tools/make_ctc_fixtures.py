#!/usr/bin/python3
"""Writes test/fixtures/ctc.json: PyTorch nn.CTCLoss losses and gradients in float64.

Run with Debian's python3-torch:  /usr/bin/python3 tools/make_ctc_fixtures.py [out.json]
log_probs are log_softmax of rounded logits, rounded again to 6 decimals, then
used as a LEAF tensor: the stored grad is what torch returns for such a leaf,
exp(log_probs) - occupancy (not the plain derivative -occupancy; see ctc.ts).
Targets are concatenated (1-D), as the TS ctcLoss takes them.
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
torch.manual_seed(0)

# name, T, C, blank, input lengths, target lengths (targets are drawn with repeats)
CASES = [
    ("single", 5, 4, 0, [5], [2]),
    ("batch_variable", 8, 5, 0, [8, 6, 4], [3, 2, 1]),
    ("repeats", 10, 3, 0, [10, 9], [4, 5]),
    ("blank_last", 7, 4, 3, [7, 5], [3, 2]),
    ("empty_target", 6, 4, 0, [6, 3], [0, 2]),
    ("long", 12, 6, 0, [12, 11, 7], [5, 4, 3]),
    ("impossible", 4, 3, 0, [4, 4], [2, 3]),
]


def targets_for(rng, C, blank, lengths, force_repeats):
    labels = [c for c in range(C) if c != blank]
    rows = []
    for n in lengths:
        row = [labels[int(torch.randint(len(labels), (1,), generator=rng))] for _ in range(n)]
        if force_repeats and n >= 2:
            row[1] = row[0]
        rows.append(row)
    return rows


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def make_case(rng, name, T, C, blank, input_lengths, target_lengths):
    B = len(input_lengths)
    logits = torch.round(torch.randn(T, B, C, generator=rng) * 1.5, decimals=4)
    lp = torch.round(F.log_softmax(logits, dim=-1), decimals=6)
    rows = targets_for(rng, C, blank, target_lengths, force_repeats=name in ("repeats", "impossible"))
    if name == "impossible":
        rows[1] = [rows[1][0]] * 3  # a a a needs 5 frames (a _ a _ a), only 4
    targets = [c for r in rows for c in r]
    case = {"name": name, "T": T, "B": B, "C": C, "blank": blank, "inputLengths": input_lengths,
            "targetLengths": target_lengths, "targets": targets, "logProbs": flat(lp), "results": []}
    zero_inf = [True] if name == "impossible" else [False, True]
    for reduction in ("mean", "sum", "none"):
        for zi in zero_inf:
            x = lp.clone().requires_grad_()
            loss = F.ctc_loss(x, torch.tensor(targets, dtype=torch.long), torch.tensor(input_lengths),
                              torch.tensor(target_lengths), blank=blank, reduction=reduction, zero_infinity=zi)
            # A fixed weighting for 'none' so every sample's upstream grad differs.
            upstream = torch.arange(1, B + 1, dtype=torch.float64) / B if reduction == "none" else torch.tensor(1.0)
            (loss * upstream).sum().backward()
            case["results"].append({"reduction": reduction, "zeroInfinity": zi, "loss": flat(loss),
                                    "upstream": flat(upstream), "grad": flat(x.grad)})
    return case


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/ctc.json"
    rng = torch.Generator().manual_seed(1234)
    cases = [make_case(rng, *c) for c in CASES]
    for c in cases:
        for r in c["results"]:
            assert all(abs(v) != float("inf") and v == v for v in r["loss"] + r["grad"]), (c["name"], r["reduction"])
    with open(out, "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f)
        f.write("\n")


if __name__ == "__main__":
    main()
