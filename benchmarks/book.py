"""Execution time of every chapter, as the book build runs them (fresh kernel, cwd book/).

    python -m benchmarks.book          # all notebooks in the table of contents

Targets: each chapter <= 90 s (chapters 5-6 and the appendix: <= 120 s and <= 60 s), and the
whole book <= 8 minutes on the 2-core CI machine.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient

from .common import machine, table

ROOT = Path(__file__).resolve().parent.parent


def notebooks() -> list[Path]:
    """The .ipynb files named in _toc.yml, in reading order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [entry["file"] for part in toc.get("parts", []) for entry in part.get("chapters", [])]
    return [ROOT / f"{name}.ipynb" for name in names if (ROOT / f"{name}.ipynb").exists()]


def budget(path: Path) -> int:
    """Seconds allowed for one notebook."""
    if path.stem.startswith("appendix"):
        return 60
    return 120 if path.stem[:2] in {"05", "06"} else 90


def run(quick: bool = False) -> dict[str, float]:
    """Execute each notebook once; return {name: seconds}."""
    os.environ.setdefault("MINITRANSFORMER_PROGRESS", "0")
    times = {}
    for path in notebooks():
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=600, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        client.execute()
        times[path.stem] = time.perf_counter() - start
    return times


def report(times: dict[str, float]) -> str:
    rows = [(name, f"{sec:.1f}", budget(ROOT / "book" / f"{name}.ipynb"),
             "ok" if sec <= budget(ROOT / "book" / f"{name}.ipynb") else "OVER")
            for name, sec in times.items()]
    total = sum(times.values())
    rows.append(("total", f"{total:.1f}", 480, "ok" if total <= 480 else "OVER"))
    return table(rows, ["notebook", "seconds", "budget", ""])


if __name__ == "__main__":
    print(f"Chapter execution times on {machine()}")
    print(report(run()))
