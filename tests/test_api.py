"""The public API: every exported name exists and every public callable documents itself."""

import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import minitransformer as mt

ROOT = Path(__file__).resolve().parent.parent


def public_modules() -> list[str]:
    """The package's modules a reader may import (``_validation`` and the like excluded)."""
    return sorted(m.name for m in pkgutil.iter_modules(mt.__path__) if not m.name.startswith("_"))


def documented_objects():
    """``(qualified name, object)`` for every name in each module's ``__all__`` and every
    public method or property with a docstring defined on those classes: what the package
    reference (book/reference/) must show."""
    for module_name in public_modules():
        module = importlib.import_module(f"minitransformer.{module_name}")
        for name in module.__all__:
            obj = getattr(module, name)
            yield f"minitransformer.{module_name}.{name}", obj
            if inspect.isclass(obj) and obj.__name__ == name:  # an alias shows as "alias of"
                for attr, member in vars(obj).items():
                    function = getattr(member, "__func__", member)  # classmethod, staticmethod
                    if (not attr.startswith("_") and function.__doc__
                            and (inspect.isfunction(function) or isinstance(member, property))):
                        yield f"minitransformer.{module_name}.{name}.{attr}", function


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


def test_every_module_has_a_reference_page_listed_in_the_toc():
    """book/reference/<module>.md documents each public module, and the book lists it."""
    toc = (ROOT / "_toc.yml").read_text()
    index = (ROOT / "book" / "reference" / "index.md").read_text()
    problems = []
    for name in public_modules():
        page = ROOT / "book" / "reference" / f"{name}.md"
        if not page.exists() or f".. automodule:: minitransformer.{name}\n" not in page.read_text():
            problems.append(f"book/reference/{name}.md does not run automodule on it")
        if f"- file: book/reference/{name}\n" not in toc:
            problems.append(f"_toc.yml does not list book/reference/{name}")
        if f"\n   {name}\n" not in index:
            problems.append(f"the module table in book/reference/index.md lacks {name}")
    assert problems == []


def test_every_shape_section_renders_as_a_section():
    """A 'Shape:' heading napoleon does not see (not alone on its line, or its body not
    indented) would show in the reference as running text instead of a Shape section."""
    napoleon = pytest.importorskip("sphinx.ext.napoleon")
    config = napoleon.Config(napoleon_custom_sections=["Shape"])
    flat = []
    for name, obj in documented_objects():
        doc = inspect.getdoc(obj) or ""
        if "Shape:" in doc and ".. rubric:: Shape" not in str(napoleon.GoogleDocstring(doc, config)):
            flat.append(name)
    assert flat == []


def _public_callables():
    """Every public function and public method the package defines (not inherited ones),
    reachable from ``mt`` and from its public submodules."""
    modules = [mt, mt.data, mt.diagrams, mt.exercises, mt.mlp, mt.perceptron, mt.tasks, mt.viz]
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
