"""Run the unit tests against the oldest versions pyproject.toml allows (`make test-min`).

    python scripts/test_min.py [--keep]

Reads the lower bound of every dependency in pyproject.toml, installs exactly those versions of
numpy, matplotlib and tqdm (binary wheels from PyPI, with what they need) into a fresh virtual
environment in a temporary folder, borrows torch and the test tools from the project's
environment through a .pth file (read after the new environment's own site-packages, so the
old versions win), checks that Python imports exactly the lower bounds, then runs the unit
tests of this tree (``pytest tests -m "not site and not lab"``, the install test aside).

torch is borrowed, not installed: its lower bound is the pinned 2.13.0, the one torch this
machine installs without a download of several GB (an older torch from PyPI is a CUDA build),
and the script refuses to run if the borrowed torch is not the lower bound. Likewise the
running Python must be the lowest one requires-python admits.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import tomllib
import venv
from pathlib import Path

from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
BORROWED = ("torch",)  # taken from the project's environment, at its lower bound
# Dependencies of the dependencies, held back to releases contemporary with the lower bounds:
# pyparsing 3.3 (December 2025) deprecates the names matplotlib used before 3.10.7, so an old
# matplotlib warns on import and a warnings-as-errors test run fails before testing anything.
CONTEMPORARY = ("pyparsing<3.3",)


def lower_bounds() -> dict[str, str]:
    """``{name: oldest allowed version}`` from pyproject.toml's ``>=`` bounds."""
    with open(REPO / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    bounds = {}
    for requirement in project["dependencies"]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)\s*(,.*)?", requirement)
        if not match:
            sys.exit(f"test_min: {requirement!r} has no '>=' lower bound to test")
        bounds[match.group(1).lower()] = match.group(2)
    python = re.fullmatch(r">=\s*([0-9.]+)", project["requires-python"])
    if not python:
        sys.exit(f"test_min: requires-python {project['requires-python']!r} has no lower bound")
    bounds["python"] = python.group(1)
    return bounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the environment (printed)")
    args = parser.parse_args()

    bounds = lower_bounds()
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if Version(running) != Version(bounds.pop("python")):
        sys.exit(f"test_min: run with the lowest Python requires-python admits, not {running}")
    import torch

    for name in BORROWED:
        have = Version(Version(torch.__version__).base_version)
        if have != Version(bounds[name]):
            sys.exit(f"test_min: the borrowed {name} is {have}, not the lower bound "
                     f"{bounds[name]}")
    installed = {name: version for name, version in bounds.items() if name not in BORROWED}

    root = Path(tempfile.mkdtemp(prefix="minitransformer-min-"))
    try:
        env = root / "env"
        venv.create(env, with_pip=False, symlinks=True)
        python = env / "bin" / "python"
        clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        pins = [f"{name}=={version}" for name, version in installed.items()] + list(CONTEMPORARY)
        print(f"test_min: installing {' '.join(pins)} into {env}", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                        "--only-binary=:all:", "--disable-pip-version-check", "--quiet", *pins],
                       check=True, env=clean)
        # Only now borrow the project's environment: pip above installed every dependency of
        # the old versions into the new environment instead of taking the project's newer ones.
        site = subprocess.run([str(python), "-I", "-c",
                               "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              check=True, capture_output=True, text=True).stdout.strip()
        paths = sysconfig.get_paths()
        borrowed = sorted({paths["purelib"], paths["platlib"]})
        (Path(site) / "_borrow_project_environment.pth").write_text("\n".join(borrowed) + "\n")

        run_env = {**clean, "PYTHONPATH": str(REPO), "MPLBACKEND": "Agg",
                   "MINITRANSFORMER_PROGRESS": "0", "OMP_WAIT_POLICY": "PASSIVE"}
        names = [*installed, *BORROWED]
        seen = json.loads(subprocess.run(
            [str(python), "-c", "import importlib, json, sys; print(json.dumps({n: "
             "importlib.import_module(n).__version__ for n in sys.argv[1:]}))", *names],
            check=True, capture_output=True, text=True, env=run_env, cwd=REPO).stdout)
        print(f"test_min: Python {running}, " + ", ".join(f"{n} {v}" for n, v in seen.items()),
              flush=True)
        for name, version in bounds.items():
            if Version(Version(seen[name]).base_version) != Version(version):
                sys.exit(f"test_min: imported {name} {seen[name]}, not the lower bound {version}")
        result = subprocess.run([str(python), "-m", "pytest", "tests", "-m", "not site and not lab",
                                 "-p", "no:cacheprovider", "-q",
                                 "--ignore", "tests/test_dist.py"], env=run_env, cwd=REPO)
        if result.returncode:
            sys.exit(result.returncode)
        print("test_min: the unit tests pass at every lower bound of pyproject.toml")
    finally:
        if args.keep:
            print(f"test_min: kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
