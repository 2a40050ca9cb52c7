#!/usr/bin/env python3
"""Continue training a bptt language model in PyTorch, data-parallel (DDP).

    /usr/bin/python3 docs/continue_in_pytorch_ddp.py runs/lm my.txt --out trained.safetensors --steps 200
    npx bptt import --from torch --weights trained.safetensors --like runs/lm --out runs/lm-torch
    npx bptt eval --checkpoint runs/lm-torch --text my.txt     # the figure this script printed last

Loads the checkpoint's weights (safetensors, torch.nn names) into the
LanguageModel module of docs/lm.md with load_state_dict(strict=True), trains
it with torch.distributed DistributedDataParallel on the gloo backend in
--procs processes on the CPU (torch.multiprocessing; each process reads its
own share of the text streams, gradients are averaged by all-reduce), and
saves the weights back as safetensors under the same names, which `bptt
import --from torch` turns into a bptt checkpoint (sample, eval, export).

Training follows `bptt train`'s defaults where it can: stateful truncated BPTT
over --seq-len windows of --batch streams (per process), Adam (betas 0.9,
0.99), gradient-norm clipping at 5, the last 5 % of the text held out for
validation. Character-level checkpoints only (word-level tokenisation is
bptt's own). Needs python3-torch; safetensors are read and written with the
standard library when the safetensors package is not installed.
"""
import argparse
import json
import math
import os
import socket
import struct
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

DTYPES = {"F32": torch.float32, "F64": torch.float64}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        out[name] = torch.frombuffer(bytearray(body[begin:end]), dtype=DTYPES[info["dtype"]]).reshape(info["shape"]).clone()
    return out


def save_safetensors(path, tensors, metadata):
    try:
        from safetensors.torch import save_file
        save_file({k: v.contiguous() for k, v in tensors.items()}, path, metadata=metadata)
        return
    except ImportError:
        pass
    header, chunks, offset = {"__metadata__": metadata}, [], 0
    for name, t in tensors.items():
        raw = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(chunks))
    os.replace(tmp, path)  # never a half-written file under the final name


class LanguageModel(nn.Module):
    """The module of docs/lm.md (names embedding, rnn, head: as bptt saves them)."""

    def __init__(self, cell, vocab, embed, hidden, layers, dropout):
        super().__init__()
        rnn = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        self.embedding = nn.Embedding(vocab, embed)
        self.rnn = rnn(embed, hidden, layers, dropout=dropout if layers > 1 else 0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        y, state = self.rnn(self.drop(self.embedding(x)), state)
        return self.head(self.drop(y)), state


def read_checkpoint(path):
    if os.path.isdir(path):
        path = next(p for p in (os.path.join(path, "best.json"), os.path.join(path, "last.json")) if os.path.exists(p))
    with open(path) as f:
        manifest = json.load(f)
    meta = manifest["meta"]
    if meta.get("task") != "language-model":
        sys.exit(f"{path}: not a bptt language-model checkpoint")
    if meta["vocabulary"]["level"] != "char":
        sys.exit(f"{path}: a word-level model; this script handles character-level ones")
    return path, meta, load_safetensors(os.path.join(os.path.dirname(path), manifest["weights"]))


def build(meta, weights):
    c = meta["model"]
    model = LanguageModel(c["cell"], c["vocab"], c["embed"], c["hidden"], c["layers"], c["dropout"])
    model.load_state_dict(weights, strict=True)
    return model


def encode(text, vocab):
    ids = {t: i for i, t in enumerate(vocab["tokens"])}
    return torch.tensor([ids.get(ch, 0) for ch in text], dtype=torch.long)


def score(model, ids, batch=32, steps=128):
    """Bits per character as `bptt eval` computes them (batch contiguous streams, state carried)."""
    model.eval()
    batch = max(1, min(batch, (len(ids) - 1) // 64))
    length = (len(ids) - 1) // batch
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for start in range(0, length, steps):
            n = min(steps, length - start)
            idx = (torch.arange(batch) * length + start)[None, :] + torch.arange(n)[:, None]
            logits, state = model(ids[idx], state)
            total += nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids[idx + 1].reshape(-1), reduction="sum").item()
            count += n * batch
    return total / count / math.log(2)


def detach(state):
    return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()


def worker(rank, a, meta, weights, train_ids, port):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=a.procs)
    torch.manual_seed(a.seed)  # the same dropout draws would be wrong across ranks; the seed only matters with dropout
    model = DDP(build(meta, weights))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.99))
    # This rank's streams: `batch` contiguous pieces of its own part of the training text.
    part = len(train_ids) // a.procs
    mine = train_ids[rank * part:(rank + 1) * part + 1]
    length = (len(mine) - 1) // a.batch
    rows = torch.arange(a.batch) * length
    state, pos, started = None, 0, time.time()
    model.train()
    for step in range(1, a.steps + 1):
        if pos + a.seq_len > length:
            pos, state = 0, None  # a new epoch over this rank's text
        idx = rows[None, :] + pos + torch.arange(a.seq_len)[:, None]
        logits, state = model(mine[idx], state)
        state = detach(state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), mine[idx + 1].reshape(-1))
        opt.zero_grad()
        loss.backward()  # DDP all-reduces (averages) the gradients here
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        pos += a.seq_len
        if rank == 0 and (step % max(1, a.steps // 10) == 0 or step == a.steps):
            print(f"step {step}/{a.steps}: training loss {loss.item() / math.log(2):.3f} bits/char (rank 0), {time.time() - started:.0f}s", flush=True)
    if rank == 0:
        save_safetensors(a.out, model.module.state_dict(), {"format": "pt"})  # .module: without DDP's 'module.' prefix
    dist.barrier()
    dist.destroy_process_group()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="a bptt checkpoint manifest or training --out directory")
    ap.add_argument("text", help="UTF-8 text to continue training on")
    ap.add_argument("--out", required=True, help="safetensors file to write the trained weights to")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--procs", type=int, default=2, help="DDP processes (gloo, CPU)")
    ap.add_argument("--batch", type=int, default=8, help="streams per process")
    ap.add_argument("--seq-len", type=int, default=64)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()

    path, meta, weights = read_checkpoint(a.checkpoint)
    with open(a.text, encoding="utf-8") as f:
        text = f.read()
    ids = encode(text, meta["vocabulary"])
    cut = int(len(ids) * 0.95)
    c = meta["model"]
    print(f"{path}: {c['cell'].upper()} {c['layers']}x{c['hidden']}, vocabulary {c['vocab']}; "
          f"{cut} characters for training, {len(ids) - cut} for validation; {a.procs} DDP processes (gloo)")
    before = score(build(meta, weights), ids[cut:])
    print(f"validation before: {before:.4f} bits/char")
    mp.spawn(worker, args=(a, meta, weights, ids[:cut], free_port()), nprocs=a.procs, join=True)

    trained = build(meta, load_safetensors(a.out))  # strict=True again: the file has exactly the model's names
    print(f"validation after:  {score(trained, ids[cut:]):.4f} bits/char")
    print(f"whole text, as `bptt eval --text {a.text}` scores it: {score(trained, ids):.8f} bits/char")
    print(f"wrote {a.out}; back into bptt:\n  npx bptt import --from torch --weights {a.out} --like {a.checkpoint} --out DIR")


if __name__ == "__main__":
    main()
