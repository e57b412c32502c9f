"""The seed's claim "Transformers train faster than recurrent networks", per training step.

    python -m benchmarks.seq2seq [--quick]

Chapter 6's small date Transformer against chapter 5's attention LSTM (``mt.Seq2Seq``), one
training step (forward, loss, backward, Adam) on random batches of 32 pairs of growing length.
The LSTM's steps are sequential in the length; the Transformer's layers are not, so the ratio
LSTM / Transformer grows with length.
"""

from __future__ import annotations

import sys

import torch

import minitransformer as mt

from .common import compare, machine, table


def run(quick: bool = False) -> list[dict]:
    tok = mt.date_tokenizer()
    mt.seed_everything(0)
    transformer = mt.Transformer(mt.TransformerConfig(
        len(tok), len(tok), d_model=64, n_heads=4, n_layers=2, d_ff=128, dropout=0.0,
        max_len=300, share_embeddings=True))
    lstm = mt.Seq2Seq(len(tok), len(tok), emb=64, hidden=128, attention=True)
    loss_fn = mt.seq2seq_loss(0.0)
    rows = []
    for length in (16, 64) if quick else (16, 32, 64, 128, 256):
        g = torch.Generator().manual_seed(length)
        src = torch.randint(4, len(tok), (32, length), generator=g)
        tgt = torch.randint(4, len(tok), (32, length + 1), generator=g)
        steps = []
        for model in (transformer, lstm):
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

            def step(model=model, optimizer=optimizer, src=src, tgt=tgt):
                optimizer.zero_grad()
                loss_fn(model, (src, tgt[:, :-1], tgt[:, 1:])).backward()
                optimizer.step()
            steps.append(step)
        result = compare(steps[1], steps[0], rounds=3)
        rows.append({"length": length, "lstm_ms": result.ours * 1e3,
                     "transformer_ms": result.reference * 1e3, "ratio": result.ratio})
    return rows


def report(rows: list[dict]) -> str:
    return table([[r["length"], f"{r['transformer_ms']:.0f}", f"{r['lstm_ms']:.0f}",
                   f"{r['ratio']:.1f}"] for r in rows],
                 ["length", "Transformer step ms", "attention LSTM step ms", "LSTM / Transformer"])


if __name__ == "__main__":
    print(f"Training step, batch 32, chapter 6's Transformer vs chapter 5's attention LSTM; {machine()}")
    print(report(run(quick="--quick" in sys.argv)))
