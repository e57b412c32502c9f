"""The chapters follow the book's conventions (CONTRIBUTING.md), checked without running them.

Running them is nbval's job (``make nbval``); these checks catch a chapter that was committed
with stray outputs, that forgot to seed, or that lost its exercises or citations.
"""

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TOC = yaml.safe_load((ROOT / "_toc.yml").read_text())
NOTEBOOKS = [ROOT / f"{entry['file']}.ipynb" for part in TOC["parts"]
             for entry in part["chapters"] if (ROOT / f"{entry['file']}.ipynb").exists()]
CHAPTERS = [nb for nb in NOTEBOOKS if nb.stem[:2].isdigit()]


def cells(path):
    return json.loads(path.read_text())["cells"]


def source(cell):
    return "".join(cell["source"])


def test_toc_has_seven_chapters_and_every_notebook_in_book_is_listed():
    assert [nb.stem[:2] for nb in CHAPTERS] == ["01", "02", "03", "04", "05", "06", "07"]
    assert sorted(ROOT.glob("book/*.ipynb")) == sorted(NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_stripped_except_cells_kept_on_purpose(path):
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] != "code" or not cell.get("outputs"):
            continue
        kept = cell["metadata"].get("keep_output") and \
            "nbval-check-output" in cell["metadata"].get("tags", [])
        assert kept, f"cell {i} has outputs but is not a kept nbval-check-output cell"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_starts_with_a_title_then_imports_the_package_and_seeds(path):
    nb = cells(path)
    first_md = next(c for c in nb if c["cell_type"] == "markdown")
    assert re.search(rf"^# {int(path.stem[:2])}\. ", source(first_md), re.M), "no '# N. Title'"
    first_code = source(next(c for c in nb if c["cell_type"] == "code"))
    assert "import minitransformer as mt" in first_code
    assert "SEED = mt.seed_from_env()" in first_code, "the seed must come from the environment"
    assert "mt.seed_everything(SEED)" in first_code


# A seed written as a number: seed=3, manual_seed(0), seed_everything(1), default_rng(2), ...
LITERAL_SEED = re.compile(r"(\bseed\s*=\s*|manual_seed\(\s*|seed_everything\(\s*|"
                          r"default_rng\(\s*|random\.seed\(\s*)\d")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_literal_seeds_every_seed_derives_from_the_chapter_seed(path):
    found = [f"cell {i}: {line.strip()}" for i, cell in enumerate(cells(path))
             if cell["cell_type"] == "code"
             for line in source(cell).splitlines() if LITERAL_SEED.search(line)]
    assert not found, "literal seeds (derive them from SEED, e.g. SEED + 1):\n" + "\n".join(found)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_ends_with_exercises_with_hidden_solutions_and_an_auto_check(path):
    text = "\n".join(source(c) for c in cells(path))
    assert text.count("{exercise}") >= 2
    assert "{solution}" in text and ":class: dropdown" in text
    assert "mt.exercises.check(" in text


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_cites_papers_from_the_bibliography(path):
    keys = set(re.findall(r"^@\w+\{([^,]+),", (ROOT / "book/references.bib").read_text(), re.M))
    cited = set()
    for cell in cells(path):
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", source(cell)):
            cited.update(k.strip() for k in group.split(","))
    assert cited, "the chapter cites nothing"
    assert cited <= keys, f"unknown keys: {sorted(cited - keys)}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_proves_a_result_in_a_checked_cell(path):
    checked = [c for c in cells(path) if c["cell_type"] == "code"
               and "nbval-check-output" in c["metadata"].get("tags", [])]
    assert checked, "no nbval-check-output cell: no printed result is compared by the tests"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_code_and_the_source_a_chapter_prints_fit_88_columns(path):
    """The page shows code cells and ``inspect.getsource`` listings in a column of about 88
    characters (tests/test_site.py checks the built page): longer lines scroll sideways."""
    import inspect

    import minitransformer as mt

    long = []
    for i, cell in enumerate(cells(path)):
        if cell["cell_type"] != "code":
            continue
        text = source(cell)
        long += [f"cell {i}: {line}" for line in text.splitlines() if len(line) > 88]
        for expr in re.findall(r"inspect\.getsource\(([\w.]+)\)", text):
            obj = eval(expr, {"mt": mt})
            long += [f"cell {i}, {expr}: {line}" for line in inspect.getsource(obj).splitlines()
                     if len(line) > 88]
    assert not long, "lines over 88 characters:\n" + "\n".join(long)
