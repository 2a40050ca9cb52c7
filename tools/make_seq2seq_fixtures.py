#!/usr/bin/env python3
"""PyTorch parity fixture for bptt's encoder-decoder with attention (Seq2Seq).

Usage: /usr/bin/python3 tools/make_seq2seq_fixtures.py [OUT]   (default: test/fixtures/seq2seq.json)

The model is written out here in torch as src/tasks/translate/model.ts
describes it (OpenNMT-py's arrangement):

  encoder:  (bi)LSTM/GRU over the source embeddings (packed, so each row stops
            at its length); the decoder's layer l starts from the encoder's
            final state of layer l, both directions joined
  decoder:  h_t = cell(h_{t-1}, [emb(y_{t-1}); h~_{t-1}])   (h~ only with input feeding)
            c_t = sum_s softmax_s(score(h_t, m_s)) m_s, padded steps masked
            h~_t = tanh(W_out [c_t; h_t])
            loss = sum over target tokens of cross-entropy(W_gen h~_t + b_gen)

with dot, general and additive scores. Every case stores the weights (torch's
own initialisation, rounded to 4 decimals and then used), a batch of pairs of
different lengths, the loss and the gradient of every parameter, all float64,
computed with 10 significant digits kept. Deterministic: reruns write the
same file.
"""
import json
import os
import sys

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

torch.set_default_dtype(torch.float64)
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOS, EOS, IGNORE = 1, 2, -100

BASE = {"cell": "lstm", "sourceVocab": 9, "targetVocab": 8, "embed": 3, "hidden": 4, "layers": 1, "bidirectional": True,
        "attention": "general", "inputFeeding": True, "dropout": 0, "shareEmbeddings": False, "seed": 0}
CASES = [
    ("bilstm_general_feed", {}),
    ("lstm_dot_nofeed", {"bidirectional": False, "attention": "dot", "inputFeeding": False}),
    ("bigru_additive_2l_feed", {"cell": "gru", "layers": 2, "attention": "additive"}),
    ("gru_general_2l_nofeed", {"cell": "gru", "layers": 2, "bidirectional": False, "inputFeeding": False}),
    ("bilstm_additive_2l_nofeed_shared", {"layers": 2, "attention": "additive", "inputFeeding": False,
                                          "shareEmbeddings": True, "targetVocab": 9}),
    ("lstm_dot_2l_feed_hidden6", {"bidirectional": False, "attention": "dot", "layers": 2, "hidden": 6, "embed": 5}),
]


def rnd4(t):
    return torch.round(t * 1e4) / 1e4


def sig10(v):
    return float(f"{v:.10g}")


class Attention(nn.Module):
    def __init__(self, kind, H):
        super().__init__()
        self.kind = kind
        if kind == "general":
            self.linear_in = nn.Linear(H, H, bias=False)
        if kind == "additive":
            self.query_proj = nn.Linear(H, H)
            self.key_proj = nn.Linear(H, H, bias=False)
            self.v = nn.Linear(H, 1, bias=False)

    def forward(self, q, memory, lengths):
        """q [B, H], memory [S, B, H] -> context [B, H], weights [B, S]."""
        if self.kind == "dot":
            scores = torch.einsum("bh,sbh->bs", q, memory)
        elif self.kind == "general":
            scores = torch.einsum("bh,sbh->bs", self.linear_in(q), memory)
        else:
            scores = self.v(torch.tanh(self.query_proj(q)[None] + self.key_proj(memory))).squeeze(2).T
        S = memory.shape[0]
        pad = torch.arange(S)[None, :] >= lengths[:, None]
        weights = torch.softmax(scores.masked_fill(pad, float("-inf")), dim=1)
        return torch.einsum("bs,sbh->bh", weights, memory), weights


