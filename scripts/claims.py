"""Run every chapter under several seeds: a claim that rests on one seed fails here.

    python scripts/claims.py                       # chapters 1-N, seeds 0-4 (``make claims``)
    python scripts/claims.py --seeds 3             # one other seed (what .ci/run does)
    python scripts/claims.py book/04_lstm.ipynb --record

Each chapter's first cell reads its seed from ``$MINITRANSFORMER_SEED`` and derives every
other seed from it, so one variable reruns the whole chapter under another seed. Chapters are
executed with nbclient in ``book/``, as the book build runs them; any failing cell (an
``assert`` on a claim, an error) fails the run. The table printed at the end has one row per
chapter and one column per seed: ``ok`` and the seconds taken, or the failing cell.

Values a chapter passes to ``mt.utils.record_result`` are gathered per seed; with
``--record`` (and every seed having recorded something) they are written to
``book/claims/<chapter>.json``, the committed file the chapter reads to report the spread
across seeds of experiments too slow to repeat on the page.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
import yaml
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parent.parent
CLAIMS_DIR = ROOT / "book" / "claims"


def chapters() -> list[Path]:
    """The chapter notebooks of the table of contents, in order (not the appendices)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [ROOT / f"{entry['file']}.ipynb" for part in toc["parts"]
             for entry in part["chapters"]]
    return [f for f in files if f.exists() and f.stem[:2].isdigit()]


def failing_cell(nb: nbformat.NotebookNode, error: Exception) -> str:
    """'cell N: ErrorName: message' for the first code cell whose outputs hold an error."""
    for i, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                message = f"{out['ename']}: {out['evalue']}".splitlines()[0]
                return f"cell {i}: {message[:100]}"
    return f"{type(error).__name__}: {str(error).splitlines()[0][:100]}"


def run(path: Path, seed: int, timeout: int) -> tuple[str | None, float, dict]:
    """Execute ``path`` under ``seed``; return (failure or None, seconds, recorded results)."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "results.json"
        os.environ["MINITRANSFORMER_SEED"] = str(seed)
        os.environ["MINITRANSFORMER_RECORD"] = str(record)
        os.environ.setdefault("MINITRANSFORMER_PROGRESS", "0")
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        start = time.perf_counter()
        failure = None
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as error:
            failure = failing_cell(nb, error)
        seconds = time.perf_counter() - start
        results = json.loads(record.read_text()) if record.exists() else {}
    return failure, seconds, results


def write_results(path: Path, by_seed: dict[int, dict]) -> Path:
    """Gather ``{seed: {name: value}}`` into ``book/claims/<stem>.json`` as ``{name: {seed: value}}``."""
    names = sorted({name for results in by_seed.values() for name in results})
    payload = {
        "notebook": f"book/{path.name}",
        "written_by": "scripts/claims.py --record",
        "seeds": sorted(by_seed),
        "results": {name: {str(s): by_seed[s][name] for s in sorted(by_seed) if name in by_seed[s]}
                    for name in names},
    }
    CLAIMS_DIR.mkdir(exist_ok=True)
    out = CLAIMS_DIR / f"{path.stem}.json"
    out.write_text(json.dumps(payload, indent=1) + "\n")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2, 3, 4])
    parser.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    parser.add_argument("--record", action="store_true",
                        help="write book/claims/<chapter>.json from every seed's recorded results")
    args = parser.parse_args(argv)
    notebooks = [p.resolve() for p in args.notebooks] or chapters()

    table: dict[str, dict[int, str]] = {}
    failed = False
    for path in notebooks:
        row = table.setdefault(path.stem, {})
        by_seed = {}
        for seed in args.seeds:
            failure, seconds, results = run(path, seed, args.timeout)
            row[seed] = f"ok {seconds:.0f} s" if failure is None else f"FAIL {failure} ({seconds:.0f} s)"
            print(f"{path.stem} seed {seed}: {row[seed]}", flush=True)
            failed |= failure is not None
            by_seed[seed] = results
        if args.record and all(by_seed.values()):
            # Written even when a later cell failed (a chapter that reads this file cannot
            # pass before it exists); the run still fails, and the table says where.
            print(f"  wrote {write_results(path, by_seed).relative_to(ROOT)}", flush=True)

    print()
    print("| notebook | " + " | ".join(f"seed {s}" for s in args.seeds) + " |")
    print("|---|" + "---|" * len(args.seeds))
    for stem, row in table.items():
        print(f"| {stem} | " + " | ".join(row[s] for s in args.seeds) + " |")
    print("\nclaims:", "FAILED" if failed else "every chapter passed under every seed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
