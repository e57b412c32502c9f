"""scripts/glue_to_eval.py: glue becomes variables and {eval}, faithfully, or not at all."""

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("glue_to_eval", ROOT / "scripts/glue_to_eval.py")
glue_to_eval = sys.modules["glue_to_eval"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(glue_to_eval)


def code(source, **metadata):
    return {"cell_type": "code", "id": f"c{abs(hash(source)) % 10**8}", "metadata": metadata,
            "execution_count": None, "outputs": [], "source": source.splitlines(True)}


def markdown(source):
    return {"cell_type": "markdown", "id": f"m{abs(hash(source)) % 10**8}", "metadata": {},
            "source": source.splitlines(True)}


def write(folder: Path, name: str, *cells) -> Path:
    nb = {"cells": list(cells), "metadata": {"kernelspec": {"name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    path = folder / name
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return path


def sources(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]


def convert(*paths, check=False):
    return glue_to_eval.main([*(["--check"] if check else []), *map(str, paths)])


@pytest.fixture
def chapter(tmp_path):
    return write(
        tmp_path, "01_x.ipynb",
        code("import numpy as np\nfrom myst_nb import glue\n\nSEED = 0"),
        code('loss = [0.71234, 0.00123]\nglue("loss_start", loss[0], display=False)\n'
             'glue("loss_end", loss[-1], display=False)'),
        markdown("The loss falls from {glue:text}`loss_start:.3f` to "
                 "{glue:text}`loss_end:.1e`."),
        code('for n in [10, 20]:\n    glue(f"acc_{n}", 100 - n / 3, display=False)\n'
             'glue("n_steps", 2, display=False)'),
        markdown("Accuracy {glue:text}`acc_10:.1f`% and {glue:text}`acc_20:+.0f`, "
                 "{glue:text}`n_steps` steps."))


def test_glue_calls_become_variables_and_roles_become_eval_with_the_same_format(chapter):
    assert convert(chapter) == 0
    cells = sources(chapter)
    assert cells[0] == "import numpy as np\n\nSEED = 0"
    assert cells[1] == "loss = [0.71234, 0.00123]\nloss_start = loss[0]\nloss_end = loss[-1]"
    assert cells[2] == ('The loss falls from {eval}`f"{loss_start:.3f}"` to '
                        '{eval}`f"{loss_end:.1e}"`.')
    assert cells[3] == ('for n in [10, 20]:\n    globals()[f"acc_{n}"] = 100 - n / 3\n'
                        "n_steps = 2")
    assert cells[4] == ('Accuracy {eval}`f"{acc_10:.1f}"`% and {eval}`f"{acc_20:+.0f}"`, '
                        "{eval}`n_steps` steps.")


def test_converted_prose_shows_what_glue_showed(chapter):
    """Each {eval}, as a renderer shows it (text/plain, quotes stripped), reads exactly as
    MyST-NB's glue formatted the same value."""
    from myst_nb.core.variables import format_plain_text

    roles = [r for text in sources(chapter) for r in re.findall(r"\{glue:text\}`([^`]+)`", text)]
    convert(chapter)
    namespace, shown = {}, []
    for cell in json.loads(chapter.read_text())["cells"]:
        text = "".join(cell["source"])
        if cell["cell_type"] == "code":
            exec(text, namespace)
        else:
            shown += [repr(eval(e, namespace)).strip("'")
                      for e in re.findall(r"\{eval\}`([^`]+)`", text)]
    glued = [format_plain_text(repr(namespace[key]), fmt)
             for key, _, fmt in (r.partition(":") for r in roles)]
    assert shown == glued == ["0.712", "1.2e-03", "96.7", "+93", "2"]


def test_converting_twice_changes_nothing_and_keeps_ids_and_json_layout(chapter):
    before = json.loads(chapter.read_text())
    convert(chapter)
    once = chapter.read_text()
    assert convert(chapter, check=True) == 0
    assert convert(chapter) == 0 and chapter.read_text() == once
    assert [c["id"] for c in json.loads(once)["cells"]] == [c["id"] for c in before["cells"]]
    assert once == json.dumps(json.loads(once), indent=1, ensure_ascii=False) + "\n"


def test_check_reports_a_notebook_that_would_change_and_writes_nothing(chapter):
    before = chapter.read_text()
    assert convert(chapter, check=True) == 1
    assert chapter.read_text() == before


def test_prose_before_the_cell_that_computes_its_number_is_refused(tmp_path, capsys):
    path = write(tmp_path, "01_x.ipynb", markdown("We train for {glue:text}`epochs` epochs."),
                 code('from myst_nb import glue\nglue("epochs", 5, display=False)'))
    before = path.read_text()
    assert convert(path) == 2
    assert path.read_text() == before
    assert "no code cell above this one glues 'epochs'" in capsys.readouterr().err


def test_a_glue_name_that_is_also_a_variable_is_renamed_or_dropped_never_overwritten(tmp_path):
    path = write(tmp_path, "01_x.ipynb",
                 code("from myst_nb import glue\nacc = 0.97\nbest = 3\n"
                      'glue("acc", 100 * acc, display=False)\nglue("best", best, display=False)'),
                 markdown("{glue:text}`acc:.1f`% at epoch {glue:text}`best`"),
                 code("print(acc)"))
    assert convert(path) == 0
    cells = sources(path)
    assert cells[0] == "acc = 0.97\nbest = 3\nacc_shown = 100 * acc"   # best already holds it
    assert cells[1] == '{eval}`f"{acc_shown:.1f}"`% at epoch {eval}`best`'


def test_a_value_spanning_lines_inside_the_call_keeps_its_parentheses(tmp_path):
    path = write(tmp_path, "01_x.ipynb",
                 code('from myst_nb import glue\nstuck = []\n'
                      'glue("stuck_range", f"{min(stuck)}" if stuck\n'
                      '     else "(none)", display=False)'),
                 markdown("{glue:text}`stuck_range`"))
    assert convert(path) == 0
    converted = sources(path)[0]
    assert converted == ('stuck = []\nstuck_range = (f"{min(stuck)}" if stuck\n'
                         '     else "(none)")')
    namespace = {}
    exec(converted, namespace)
    assert namespace["stuck_range"] == "(none)"


def test_a_variable_rebound_after_its_glue_is_not_used_for_the_glued_value(tmp_path):
    path = write(tmp_path, "01_x.ipynb",
                 code('from myst_nb import glue\nbest = 3\nglue("best", best, display=False)'),
                 markdown("epoch {glue:text}`best`"), code("best = 4"))
    assert convert(path) == 0
    assert sources(path)[0] == "best = 3\nbest_shown = best"


@pytest.mark.parametrize("cell, reason", [
    (code('from myst_nb import glue\nglue("x", 1)'), "display=False"),
    (code('from myst_nb import glue\nf = glue\nf("x", 1, display=False)'), "other than"),
    (code('from myst_nb import glue\nglue("x", 1, display=False); y = 2'), "lines of its own"),
    (code('from myst_nb import glue\nglue("max", 1, display=False)'), "cannot be a Python"),
    (code('import myst_nb\nmyst_nb.glue("x", 1, display=False)'), "import myst_nb"),
    (markdown("{glue:md}`x`"), "only {glue:text}"),
    (markdown("```{glue:figure} x\n```"), "glue directive"),
    (markdown("{ref}`nowhere`"), "no heading has the label"),
])
def test_what_cannot_be_converted_faithfully_stops_the_script(tmp_path, capsys, cell, reason):
    path = write(tmp_path, "01_x.ipynb", code("SEED = 0"), cell)
    before = path.read_text()
    assert convert(path) == 2
    assert path.read_text() == before
    assert reason in capsys.readouterr().err


def test_one_failing_notebook_leaves_every_notebook_unwritten(tmp_path, chapter):
    bad = write(tmp_path, "02_y.ipynb", markdown("{glue:text}`missing`"))
    before = chapter.read_text()
    assert convert(chapter, bad) == 2
    assert chapter.read_text() == before


def test_references_to_another_notebook_become_links_to_its_file(tmp_path):
    write(tmp_path, "02_rnn.ipynb", markdown("(ch-rnn)=\n# 2. Recurrent networks\n\nText."))
    (tmp_path / "references.md").write_text("# References\n")
    path = write(tmp_path, "03_x.ipynb",
                 markdown("(ch-x)=\n# 3. X\n\nAs {ref}`ch-rnn` showed, and {ref}`this <ch-rnn>`;"
                          " {ref}`ch-x` stays; see {doc}`the list <references>`."))
    assert convert(path) == 0
    assert sources(path)[0] == (
        "(ch-x)=\n# 3. X\n\nAs [2. Recurrent networks](02_rnn.ipynb) showed, and "
        "[this](02_rnn.ipynb); {ref}`ch-x` stays; see [the list](references.md).")
