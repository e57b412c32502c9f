"""Make chapters read the same in JupyterLab as on the website: glue -> {eval}, {ref} -> links.

    python scripts/glue_to_eval.py book/*.ipynb            # convert in place
    python scripts/glue_to_eval.py --check book/*.ipynb    # exit 1 if any would change

MyST-NB's ``glue`` renders only on the website: in JupyterLab a glued number shows as its raw
role. An inline ``{eval}`` expression renders in both places: MyST-NB evaluates it while it
executes the notebook (``execute_notebooks: inline``) and jupyterlab-myst when the reader runs
the Markdown cell (Run All runs them in order). So, in every notebook given:

- ``glue("name", value, display=False)`` becomes ``name = value``: a plain variable that keeps
  its type. A name made at run time (an f-string or a variable, in a loop) or a glue call inside
  a function becomes ``globals()[name] = value``. ``from myst_nb import glue`` goes. Where the
  code already has a variable ``name``, the assignment would overwrite it: if that variable is
  the glued value and nothing rebinds it later, the glue call just goes; otherwise the prose
  reads ``name_shown`` (``mlp_acc_shown = 100 * mlp_acc``). The script prints each such choice.
- ``{glue:text}`name:fmt``` becomes ``{eval}`f"{name:fmt}"``` and ``{glue:text}`name``` becomes
  ``{eval}`name```: the same Python format spec, so the website keeps its rounding and units.
  The expressions allowed are these two forms only (``nb_eval_name_regex`` in _config.yml).
- ``{ref}`label``` to a label defined in another page, and ``{doc}`page```, become Markdown links
  to that page's file (``[2. Recurrent networks](02_rnn.ipynb)``): the website resolves them
  as document links, and in JupyterLab they open the notebook. jupyterlab-myst sees one
  notebook at a time, so a ``{ref}`` to another chapter is an error there.

Cell ids, outputs and metadata are kept; the file is written as the project writes notebooks
(one-space indent, UTF-8, trailing newline). Converting a converted notebook changes nothing.
Anything the script cannot convert faithfully stops it with the cell and the reason, and then
no file is written: a glue call that is not a plain statement or that displays its value,
``{glue}`` roles other than ``{glue:text}``, a glue name that is a Python keyword or builtin,
a name glued twice, a name glued in a loop that is also a variable of the code, prose that
uses a number before (above) the cell that computes it (``{eval}`` needs the value when the
sentence is rendered; glue did not: move the sentence or the computation), a label or page
that does not exist, a {ref} to another page's non-heading label without link text.
"""

from __future__ import annotations

import argparse
import ast
import builtins
import json
import keyword
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

# The two forms of inline expression the prose may use; _config.yml's nb_eval_name_regex
# allows exactly these (tests/test_notebooks.py checks that they agree).
EVAL_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
FORMAT_SPEC = re.compile(r"(?:.?[<>=^])?[+\- ]?z?#?0?\d*[,_]?(?:\.\d+)?[bcdeEfFgGnosxX%]?")
GLUE_ROLE = re.compile(r"\{glue(?::(?P<kind>[a-z]+))?\}`(?P<content>[^`]*)`")
XREF_ROLE = re.compile(r"\{(?P<role>ref|doc)\}`(?P<content>[^`]*)`")
LABEL_LINE = re.compile(r"^\((?P<label>[^()\s]+)\)=\s*$")
LABEL_OPTION = re.compile(r"^:label:\s*(?P<label>\S+)\s*$")      # a directive's :label:
HEADING = re.compile(r"^#{1,6}\s+(?P<title>.+?)\s*#*\s*$")


class ConversionError(Exception):
    """A notebook holds something the script cannot convert without changing its meaning."""


def eval_expression(name: str, fmt: str) -> str:
    """The {eval} content that shows ``name`` as glue's ``{glue:text}`name:fmt``` did."""
    return name if fmt == "" else f'f"{{{name}:{fmt}}}"'


# ---------------------------------------------------------------------------------------------
# Code cells
# ---------------------------------------------------------------------------------------------

SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ListComp,
          ast.SetComp, ast.DictComp, ast.GeneratorExp)


