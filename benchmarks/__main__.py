"""Run every benchmark and print its table: ``make bench`` or ``python -m benchmarks``.

    python -m benchmarks            # everything, including executing every chapter (~15 min)
    python -m benchmarks --quick    # fewer lengths and rounds, no chapter execution (~3 min)
    python -m benchmarks decoding   # only the named sections (transformer, attention, lstm,
                                    # decoding, seq2seq, book)

Every comparison is a ratio measured in one process with the contenders interleaved (median
of several rounds); absolute times are context only.
"""

from __future__ import annotations

import argparse
import time

from . import attention, book, decoding, lstm, seq2seq, transformer
from .common import machine


def section(title: str) -> None:
    print(f"\n## {title}\n", flush=True)


SECTIONS = ("transformer", "attention", "lstm", "decoding", "seq2seq", "book")


def main() -> None:
    parser = argparse.ArgumentParser(description="minitransformer benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer sizes and rounds")
    parser.add_argument("sections", nargs="*", metavar="section",
                        help=f"run only these ({', '.join(SECTIONS)}); default: all")
    args = parser.parse_args()
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; choose from {list(SECTIONS)}")
    chosen = set(args.sections or SECTIONS)
    start = time.perf_counter()
    print(f"minitransformer benchmarks on {machine()}")

    if "transformer" in chosen:
        section("Transformer training step: mt.Transformer vs nn.Transformer "
                "(target ratio <= 1.0)")
        print(transformer.report(transformer.run(quick=args.quick)), flush=True)

    if "attention" in chosen:
        section("Multi-head attention vs nn.MultiheadAttention: forward+backward time and "
                "peak memory")
        print(attention.report(attention.run(quick=args.quick)), flush=True)

    if "lstm" in chosen:
        section("LSTM forward+backward vs nn.LSTM, batch 64, length 100, input 32, hidden 128 "
                "(target ratio <= 1.5)")
        result = lstm.run(quick=args.quick)
        for name, seconds in result["seconds"].items():
            print(f"{name:<18} {seconds * 1e3:8.1f} ms")
        print(f"ratio mt.LSTM / nn.LSTM: {result['ratio vs nn.LSTM']:.2f}; speed-up of the "
              f"fused formulation over the cell-by-cell loop: "
              f"{result['speed-up over stepwise']:.1f}x", flush=True)

    if "decoding" in chosen:
        section("Decoding: greedy with and without the key/value cache (target >= 3x from 64 "
                "tokens at batch 8), per token against the floor (full run); beam search "
                "cost vs beam size")
        print(decoding.report(decoding.run(quick=args.quick)), flush=True)

    if "seq2seq" in chosen:
        section("Training step vs sequence length: chapter 6's Transformer vs chapter 5's "
                "attention LSTM")
        print(seq2seq.report(seq2seq.run(quick=args.quick)), flush=True)

    if "book" in chosen and not args.quick:
        section("The book: execution time of each notebook (target: all in <= 8 min)")
        print(book.report(book.run()), flush=True)

    print(f"\nall benchmarks took {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
