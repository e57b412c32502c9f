"""Train the chapter-7 language models on Shakespeare; save the seed-0 GPT and every run's curve.

    PYTHONPATH=. python scripts/train_shakespeare.py [--steps 1000] [--seeds 0 1 2] [--threads 2]

Character level, on ``mt.data.shakespeare("train")`` (nine plays); validation on the two
held-out plays (``"valid"``: Macbeth, Twelfth Night), in bits per character. For each seed:

1. an ``mt.GPT`` (pre-norm, d_model 64, 4 layers, 4 heads, d_ff 256, context 128, no
   dropout; 0.2 M parameters) trained for ``--steps`` steps of ``--batch-size`` random
   windows: AdamW, a linear warm-up over the first 2 % of training then a linear decay to a
   tenth, gradient norm clipped at 1. Deterministic for a seed and a thread count. (A model
   of d_model 128 learnt less in the same CPU time: on this budget more steps of a smaller
   model win.)
2. a language model on PyTorch's fused ``nn.LSTM`` (2 layers, tied embeddings, hidden size
   picked so its parameter count is the GPT's within a few per cent) trained on the same
   kind of batches with the same schedule for the *same CPU time* the GPT's training took
   (``time.process_time``, all threads), so the comparison is architecture against
   architecture at equal compute, and survives other programs loading the machine, which
   would distort wall-clock budgets (its number of steps depends on the machine).

Both are evaluated ``--evals`` times during training on a fixed sample of validation windows
(the curves) and at the end on every non-overlapping window of the validation text. The
evaluation's time is not counted as training time. Each curve records both the CPU
seconds (``seconds``, the budget) and the wall-clock seconds (``wall_seconds``) of training.

Writes ``--json`` (curves and final values of every run; the chapter reads it) and saves the
seed-0 GPT to ``--checkpoint`` with ``mt.save_checkpoint`` (loadable with
``weights_only=True``; the tokenizer's characters, the seed, the steps and the measured bits
per character ride along in its ``extra``). With ``--append``, the seeds run are added to
the runs already in ``--json`` (same settings required), so seeds can run in separate
processes. The shipped files: seed 0 with ``--threads 2``; seeds 1 and 2 each in a process of
its own with ``--seeds N --threads 1 --append`` (each run records its thread count).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

import torch
from torch import nn

import minitransformer as mt

GPT_MODEL = dict(d_model=64, n_heads=4, n_layers=4, d_ff=256, dropout=0.0, max_len=128)


class LSTMLanguageModel(nn.Module):
    """Embedding, PyTorch's fused multi-layer ``nn.LSTM``, and the transposed embedding as the
    output projection (tied, as in the GPT)."""

    def __init__(self, vocab_size: int, hidden_size: int, num_layers: int = 2,
                 dropout: float = 0.1):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, hidden_size)
        self.lstm = nn.LSTM(hidden_size, hidden_size, num_layers, batch_first=True,
                            dropout=dropout)
        self.drop = nn.Dropout(dropout)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        h, _ = self.lstm(self.drop(self.embed(ids)))   # (B, T, H)
        return self.drop(h) @ self.embed.weight.T       # (B, T, V)


def lstm_like(model: nn.Module, vocab_size: int, dropout: float) -> LSTMLanguageModel:
    """The 2-layer LSTM language model whose parameter count is closest to ``model``'s: an
    embedding (``V h``) and per layer four gates of ``h (h + h) + 2 h`` weights and biases."""
    target = mt.count_parameters(model)
    size = min(range(8, 2049, 8),
               key=lambda h: abs(vocab_size * h + 2 * 4 * (2 * h * h + 2 * h) - target))
    return LSTMLanguageModel(vocab_size, size, dropout=dropout)


def lr_factor(fraction: float) -> float:
    """Warm up linearly over the first 2 % of training, then decay linearly to 0.1."""
    return min(1.0, (fraction + 0.001) / 0.02) * (1.0 - 0.9 * min(fraction, 1.0))


def random_windows(data: torch.Tensor, batch_size: int, length: int, g: torch.Generator):
    """``batch_size`` windows of ``length + 1`` ids at random offsets: inputs and targets."""
    starts = torch.randint(0, len(data) - length - 1, (batch_size,), generator=g)
    rows = data[starts[:, None] + torch.arange(length + 1)]  # (B, T + 1)
    return rows[:, :-1], rows[:, 1:]


@torch.no_grad()
def bits_per_char(model: nn.Module, windows: torch.Tensor, chars: torch.Tensor,
                  batch_size: int = 64) -> float:
    """Bits per character of ``windows`` ``(N, T + 1)``: every window predicts its last ``T``
    ids from the ones before; ``chars[i]`` is the number of characters token ``i`` stands for."""
    was_training = model.training
    model.eval()
    nats, n_chars = 0.0, 0
    for batch in windows.split(batch_size):
        logits = model(batch[:, :-1])                                 # (B, T, V)
        nats += nn.functional.cross_entropy(logits.flatten(0, 1), batch[:, 1:].flatten(),
                                            reduction="sum").item()
        n_chars += int(chars[batch[:, 1:]].sum())
    model.train(was_training)
    return nats / math.log(2) / n_chars


def train_run(model, data, eval_sample, *, steps=None, seconds=None, lr, batch_size,
              length, seed, evals):
    """Train for ``steps`` steps or ``seconds`` of CPU time (``time.process_time``, every
    thread of the process); return the curve."""
    g = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.95),
                                  weight_decay=0.1)
    curve = {"step": [], "seconds": [], "wall_seconds": [], "valid_bits_per_char": []}
    model.train()
    step, elapsed, wall, next_eval = 0, 0.0, 0.0, 0.0
    while True:
        fraction = step / steps if steps else elapsed / seconds
        if fraction >= next_eval or fraction >= 1.0:
            curve["step"].append(step)
            curve["seconds"].append(round(elapsed, 2))
            curve["wall_seconds"].append(round(wall, 2))
            curve["valid_bits_per_char"].append(bits_per_char(model, *eval_sample))
            next_eval += 1.0 / evals
        if fraction >= 1.0:
            return curve
        start, wall_start = time.process_time(), time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = lr * lr_factor(fraction)
        x, y = random_windows(data, batch_size, length, g)
        loss = nn.functional.cross_entropy(model(x).flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        elapsed += time.process_time() - start
        wall += time.perf_counter() - wall_start
        step += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="GPT training steps")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=5e-3)
    parser.add_argument("--evals", type=int, default=20, help="points on each curve")
    parser.add_argument("--eval-windows", type=int, default=48, help="windows per curve point")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--model", type=json.loads, default={},
                        help='GPT config overrides as JSON, e.g. \'{"d_model": 32}\'')
    parser.add_argument("--json", default="book/data/shakespeare_training.json")
    parser.add_argument("--checkpoint", default="minitransformer/assets/shakespeare_gpt.pt")
    parser.add_argument("--append", action="store_true",
                        help="add these seeds' runs to those already in --json")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    train_text, valid_text = mt.data.shakespeare("train"), mt.data.shakespeare("valid")
    tok = mt.CharTokenizer.from_texts([train_text])
    data = torch.tensor(tok.encode(train_text))
    config = mt.GPTConfig(tok.vocab_size, **{**GPT_MODEL, **args.model})
    length = config.max_len
    valid = torch.tensor(tok.encode(valid_text))
    windows = valid[: len(valid) // (length + 1) * (length + 1)].view(-1, length + 1)
    chars = torch.tensor([len(tok.decode([i])) for i in range(tok.vocab_size)])
    sample = windows[torch.linspace(0, len(windows) - 1, args.eval_windows).long()]
    common = dict(lr=args.lr, batch_size=args.batch_size, length=length, evals=args.evals)
    report = {"tokenizer": "characters", "vocab_size": tok.vocab_size, "gpt_config": vars(config),
              "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
              "threads": args.threads, "valid_characters": int(chars[windows[:, 1:]].sum()),
              "runs": {"gpt": {}, "lstm": {}}}
    if args.append and Path(args.json).exists():
        earlier = json.loads(Path(args.json).read_text())
        for key in ("vocab_size", "gpt_config", "steps", "batch_size", "lr"):
            if earlier[key] != json.loads(json.dumps(report[key])):
                raise SystemExit(f"--append: {args.json} has {key}={earlier[key]!r}, "
                                 f"this run {report[key]!r}")
        report["runs"] = earlier["runs"]

    for seed in args.seeds:
        mt.seed_everything(seed)
        gpt = mt.GPT(config)
        curve = train_run(gpt, data, (sample, chars), steps=args.steps, seed=seed, **common)
        seconds = curve["seconds"][-1]
        final = bits_per_char(gpt, windows, chars)
        wall = curve["wall_seconds"][-1]
        report["runs"]["gpt"][str(seed)] = {**curve, "final_valid_bits_per_char": final,
                                       "train_seconds": seconds, "train_wall_seconds": wall,
                                       "parameters": mt.count_parameters(gpt),
                                       "load_average": os.getloadavg()[0],
                                       "threads": args.threads}
        print(f"seed {seed} GPT:  {final:.3f} bits/char after {args.steps} steps, "
              f"{seconds:.0f} CPU s, {wall:.0f} s wall", flush=True)
        if seed == 0:
            Path(args.checkpoint).parent.mkdir(parents=True, exist_ok=True)
            mt.save_checkpoint(gpt.eval(), args.checkpoint, seed=seed, steps=args.steps,
                               chars="".join(tok.itos[4:]), valid_bits_per_char=final,
                               train_seconds=seconds, train_wall_seconds=wall,
                               threads=args.threads)

        mt.seed_everything(seed)
        lstm = lstm_like(gpt, tok.vocab_size, config.dropout)
        curve = train_run(lstm, data, (sample, chars), seconds=seconds, seed=seed, **common)
        final = bits_per_char(lstm, windows, chars)
        report["runs"]["lstm"][str(seed)] = {**curve, "final_valid_bits_per_char": final,
                                        "train_seconds": curve["seconds"][-1],
                                        "train_wall_seconds": curve["wall_seconds"][-1],
                                        "hidden_size": lstm.lstm.hidden_size,
                                        "parameters": mt.count_parameters(lstm),
                                        "load_average": os.getloadavg()[0],
                                        "threads": args.threads}
        print(f"seed {seed} LSTM: {final:.3f} bits/char after {curve['step'][-1]} steps, "
              f"{curve['seconds'][-1]:.0f} CPU s, {curve['wall_seconds'][-1]:.0f} s wall",
              flush=True)
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)  # after every seed
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")

    print(f"wrote {args.json}")
    if 0 in args.seeds:
        print(f"wrote {args.checkpoint} ({Path(args.checkpoint).stat().st_size / 2**20:.1f} MB)")


if __name__ == "__main__":
    main()