class CodeCell:
    """One code cell's source, parsed, and the edits that replace glue by variables."""

    def __init__(self, index: int, source: str, where: str):
        self.index, self.where = index, where
        self.data = source.encode()          # ast offsets count UTF-8 bytes
        self.starts = [0]
        for line in self.data.splitlines(keepends=True):
            self.starts.append(self.starts[-1] + len(line))
        try:
            self.tree = ast.parse(source)
        except SyntaxError as exc:
            if "glue" in source:
                raise ConversionError(f"{where}: cannot parse the cell ({exc.msg}, line "
                                      f"{exc.lineno}) to convert its glue calls") from None
            self.tree = ast.Module(body=[], type_ignores=[])
        self.parents = {child: node for node in ast.walk(self.tree)
                        for child in ast.iter_child_nodes(node)}
        self.edits: list[tuple[int, int, str]] = []

    def offset(self, line: int, col: int) -> int:
        return self.starts[line - 1] + col

    def segment(self, node: ast.AST) -> str:
        start = self.offset(node.lineno, node.col_offset)
        return self.data[start:self.offset(node.end_lineno, node.end_col_offset)].decode()

    def in_scope(self, node: ast.AST) -> bool:
        """Whether ``node`` sits inside a function, class or comprehension (not module level)."""
        up = self.parents.get(node)
        while up is not None:
            if isinstance(up, SCOPES):
                return True
            up = self.parents.get(up)
        return False

    def replace(self, node: ast.stmt, text: str | None) -> None:
        """Replace statement ``node`` by ``text``; None removes its lines."""
        before = self.data[self.starts[node.lineno - 1]:self.offset(node.lineno, node.col_offset)]
        after = self.data[self.offset(node.end_lineno, node.end_col_offset):
                          self.starts[node.end_lineno]].strip()
        if before.strip() or (after and not after.startswith(b"#")):
            raise ConversionError(f"{self.where}: line {node.lineno}: put this statement on "
                                  "lines of its own (no ';'), then convert")
        if text is None:
            self.edits.append((self.starts[node.lineno - 1], self.starts[node.end_lineno], ""))
        else:
            self.edits.append((self.offset(node.lineno, node.col_offset),
                               self.offset(node.end_lineno, node.end_col_offset), text))

    def converted(self) -> str:
        data = self.data
        for start, end, text in sorted(self.edits, reverse=True):
            data = data[:start] + text.encode() + data[end:]
        if not self.data.endswith(b"\n"):
            data = data.rstrip(b"\n")     # the removed last line leaves no blank line behind
        return data.decode()

    def identifiers(self) -> set[str]:
        """Every name the code binds or reads: variables, arguments, functions, imports."""
        names = set()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.arg):
                names.add(node.arg)
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.alias):
                names.add((node.asname or node.name).split(".")[0])
        return names

    def bindings(self) -> list[tuple[str, tuple[int, int]]]:
        """(name, (cell, line)) for every module-level binding; a `global` binds anywhere."""
        found = []
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Global):
                found += [(n, (sys.maxsize, 0)) for n in node.names]
            elif self.in_scope(node):
                continue
            elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                found.append((node.id, (self.index, node.lineno)))
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                found.append((node.name, (self.index, node.lineno)))
            elif isinstance(node, ast.alias):
                found.append(((node.asname or node.name).split(".")[0],
                              (self.index, node.lineno)))
        return found


@dataclass
class Glue:
    """One ``glue(key, value, display=False)`` statement."""

    cell: CodeCell
    statement: ast.Expr
    key: ast.expr
    value: ast.expr

    @property
    def static_name(self) -> str | None:
        if isinstance(self.key, ast.Constant) and isinstance(self.key.value, str):
            return self.key.value
        return None

    @property
    def position(self) -> tuple[int, int]:
        return self.cell.index, self.statement.end_lineno


