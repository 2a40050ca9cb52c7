#!/usr/bin/python3
"""PyTorch CPU reference for `npm run bench`: the same training step as
bench/train-step.ts, in tokens per second.

Step: embedding 64 from vocab 80 -> nn.LSTM / nn.GRU / nn.RNN(tanh) -> linear
to 80 -> F.cross_entropy over all T*B positions -> backward ->
clip_grad_norm_(5) -> Adam(lr 2e-3).  Random token batches (a small pool made
before timing, so data generation is not measured).

Thread settings: OPENBLAS_NUM_THREADS is read by OpenBLAS when the library is
loaded, so every setting runs in its own subprocess (this script re-invoked with
--worker and the variable set in its environment); torch.set_num_threads is set
inside the worker.  The parent reports every setting and the best per shape.

Run with the Debian interpreter (python3-torch is only importable there):

    /usr/bin/python3 bench/torch_train.py [--shape all|S,M,...] [--repeats 5]
        [--settings 1x2,2x1,2x2] [--budget 6] [--warmup 2]

Budget-aware: warm-up stops early once it has used a quarter of --budget (at
least one step), and the steps per repeat (then, if one step per repeat is
already too long, the repeats, at least 1) are scaled so the timed part of each
shape and setting lasts about --budget seconds.

Output: one JSON object on stdout; progress on stderr.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

SHAPES = {
    'S': dict(cell='lstm', layers=1, hidden=128, batch=16, steps=32),
    'M': dict(cell='lstm', layers=1, hidden=256, batch=32, steps=64),
    'L': dict(cell='lstm', layers=2, hidden=512, batch=64, steps=100),
    'M-GRU': dict(cell='gru', layers=1, hidden=256, batch=32, steps=64),
    'M-RNN': dict(cell='rnn', layers=1, hidden=256, batch=32, steps=64),
}
VOCAB = 80
EMBED = 64
LR = 2e-3
CLIP = 5.0
# (torch threads, OpenBLAS threads); REFERENCE.md: best was 1 x 2 on 2 cores.
DEFAULT_SETTINGS = '1x2,2x1,2x2'


def parse_setting(s):
    t, b = s.lower().split('x')
    return int(t), int(b)


def setting_name(t, b):
    return f'torch_threads={t},OPENBLAS_NUM_THREADS={b}'


def run_shape(torch, spec, repeats, budget, warmup):
    import torch.nn as nn
    import torch.nn.functional as F

    torch.manual_seed(1)
    T, B, H = spec['steps'], spec['batch'], spec['hidden']
    rnn_cls = {'lstm': nn.LSTM, 'gru': nn.GRU, 'rnn': nn.RNN}[spec['cell']]
    extra = {'nonlinearity': 'tanh'} if spec['cell'] == 'rnn' else {}
    embed = nn.Embedding(VOCAB, EMBED)
    rnn = rnn_cls(EMBED, H, num_layers=spec['layers'], **extra)
    head = nn.Linear(H, VOCAB)
    params = [*embed.parameters(), *rnn.parameters(), *head.parameters()]
    opt = torch.optim.Adam(params, lr=LR)
    pool = [(torch.randint(0, VOCAB, (T, B)), torch.randint(0, VOCAB, (T * B,))) for _ in range(4)]
    k = [0]

    def step():
        ids, targets = pool[k[0] % len(pool)]
        k[0] += 1
        opt.zero_grad()
        out, _ = rnn(embed(ids))
        loss = F.cross_entropy(head(out).reshape(T * B, VOCAB), targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, CLIP)
        opt.step()
        return loss

    # Warm-up: `warmup` steps, fewer if they use up a quarter of the budget (at least 1).
    started = time.perf_counter()
    warmed = 0
    per_step = float('inf')
    for _ in range(max(1, warmup)):
        t0 = time.perf_counter()
        step()
        per_step = time.perf_counter() - t0
        warmed += 1
        if time.perf_counter() - started > budget / 4:
            break
    if per_step < 0.3:
        # Fast steps: calibrate over at least 0.3 s so one slow step under load does not decide it.
        t0 = time.perf_counter()
        count = 0
        while count == 0 or time.perf_counter() - t0 < 0.3:
            step()
            count += 1
        per_step = (time.perf_counter() - t0) / count
    # Steps per repeat so that the timed part lasts about `budget` seconds; when one
    # step per repeat is already too long, fewer repeats (at least 1).
    n = max(1, min(500, round(budget / repeats / max(per_step, 1e-6))))
    if n == 1:
        repeats = max(1, min(repeats, int(budget // per_step)))
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            step()
        dt = time.perf_counter() - t0
        rates.append(n * T * B / dt)
    return {
        'tokensPerSec': statistics.median(rates),
        'repeats': [round(r, 1) for r in rates],
        'stepsPerRepeat': n,
        'warmupSteps': warmed,
        'msPerStep': 1000 * T * B / statistics.median(rates),
    }


def worker(args):
    import torch
    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    out = {}
    for name in args.shape.split(','):
        out[name] = run_shape(torch, SHAPES[name], args.repeats, args.budget, args.warmup)
        print(f'  torch {setting_name(args.threads, int(os.environ.get("OPENBLAS_NUM_THREADS", "0")))} {name}: '
              f'{out[name]["tokensPerSec"]:.0f} tokens/s', file=sys.stderr, flush=True)
    json.dump({'torchVersion': torch.__version__, 'threads': torch.get_num_threads(), 'results': out}, sys.stdout)


def blas_note():
    """Which BLAS torch will load (Debian alternatives), for the results file."""
    try:
        real = os.path.realpath('/usr/lib/x86_64-linux-gnu/libblas.so.3')
        return f'libblas.so.3 -> {real}'
    except OSError:
        return 'unknown'


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--shape', default='all', help='all, or a comma-separated subset of ' + ','.join(SHAPES))
    p.add_argument('--settings', default=DEFAULT_SETTINGS, help='comma-separated TORCHxBLAS thread pairs (default %(default)s)')
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--budget', type=float, default=6, help='seconds of timed steps per shape and setting (default %(default)s)')
    p.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    p.add_argument('--threads', type=int, default=1, help=argparse.SUPPRESS)
    args = p.parse_args()
    shapes = list(SHAPES) if args.shape == 'all' else args.shape.split(',')
    for s in shapes:
        if s not in SHAPES:
            p.error(f'unknown shape {s!r}; expected one of {", ".join(SHAPES)}')
    args.shape = ','.join(shapes)
    if args.worker:
        worker(args)
        return

    settings = [parse_setting(s) for s in args.settings.split(',')]
    per_setting = []
    torch_version = None
    for t, b in settings:
        env = dict(os.environ, OPENBLAS_NUM_THREADS=str(b), OMP_NUM_THREADS=str(t))
        cmd = [sys.executable, os.path.abspath(__file__), '--worker', '--threads', str(t), '--shape', args.shape,
               '--repeats', str(args.repeats), '--warmup', str(args.warmup), '--budget', str(args.budget)]
        r = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, check=True)
        data = json.loads(r.stdout)
        torch_version = data['torchVersion']
        per_setting.append({'torchThreads': t, 'openblasThreads': b, 'name': setting_name(t, b), 'results': data['results']})

    results = {}
    for name in shapes:
        rows = {s['name']: s['results'][name] for s in per_setting}
        best = max(per_setting, key=lambda s: s['results'][name]['tokensPerSec'])
        results[name] = {
            **SHAPES[name],
            'tokensPerStep': SHAPES[name]['steps'] * SHAPES[name]['batch'],
            'best': {'tokensPerSec': best['results'][name]['tokensPerSec'], 'setting': best['name'],
                     'torchThreads': best['torchThreads'], 'openblasThreads': best['openblasThreads']},
            'perSetting': {k: v['tokensPerSec'] for k, v in rows.items()},
            'detail': rows,
        }
    json.dump({
        'torchVersion': torch_version,
        'python': sys.version.split()[0],
        'blas': blas_note(),
        'settings': [s['name'] for s in per_setting],
        'repeats': args.repeats,
        'budgetSeconds': args.budget,
        'results': results,
    }, sys.stdout, indent=2)
    print()


if __name__ == '__main__':
    main()
