"""The public API: every exported name exists and every public callable documents itself."""

import inspect

import minitransformer as mt


def test_every_name_in_all_is_importable():
    missing = [name for name in mt.__all__ if not hasattr(mt, name)]
    assert missing == []
    assert len(set(mt.__all__)) == len(mt.__all__), "a name is exported twice"


def test_every_public_class_and_function_has_a_docstring():
    undocumented = [name for name in mt.__all__
                    if (inspect.isclass(getattr(mt, name)) or inspect.isfunction(getattr(mt, name)))
                    and not inspect.getdoc(getattr(mt, name))]
    assert undocumented == []


def test_every_public_forward_documents_its_shapes():
    """STYLE.md: every public forward has a 'Shape' section (PyTorch's convention)."""
    missing = []
    for name in mt.__all__:
        obj = getattr(mt, name)
        if inspect.isclass(obj) and "forward" in vars(obj):
            doc = inspect.getdoc(obj.forward) or ""
            if "Shape" not in doc:
                missing.append(name)
    assert missing == []


def test_no_module_defines_a_top_level_name_twice():
    """A second definition silently replaces the first (a merge hazard in shared modules)."""
    import ast
    import collections
    from pathlib import Path

    twice = []
    for path in sorted(Path(mt.__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text())
        names = collections.Counter(node.name for node in tree.body
                                    if isinstance(node, (ast.FunctionDef, ast.ClassDef)))
        twice += [f"{path.name}: {name}" for name, count in names.items() if count > 1]
    assert twice == []