def find_glue(cell: CodeCell, errors: list[str]) -> list[Glue]:
    """Every glue statement of ``cell``; queue the removal of ``from myst_nb import glue``."""
    found = []
    for node in ast.walk(cell.tree):
        if isinstance(node, ast.ImportFrom) and node.module == "myst_nb":
            if [(a.name, a.asname) for a in node.names] != [("glue", None)]:
                errors.append(f"{cell.where}: line {node.lineno}: only "
                              "`from myst_nb import glue` can be converted")
            else:
                cell.replace(node, None)
        elif isinstance(node, ast.Import) and any(a.name.split(".")[0] == "myst_nb"
                                                  for a in node.names):
            errors.append(f"{cell.where}: line {node.lineno}: `import myst_nb` cannot be "
                          "converted; use `from myst_nb import glue`")
        elif isinstance(node, ast.Name) and node.id == "glue":
            call = cell.parents.get(node)
            statement = cell.parents.get(call)
            keywords = {k.arg: k.value for k in getattr(call, "keywords", [])}
            if not (isinstance(call, ast.Call) and call.func is node
                    and isinstance(statement, ast.Expr)):
                errors.append(f"{cell.where}: line {node.lineno}: `glue` used other than as "
                              "a statement `glue(name, value, display=False)`")
            elif (len(call.args) != 2 or set(keywords) != {"display"}
                  or not (isinstance(keywords["display"], ast.Constant)
                          and keywords["display"].value is False)):
                errors.append(f"{cell.where}: line {node.lineno}: expected "
                              "`glue(name, value, display=False)` (a glue that displays its "
                              "value would lose that output)")
            else:
                found.append(Glue(cell, statement, *call.args))
    return found


def value_source(g: Glue) -> str:
    """The glued value's source, able to stand alone: a value that spanned lines inside the
    call's parentheses keeps them."""
    text = g.cell.segment(g.value)
    try:
        ast.parse(f"_ = {text}")
    except SyntaxError:
        text = f"({text})"
    return text


def name_pattern(node: ast.expr) -> re.Pattern:
    """The names a computed glue key can take: an f-string's text around its fields."""
    if isinstance(node, ast.JoinedStr):
        return re.compile("".join(re.escape(v.value) if isinstance(v, ast.Constant) else r"\w+"
                                  for v in node.values))
    return re.compile(r"\w+")


# ---------------------------------------------------------------------------------------------
# Markdown cells
# ---------------------------------------------------------------------------------------------

@dataclass
class Target:
    """A page or a label that a {ref} or {doc} can point to; ``title`` is the heading a
    {ref} without explicit text shows (None: a label on something else, e.g. an exercise)."""

    path: Path
    title: str | None


def collect_targets(root: Path) -> tuple[dict[str, Target], dict[Path, Target]]:
    """Every label (``(label)=`` and directives' ``:label:``) and every page's first heading,
    in the .ipynb and .md files under ``root``."""
    labels: dict[str, Target] = {}
    pages: dict[Path, Target] = {}
    for path in sorted(root.rglob("*")):
        if path.suffix not in (".ipynb", ".md") or any(
                p.startswith((".", "_build")) for p in path.relative_to(root).parts):
            continue
        if path.suffix == ".ipynb":
            cells = json.loads(path.read_text())["cells"]
            lines = [line for c in cells if c["cell_type"] == "markdown"
                     for line in "".join(c["source"]).splitlines()]
        else:
            lines = path.read_text().splitlines()
        lines = [line.strip() for line in lines]
        if headings := [m["title"] for line in lines if (m := HEADING.match(line))]:
            pages[path.with_suffix("")] = Target(path, headings[0])
        for i, line in enumerate(lines):
            if m := LABEL_LINE.match(line):
                heading = HEADING.match(next((x for x in lines[i + 1:] if x), ""))
                labels[m["label"]] = Target(path, heading["title"] if heading else None)
            elif m := LABEL_OPTION.match(line):
                labels[m["label"]] = Target(path, None)
    return labels, pages


def split_explicit(content: str) -> tuple[str | None, str]:
    """``text <target>`` -> (text, target); ``target`` -> (None, target)."""
    if m := re.fullmatch(r"(?P<text>.*?)\s*<(?P<target>[^<>]+)>", content, flags=re.S):
        return m["text"], m["target"].strip()
    return None, content.strip()


def relative(path: Path, start: Path) -> str:
    """``path`` as a Markdown link written in a file in ``start`` spells it."""
    return Path(os.path.relpath(path, start)).as_posix()


