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


def _public_callables():
    """Every public function and public method the package defines (not inherited ones),
    reachable from ``mt`` and from its public submodules."""
    modules = [mt, mt.data, mt.exercises, mt.tasks, mt.viz]
    seen = {}
    for module in modules:
        for name in module.__all__:
            obj = getattr(module, name)
            if not getattr(obj, "__module__", "").startswith("minitransformer"):
                continue
            if inspect.isfunction(obj):
                seen[f"{obj.__module__}.{obj.__qualname__}"] = obj
            elif inspect.isclass(obj):
                for attr, member in vars(obj).items():
                    if attr.startswith("_") and attr != "__init__":
                        continue
                    if isinstance(member, (classmethod, staticmethod)):
                        member = member.__func__
                    if inspect.isfunction(member):
                        seen[f"{obj.__module__}.{member.__qualname__}"] = member
    return seen


def test_every_public_function_and_method_is_fully_annotated():
    """py.typed promises type hints: every parameter and every return of the public API is
    annotated (mypy, run by `make typecheck`, checks that they are right)."""
    missing = []
    for qualname, fn in _public_callables().items():
        signature = inspect.signature(fn)
        for param in list(signature.parameters.values()):
            if param.name in ("self", "cls"):
                continue
            if param.annotation is inspect.Parameter.empty:
                missing.append(f"{qualname}({param.name})")
        # PEP 484: an __init__ with annotated arguments may leave out its `-> None`
        if signature.return_annotation is inspect.Signature.empty and fn.__name__ != "__init__":
            missing.append(f"{qualname} -> ?")
    assert len(_public_callables()) > 50  # the walk found the API
    assert missing == []


def test_the_package_declares_itself_typed():
    from pathlib import Path

    assert (Path(mt.__file__).parent / "py.typed").is_file()