class Seq2Seq(nn.Module):
    def __init__(self, c):
        super().__init__()
        H, D = c["hidden"], 2 if c["bidirectional"] else 1
        self.c, self.D = c, D
        self.source_embedding = nn.Embedding(c["sourceVocab"], c["embed"])
        if not c["shareEmbeddings"]:
            self.target_embedding = nn.Embedding(c["targetVocab"], c["embed"])
        RNN = nn.LSTM if c["cell"] == "lstm" else nn.GRU
        self.encoder = RNN(c["embed"], H // D, c["layers"], bidirectional=c["bidirectional"])
        self.decoder = RNN(c["embed"] + (H if c["inputFeeding"] else 0), H, c["layers"])
        self.attention = Attention(c["attention"], H)
        self.linear_out = nn.Linear(2 * H, H, bias=False)
        self.generator = nn.Linear(H, c["targetVocab"])

    def target_emb(self, ids):
        return (self.source_embedding if self.c["shareEmbeddings"] else self.target_embedding)(ids)

    def loss(self, source, lengths, dec_in, dec_out):
        S, B = source.shape
        packed = pack_padded_sequence(self.source_embedding(source), lengths, enforce_sorted=False)
        out, state = self.encoder(packed)
        memory, _ = pad_packed_sequence(out, total_length=S)
        L, D = self.c["layers"], self.D

        def join(s):  # [L*D, B, H/D] -> [L, B, H]
            return torch.stack([torch.cat([s[l * D + d] for d in range(D)], dim=1) for l in range(L)])
        state = tuple(join(s) for s in state) if isinstance(state, tuple) else join(state)
        feed = torch.zeros(B, self.c["hidden"])
        feeds = []
        for t in range(dec_in.shape[0]):
            x = self.target_emb(dec_in[t])
            if self.c["inputFeeding"]:
                x = torch.cat([x, feed], dim=1)
            top, state = self.decoder(x[None], state)
            context, _ = self.attention(top[0], memory, lengths)
            feed = torch.tanh(self.linear_out(torch.cat([context, top[0]], dim=1)))
            feeds.append(feed)
        logits = self.generator(torch.stack(feeds))
        return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[2]), dec_out.reshape(-1), ignore_index=IGNORE, reduction="sum")


def pairs_for(c, gen):
    """Four pairs of different lengths; ids from 3 (0-2 are <unk>, <s>, </s>)."""
    def seq(V, n):
        return [3 + int(i) for i in torch.randint(V - 3, (n,), generator=gen)]
    return [{"source": seq(c["sourceVocab"], s), "target": seq(c["targetVocab"], t)} for s, t in [(5, 2), (2, 4), (4, 1), (3, 3)]]


def batch_of(pairs):
    """As makePairBatch: time-major, decoder inputs <s> y (padded with </s>), outputs y </s> (padded with -100)."""
    B = len(pairs)
    S = max(len(p["source"]) for p in pairs)
    T = 1 + max(len(p["target"]) for p in pairs)
    source = torch.zeros(S, B, dtype=torch.long)
    dec_in = torch.full((T, B), EOS, dtype=torch.long)
    dec_out = torch.full((T, B), IGNORE, dtype=torch.long)
    for b, p in enumerate(pairs):
        source[:len(p["source"]), b] = torch.tensor(p["source"])
        dec_in[0, b] = BOS
        dec_in[1:1 + len(p["target"]), b] = torch.tensor(p["target"])
        dec_out[:len(p["target"]), b] = torch.tensor(p["target"])
        dec_out[len(p["target"]), b] = EOS
    return source, torch.tensor([len(p["source"]) for p in pairs]), dec_in, dec_out


def make_case(i, name, change):
    c = {**BASE, **change}
    torch.manual_seed(100 + i)
    model = Seq2Seq(c)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(rnd4(p))
    pairs = pairs_for(c, torch.Generator().manual_seed(200 + i))
    loss = model.loss(*batch_of(pairs))
    loss.backward()
    named = dict(model.named_parameters())
    return {
        "name": name,
        "config": c,
        "pairs": pairs,
        "params": {n: {"shape": list(p.shape), "data": [round(v, 4) for v in p.detach().flatten().tolist()]} for n, p in named.items()},
        "loss": sig10(loss.item()),
        "grads": {n: {"shape": list(p.shape), "data": [sig10(v) for v in p.grad.flatten().tolist()]} for n, p in named.items()},
    }


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "test", "fixtures", "seq2seq.json")
    fixture = {"generator": "tools/make_seq2seq_fixtures.py", "torch": torch.__version__,
               "cases": [make_case(i, n, ch) for i, (n, ch) in enumerate(CASES)]}
    with open(out, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {out}: {len(CASES)} cases")


if __name__ == "__main__":
    main()