@dataclass
class Produced:
    """What the code cells read so far bind for the prose: glue key -> variable, and the
    patterns of keys computed at run time (those keep their name)."""

    variables: dict[str, str] = field(default_factory=dict)
    patterns: list[re.Pattern] = field(default_factory=list)

    def variable(self, key: str) -> str | None:
        if key in self.variables:
            return self.variables[key]
        return key if any(p.fullmatch(key) for p in self.patterns) else None


def convert_markdown(text: str, where: str, here: Path, produced: Produced,
                     targets: tuple[dict[str, Target], dict[Path, Target]],
                     errors: list[str], dynamic: list[str]) -> str:
    """``text`` converted; problems go to ``errors``, keys met only through a run-time
    pattern to ``dynamic``."""
    labels, pages = targets

    def glue_role(m: re.Match) -> str:
        content = m["content"].strip()
        key, _, fmt = content.partition(":")
        if m["kind"] != "text":
            errors.append(f"{where}: {m[0]!r}: only {{glue:text}} can be converted")
        elif "::" in content:
            errors.append(f"{where}: {m[0]!r}: glue from another notebook cannot be converted")
        elif not re.fullmatch(EVAL_NAME, key) or not FORMAT_SPEC.fullmatch(fmt) \
                or '"' in fmt:
            errors.append(f"{where}: {m[0]!r}: not a name with an optional Python format spec")
        elif (variable := produced.variable(key)) is None:
            errors.append(f"{where}: {m[0]!r}: no code cell above this one glues {key!r}. An "
                          "{eval} is evaluated when its sentence is rendered, so the number "
                          "must be computed above the sentence: move one or the other")
        else:
            if key not in produced.variables:
                dynamic.append(key)
            return f"{{eval}}`{eval_expression(variable, fmt)}`"
        return m[0]

    def xref_role(m: re.Match) -> str:
        explicit, target = split_explicit(m["content"])
        if m["role"] == "ref":
            found = labels.get(target)
            if found is None:
                errors.append(f"{where}: {m[0]!r}: no heading has the label {target!r}")
                return m[0]
            if found.path == here:
                return m[0]                  # same notebook: jupyterlab-myst resolves it
            if explicit is None and found.title is None:
                errors.append(f"{where}: {m[0]!r}: {target!r} in {found.path.name} is not a "
                              "heading; write the link text: {ref}`text <label>`")
                return m[0]
        else:
            found = pages.get((here.parent / target).resolve())
            if found is None:
                errors.append(f"{where}: {m[0]!r}: no page {target!r} next to {here.name}")
                return m[0]
        return f"[{explicit or found.title}]({relative(found.path, here.parent)})"

    if "{glue" in GLUE_ROLE.sub("", text):
        errors.append(f"{where}: a glue directive cannot be converted")
    text = GLUE_ROLE.sub(glue_role, text)
    return XREF_ROLE.sub(xref_role, text)


# ---------------------------------------------------------------------------------------------
# Notebooks
# ---------------------------------------------------------------------------------------------

def source_lines(text: str) -> list[str]:
    """A cell's text as nbformat stores it: lines keeping their newlines."""
    return text.splitlines(keepends=True)


def plan(glues: list[Glue], cells: list[CodeCell], errors: list[str],
         notes: list[str]) -> dict[str, str]:
    """Choose the variable for each glue key written as a string, and queue the code edits.

    The key itself, unless the code already has a variable of that name: then, if that
    variable holds the glued value and nothing rebinds it later, the glue call simply goes;
    otherwise the prose reads ``<key>_shown``.
    """
    identifiers = set().union(*(c.identifiers() for c in cells))
    bindings = [b for c in cells for b in c.bindings()]
    keys = [g.static_name for g in glues if g.static_name is not None]
    variables: dict[str, str] = {}
    for g in glues:
        key = g.static_name
        if key is None:
            g.cell.replace(g.statement,
                           f"globals()[{g.cell.segment(g.key)}] = {value_source(g)}")
            continue
        if not re.fullmatch(EVAL_NAME, key) or keyword.iskeyword(key) or hasattr(builtins, key):
            errors.append(f"{g.cell.where}: glue key {key!r} cannot be a Python variable; "
                          "rename it (in the glue call and the prose)")
            continue
        if key in variables:
            errors.append(f"{g.cell.where}: {key!r} is glued more than once; glue it once")
            continue
        variable, drop = key, False
        if key in identifiers:
            unchanged_later = not any(name == key and where > g.position
                                      for name, where in bindings)
            if (isinstance(g.value, ast.Name) and g.value.id == key and unchanged_later
                    and not g.cell.in_scope(g.statement)):
                drop = True
                notes.append(f"{key}: already a variable holding the glued value; "
                             "glue call removed")
            else:
                variable = f"{key}_shown"
                if variable in identifiers or variable in keys:
                    errors.append(f"{g.cell.where}: {key!r} is also a variable of the code, "
                                  f"and so is {variable!r}: rename the glue key")
                    continue
                notes.append(f"{key} -> {variable}: the code has a variable {key} already")
        variables[key] = variable
        if drop:
            g.cell.replace(g.statement, None)
        else:
            target = f'globals()["{variable}"]' if g.cell.in_scope(g.statement) else variable
            g.cell.replace(g.statement, f"{target} = {value_source(g)}")
    return variables


