"""The package as a reader installs it: the wheel `make dist` builds works outside the repository.

The wheel and sdist are built once per session, as `make dist` builds them (python -m build
--no-isolation: this environment's setuptools, nothing downloaded). The wheel is installed with
--no-deps and --no-index into a fresh virtual environment outside the repository; torch, numpy,
matplotlib and tqdm are borrowed from this project's environment by a ``.pth`` file, which
Python reads after the new environment's own site-packages, so the installed minitransformer
comes first. A script run from a directory outside the repository then loads the shipped
checkpoint and translates a date in every format: package data included, nothing read from the
source tree.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

INSTALLED_SCRIPT = r"""
import datetime, importlib.resources, json, sys
from pathlib import Path

import minitransformer as mt

checkpoint = importlib.resources.files("minitransformer") / "assets" / "date_transformer.pt"
with importlib.resources.as_file(checkpoint) as path:
    model, extra = mt.load_checkpoint(path)
tok = mt.date_tokenizer()
day = datetime.date(1987, 3, 3)
sources = [mt.format_date(day, style) for style in mt.data.DATE_FORMATS]
src = mt.pad_batch([tok.encode(text) for text in sources], tok.pad_id)
out = mt.greedy_decode(model, src, 11, tok.bos_id, tok.eos_id)
files = sorted({str(Path(m.__file__).resolve()) for m in list(sys.modules.values())
                if getattr(m, "__file__", None)})
print(json.dumps({
    "package": str(Path(mt.__file__).resolve().parent),
    "checkpoint": str(Path(str(checkpoint)).resolve()),
    "typed": (Path(mt.__file__).parent / "py.typed").is_file(),
    "decoded": [tok.decode(row) for row in out],
    "module_files": files,
    "sys_path": [str(Path(p).resolve()) for p in sys.path if p],
    "cwd": str(Path.cwd()),
}))
"""


@pytest.fixture(scope="session")
def dist(tmp_path_factory) -> dict[str, Path]:
    """The wheel and the sdist, built as `make dist` builds them (into a temporary folder)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
                    str(REPO)], check=True, capture_output=True, text=True, cwd=REPO)
    wheels, sdists = sorted(out.glob("*.whl")), sorted(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(out.iterdir())
    return {"wheel": wheels[0], "sdist": sdists[0]}


def _project() -> dict:
    with open(REPO / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def test_wheel_and_sdist_carry_the_package_data_and_complete_metadata(dist):
    package_files = sorted(
        p.relative_to(REPO).as_posix() for p in (REPO / "minitransformer").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    assert "minitransformer/py.typed" in package_files
    assert "minitransformer/assets/date_transformer.pt" in package_files
    with zipfile.ZipFile(dist["wheel"]) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    assert sorted(n for n in names if n.startswith("minitransformer/")) == package_files
    with tarfile.open(dist["sdist"]) as sdist:
        in_sdist = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    assert set(package_files) <= in_sdist and {"pyproject.toml", "README.md"} <= in_sdist

    text = metadata.decode()
    fields = [line.split(": ", 1) for line in text.split("\n\n", 1)[0].splitlines()]
    meta: dict[str, list[str]] = {}
    for key, value in fields:
        meta.setdefault(key, []).append(value)
    project = _project()
    assert meta["License-Expression"] == ["MIT"]
    assert meta["Requires-Python"] == [project["requires-python"]]
    assert meta["Description-Content-Type"] == ["text/markdown"]
    assert len(meta["Classifier"]) >= 5 and "Typing :: Typed" in meta["Classifier"]
    assert not any(c.startswith("License ::") for c in meta["Classifier"])  # PEP 639
    required = [r for r in meta["Requires-Dist"] if "extra ==" not in r]
    assert sorted(r.split("<")[0].split(">")[0] for r in required) == sorted(
        d.split("<")[0].split(">")[0] for d in project["dependencies"])
    # Every licence or notice file of the repository travels with the wheel.
    notices = [p.name for p in REPO.glob("*") if p.name.upper().startswith(("LICEN", "NOTICE"))]
    assert all(any(n.endswith(f".dist-info/licenses/{name}") for n in names) for name in notices)


def _borrowed_site_packages() -> list[str]:
    """This environment's site-packages (torch, numpy, matplotlib, tqdm live there)."""
    paths = sysconfig.get_paths()
    return sorted({paths["purelib"], paths["platlib"]})


def test_installed_wheel_translates_dates_outside_the_repository(dist, tmp_path):
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False, symlinks=True)
    python = env_dir / "bin" / "python"
    # Without PYTHONPATH, else pip would take the repository's egg-info for an installed copy.
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--no-deps", "--no-index", "--ignore-installed", "--quiet",
                    "--disable-pip-version-check", str(dist["wheel"])],
                   check=True, capture_output=True, text=True, env=clean)
    site = Path(subprocess.run([str(python), "-I", "-c", "import sysconfig; print("
                                "sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    borrowed = _borrowed_site_packages()
    (site / "_borrow_project_environment.pth").write_text("\n".join(borrowed) + "\n")

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = elsewhere / "use_minitransformer.py"
    script.write_text(INSTALLED_SCRIPT)
    # -I: no PYTHONPATH (the Makefile puts the repository there), no user site, no script
    # folder on sys.path; a bare environment, run from outside the repository.
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "MPLBACKEND": "Agg",
                   "MPLCONFIGDIR": str(tmp_path / "mpl"), "OMP_NUM_THREADS": "1",
                   "MINITRANSFORMER_PROGRESS": "0"}
    run = subprocess.run([str(python), "-I", str(script)], cwd=elsewhere, env=environment,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])

    env_root = env_dir.resolve()
    assert Path(report["package"]).is_relative_to(env_root)
    assert Path(report["checkpoint"]).is_relative_to(env_root)
    assert report["typed"]
    assert Path(report["cwd"]) == elsewhere.resolve()
    assert report["decoded"] == ["1987-03-03"] * len(report["decoded"])
    assert len(report["decoded"]) >= 10  # every human format of the date task

    # Nothing came from the source tree: the only paths inside the repository that Python
    # saw are the borrowed site-packages (a repository's .venv lives inside it).
    borrowed_roots = [Path(p).resolve() for p in borrowed]

    def from_source_tree(path: str) -> bool:
        p = Path(path)
        return p.is_relative_to(REPO) and not any(p.is_relative_to(b) for b in borrowed_roots)

    assert [f for f in report["module_files"] if from_source_tree(f)] == []
    assert [p for p in report["sys_path"] if from_source_tree(p)] == []
    minitransformer_files = [f for f in report["module_files"] if "/minitransformer/" in f]
    assert minitransformer_files and all(Path(f).is_relative_to(env_root)
                                         for f in minitransformer_files)


def test_the_environment_has_no_other_copy_of_the_package_on_its_path(tmp_path):
    """Sanity check of the set-up above: without the wheel, the borrowed site-packages alone
    do not provide minitransformer (the shared .venv's editable install is a .pth-based
    finder, which a path added by another .pth does not activate)."""
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=False, symlinks=True)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-I", "-c", "import sysconfig; print("
                                "sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    (site / "_borrow_project_environment.pth").write_text(
        "\n".join(_borrowed_site_packages()) + "\n")
    run = subprocess.run([str(python), "-I", "-c", "import minitransformer"], cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
                         capture_output=True, text=True)
    assert run.returncode != 0 and "No module named 'minitransformer'" in run.stderr
    assert os.path.isdir(_borrowed_site_packages()[0])
