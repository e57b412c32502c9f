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
        # nbval skips the comparison, and fails, for a cell with outputs but no execution count
        assert cell.get("execution_count"), f"kept cell {i} has no execution_count"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_starts_with_a_title_then_imports_the_package_and_seeds(path):
    nb = cells(path)
    first_md = next(c for c in nb if c["cell_type"] == "markdown")
    assert re.search(rf"^# {int(path.stem[:2])}\. ", source(first_md), re.M), "no '# N. Title'"
    first_code = source(next(c for c in nb if c["cell_type"] == "code"))
    assert "import minitransformer as mt" in first_code
    assert "SEED = mt.seed_from_env()" in first_code, "the seed must come from the environment"
    assert "mt.seed_everything(SEED)" in first_code


def call_arguments(text, start):
    """The text between the parenthesis that opens at ``text[start]`` and the one closing it."""
    depth = 0
    for end in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[end], 0)
        if depth == 0:
            return text[start + 1:end]
    raise ValueError(f"unbalanced parenthesis at {start}")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_picks_its_device_in_the_first_cell_and_trains_there(path):
    """``MINITRANSFORMER_DEVICE=cuda`` moves a chapter's trainings to a GPU (CONTRIBUTING.md):
    the first cell picks ``DEVICE``, every training loop of the package is told it, and every
    ``.numpy()`` comes after ``.cpu()`` unless its cell says it stays on the CPU."""
    code = [(i, source(c)) for i, c in enumerate(cells(path)) if c["cell_type"] == "code"]
    assert "DEVICE = mt.device_from_env()" in code[0][1], "the first cell must pick DEVICE"
    problems = []
    for i, text in code:
        for m in re.finditer(r"\b(?:mt\.train|mt\.train_long_range)\(", text):
            if not re.search(r"\bdevice\s*=", call_arguments(text, m.end() - 1)):
                problems.append(f"cell {i}: {m[0]}...) without device=")
        if "on the CPU" not in text:
            problems += [f"cell {i}: {line.strip()}" for line in text.splitlines()
                         if re.search(r"(?<!\.cpu\(\))\.numpy\(\)", line)]
    assert not problems, "\n".join(problems)


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


# --- One source for the website and JupyterLab (issue 10; CONTRIBUTING.md, "Chapters") -----

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
EVAL_ROLE = re.compile(r"\{eval\}`([^`]*)`")
PY_ROLE = re.compile(r"\{py:(?P<kind>\w+)\}`(?P<target>[^`]*)`")


def load(name, path):
    """A module from a file that is not on the import path (a script, a Sphinx extension)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(name, path)
    module = sys.modules[name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def markdown_roles(pattern, path):
    return [(i, m) for i, cell in enumerate(cells(path)) if cell["cell_type"] == "markdown"
            for m in pattern.finditer(source(cell))]


def test_book_executes_inline_so_eval_reads_the_chapters_kernel():
    assert CONFIG["execute"]["execute_notebooks"] == "inline"
    assert "run_cells_above" in CONFIG["sphinx"]["local_extensions"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_glue_left_numbers_in_prose_are_eval_and_references_are_links(path):
    """scripts/glue_to_eval.py has nothing left to convert: no glue call or role, and every
    {ref} to another page is a link to its file (jupyterlab-myst sees one notebook)."""
    module = load("glue_to_eval", ROOT / "scripts/glue_to_eval.py")
    assert module.main(["--check", str(path)]) == 0, "run scripts/glue_to_eval.py on it"
    text = "\n".join(source(c) for c in cells(path))
    assert "{glue" not in text and "myst_nb" not in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_number_from_a_run_is_saved_in_the_prose(path):
    """jupyterlab-myst keeps each {eval}'s value in the Markdown cell's metadata; a notebook
    saved after a run would carry them (nbstripout keeps them unless told otherwise)."""
    saved = [i for i, c in enumerate(cells(path)) if "user_expressions" in c["metadata"]]
    assert not saved, (f"cells {saved}: strip with .venv/bin/nbstripout --extra-keys "
                       f"cell.metadata.user_expressions {path.relative_to(ROOT)}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_eval_is_a_name_or_formatted_name_defined_by_a_cell_above(path):
    """{eval} runs when its sentence is rendered (on the site and in JupyterLab), so the name
    must be bound by a code cell above it: ``name = ...`` or ``globals()[f"..."] = ...``."""
    import ast

    allowed = re.compile(CONFIG["sphinx"]["config"]["nb_eval_name_regex"])
    bound: set[str] = set()
    patterns: list[re.Pattern] = []
    problems = []
    for i, cell in enumerate(cells(path)):
        text = source(cell)
        if cell["cell_type"] == "code":
            tree = ast.parse(text)
            for node in ast.walk(tree):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    bound.add(node.id)
                elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                    bound.add(node.name)
                elif (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)
                      and isinstance(node.value, ast.Call)
                      and getattr(node.value.func, "id", None) == "globals"):
                    key = node.slice
                    patterns.append(re.compile(
                        re.escape(key.value) if isinstance(key, ast.Constant) else
                        "".join(re.escape(v.value) if isinstance(v, ast.Constant) else r"\w+"
                                for v in getattr(key, "values", [])) or r"\w+"))
        elif cell["cell_type"] == "markdown":
            for expr in EVAL_ROLE.findall(text):
                name = re.sub(r'^f"\{(\w+).*', r"\1", expr)
                if not allowed.match(expr):
                    problems.append(f"cell {i}: {{eval}}`{expr}` is not a name or "
                                    'f"{name:spec}"')
                elif name not in bound and not any(p.fullmatch(name) for p in patterns):
                    problems.append(f"cell {i}: {name!r} is not defined by a cell above")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_links_what_it_introduces_to_the_package_reference(path):
    """``{py:func}`mt.name``` (no explicit title: jupyterlab-myst would show it raw) names an
    object of the package documented in book/reference/ (book/_ext/mt_refs.py links it)."""
    mt_refs = load("mt_refs", ROOT / "book/_ext/mt_refs.py")
    documented = {p.stem for p in (ROOT / "book/reference").glob("*.md")}
    roles = markdown_roles(PY_ROLE, path)
    assert len(roles) >= 3, "link the package's main functions and classes where introduced"
    for i, m in roles:
        full = mt_refs.full_name(m["target"])
        assert full is not None, f"cell {i}: {m[0]}: not an mt. name of the package"
        assert full.split(".")[1] in documented, f"cell {i}: {m[0]}: module not in reference"
        assert not any(part.startswith("_") for part in full.split(".")), m[0]