def convert_notebook(path: Path, targets: tuple[dict[str, Target], dict[Path, Target]],
                     notes: list[str]) -> dict:
    """Return the converted notebook (a new dict); raise ConversionError listing every
    problem if it cannot be converted faithfully."""
    nb = json.loads(path.read_text())
    errors: list[str] = []
    cells: dict[int, CodeCell] = {}
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            try:
                cells[i] = CodeCell(i, "".join(cell["source"]),
                                    f"{path.name}: cell {i} (id {cell.get('id', '?')})")
            except ConversionError as exc:
                errors.append(str(exc))
    glues = [g for c in cells.values() for g in find_glue(c, errors)]
    variables = plan(glues, list(cells.values()), errors, notes)
    identifiers = set().union(*(c.identifiers() for c in cells.values()))

    produced, dynamic = Produced(), []
    for i, cell in enumerate(nb["cells"]):
        if i in cells:
            for g in glues:
                if g.cell.index == i and g.static_name is None:
                    produced.patterns.append(name_pattern(g.key))
                elif g.cell.index == i and g.static_name in variables:
                    produced.variables[g.static_name] = variables[g.static_name]
            new = cells[i].converted()
            try:
                ast.parse(new)
            except SyntaxError as exc:               # a bug of this script: never write it
                errors.append(f"{cells[i].where}: the converted cell does not parse "
                              f"({exc.msg}, line {exc.lineno})")
        elif cell["cell_type"] == "markdown":
            new = convert_markdown("".join(cell["source"]),
                                   f"{path.name}: cell {i} (id {cell.get('id', '?')})",
                                   path, produced, targets, errors, dynamic)
        else:
            continue
        if new != "".join(cell["source"]):
            cell["source"] = source_lines(new)
            if not new.strip():
                notes.append(f"cell {i} (id {cell.get('id', '?')}) held only glue calls "
                             "that went: removed")
    nb["cells"] = [c for c in nb["cells"] if c["cell_type"] != "code" or "".join(c["source"])]
    clashes = sorted(set(dynamic) & identifiers)
    if clashes:
        errors.append(f"{path.name}: keys glued in a loop that are also variables of the "
                      f"code: {clashes}; rename them")
    if errors:
        raise ConversionError("\n".join(errors))
    return nb


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 if a notebook would change")
    args = parser.parse_args(argv)
    converted, problems = {}, []
    for path in args.notebooks:
        path = path.resolve()
        notes: list[str] = []
        try:
            if path.suffix != ".ipynb" or not path.is_file():
                raise ConversionError(f"{path}: not a notebook")
            converted[path] = dumps(convert_notebook(path, collect_targets(path.parent), notes))
        except ConversionError as exc:
            problems.append(str(exc))
        for note in notes:
            print(f"{path.name}: {note}")
    if problems:
        print("glue_to_eval: cannot convert faithfully:\n  " + "\n  ".join(
            "\n".join(problems).splitlines()) + "\nNo file was written.", file=sys.stderr)
        return 2
    changed = [p for p, text in converted.items() if text != p.read_text()]
    for p in changed:
        if not args.check:
            p.write_text(converted[p])
        print(f"{'would convert' if args.check else 'converted'} {p}")
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
