#!/usr/bin/env python3
"""Loads a bptt language-model checkpoint into PyTorch and scores a text the way
`bptt eval` does, so the two figures can be compared (they agree to float32
rounding when the weights load with the documented names and layout).

    /usr/bin/python3 tools/lm_torch_check.py runs/lm/best.json TEXT_FILE [--batch 32]
    npx bptt eval --checkpoint runs/lm/best.json --text TEXT_FILE --json

Needs python3-torch (Debian); safetensors are read by tools/safetensors_io.py.
"""
import argparse
import json
import math
import os

import torch
from torch import nn

from safetensors_io import read_safetensors


def load_safetensors(path):
    return {n: torch.from_numpy(a) for n, a in read_safetensors(path).items()}


class LanguageModel(nn.Module):
    """The module documented in docs/lm.md and in src/tasks/language-model/model.ts."""

    def __init__(self, cell, vocab, embed, hidden, layers, dropout):
        super().__init__()
        rnn = {'lstm': nn.LSTM, 'gru': nn.GRU, 'rnn': nn.RNN}[cell]
        self.embedding = nn.Embedding(vocab, embed)
        self.rnn = rnn(embed, hidden, layers, dropout=dropout if layers > 1 else 0)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, x, state=None):
        y, state = self.rnn(self.drop(self.embedding(x)), state)
        return self.head(self.drop(y)), state


def encode(text, vocab):
    if vocab['level'] != 'char':
        raise SystemExit('this check handles character-level checkpoints')
    ids = {t: i for i, t in enumerate(vocab['tokens'])}
    return [ids.get(c, 0) for c in text]


def score(model, ids, batch, steps):
    """Streams as bptt's scoreTokens: `batch` contiguous streams, `steps` at a time, state carried."""
    batch = max(1, min(batch, (len(ids) - 1) // 64))
    length = (len(ids) - 1) // batch
    x = torch.tensor(ids[:batch * length + 1])
    total, count, state = 0.0, 0, None
    with torch.no_grad():
        for start in range(0, length, steps):
            n = min(steps, length - start)
            rows = torch.arange(batch) * length + start
            idx = rows[None, :] + torch.arange(n)[:, None]  # [n, batch]
            logits, state = model(x[idx], state)
            loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), x[idx + 1].reshape(-1), reduction='sum')
            total += loss.item()
            count += n * batch
    return total / count, count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('checkpoint')
    ap.add_argument('text')
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--steps', type=int, default=128)
    a = ap.parse_args()
    with open(a.checkpoint) as f:
        manifest = json.load(f)
    meta = manifest['meta']
    c = meta['model']
    model = LanguageModel(c['cell'], c['vocab'], c['embed'], c['hidden'], c['layers'], c['dropout']).eval()
    model.load_state_dict(load_safetensors(os.path.join(os.path.dirname(a.checkpoint), manifest['weights'])), strict=True)
    with open(a.text, encoding='utf-8') as f:
        loss, count = score(model, encode(f.read(), meta['vocabulary']), a.batch, a.steps)
    print(json.dumps({'tokens': count, 'loss': loss, 'bits': loss / math.log(2), 'perplexity': math.exp(loss)}))


if __name__ == '__main__':
    main()
