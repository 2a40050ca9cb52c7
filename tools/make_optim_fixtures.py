#!/usr/bin/python3
"""Writes test/fixtures/optim.json: PyTorch optimizer and gradient-clipping results in float64.

Run with Debian's python3-torch:  /usr/bin/python3 tools/make_optim_fixtures.py [out.json]
Inputs are rounded to 4 decimals so the TypeScript side reads them exactly;
outputs are written with repr (json's float formatting), which round-trips doubles.
Options are stored in the library's camelCase spelling so tests pass them through as is.
"""
import json
import math
import sys

import torch

torch.set_default_dtype(torch.float64)
SHAPES = [[3, 4], [5]]
STEPS = 3

# name, class, camelCase options (as the TS constructors take them)
CONFIGS = [
    ("sgd_plain", "SGD", {"lr": 0.1}),
    ("sgd_momentum_dampening_wd", "SGD", {"lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weightDecay": 0.01}),
    ("sgd_nesterov", "SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True}),
    ("adam_default", "Adam", {}),
    ("adam_wd_amsgrad", "Adam", {"lr": 0.01, "betas": [0.8, 0.99], "weightDecay": 0.1, "amsgrad": True}),
    ("adamw_default", "AdamW", {}),
    ("rmsprop_default", "RMSprop", {}),
    ("rmsprop_centered_momentum_wd", "RMSprop", {"lr": 0.005, "alpha": 0.9, "momentum": 0.8, "centered": True, "weightDecay": 0.05}),
    ("adagrad_default", "Adagrad", {}),
    ("adagrad_decay_init_wd", "Adagrad", {"lr": 0.1, "lrDecay": 0.5, "initialAccumulatorValue": 0.2, "weightDecay": 0.02}),
]


def snake(key):
    return "".join("_" + c.lower() if c.isupper() else c for c in key)


def rounded(*shape, scale=1.0):
    return torch.round(torch.randn(*shape) * scale, decimals=4)


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def make_optimizer(cls, params, options):
    kwargs = {snake(k): (tuple(v) if isinstance(v, list) else v) for k, v in options.items()}
    # The for-loop ("single tensor") implementation is the documented reference the TS code follows.
    return getattr(torch.optim, cls)(params, foreach=False, **kwargs)


def optimizer_cases(initial, grads):
    cases = []
    for name, cls, options in CONFIGS:
        params = [torch.tensor(p).reshape(s).requires_grad_() for p, s in zip(initial, SHAPES)]
        opt = make_optimizer(cls, params, options)
        after = []
        for step_grads in grads:
            for p, g, s in zip(params, step_grads, SHAPES):
                p.grad = torch.tensor(g).reshape(s)
            opt.step()
            after.append([flat(p) for p in params])
        cases.append({"name": name, "type": cls, "options": options, "after": after})
    return cases


def clip_norm_cases():
    cases = []
    for norm_type, max_norm in [(2.0, 1.0), (2.0, 100.0), (math.inf, 0.5), (math.inf, 10.0), (1.0, 2.0)]:
        grads = [rounded(*s, scale=2.0) for s in SHAPES]
        params = [torch.zeros(s, requires_grad=True) for s in SHAPES]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)
        cases.append({
            "normType": "inf" if norm_type == math.inf else norm_type,
            "maxNorm": max_norm,
            "grads": [flat(g) for g in grads],
            "totalNorm": float(total),
            "clipped": [flat(p.grad) for p in params],
        })
    return cases


def clip_value_case():
    grads = [rounded(*s, scale=2.0) for s in SHAPES]
    params = [torch.zeros(s, requires_grad=True) for s in SHAPES]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_value_(params, 0.75)
    return {"clipValue": 0.75, "grads": [flat(g) for g in grads], "clipped": [flat(p.grad) for p in params]}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "test/fixtures/optim.json"
    torch.manual_seed(1234)
    initial = [flat(rounded(*s)) for s in SHAPES]
    grads = [[flat(rounded(*s)) for s in SHAPES] for _ in range(STEPS)]
    fixture = {
        "torch": torch.__version__,
        "shapes": SHAPES,
        "initial": initial,
        "grads": grads,
        "optimizers": optimizer_cases(initial, grads),
        "clipGradNorm": clip_norm_cases(),
        "clipGradValue": clip_value_case(),
    }
    with open(out, "w") as f:
        json.dump(fixture, f)
        f.write("\n")


if __name__ == "__main__":
    main()
