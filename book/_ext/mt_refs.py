"""A Sphinx extension: the chapters' ``mt.`` names link to their entry in the package reference.

Chapters call the package as readers do, ``import minitransformer as mt``, and name what they
introduce the same way: ``{py:func}`mt.causal_mask``` or ``{py:class}`mt.RNNCell```. The
reference documents each object where it is defined (``minitransformer.attention.causal_mask``),
so Sphinx's Python domain does not know the ``mt.`` spelling. Here an ``mt.`` target that the
domain cannot resolve is looked up in the package, and resolved as the object's full name;
the page keeps showing ``mt.causal_mask()``. A name that is not in the package, or whose full
name the reference does not document, stays unresolved, so ``-n`` still fails the build.

jupyterlab-myst shows such a role as its text (``mt.causal_mask``), with no error: one
source reads well in both places, where an explicit title (``text <target>``) would show raw.
"""

from __future__ import annotations

import importlib
import inspect


def full_name(target: str) -> str | None:
    """``mt.X.y`` -> the dotted name where the package defines it, or None."""
    if not target.startswith("mt."):
        return None
    obj = importlib.import_module("minitransformer")
    parts = target.split(".")[1:]
    owner = None
    for part in parts:
        owner, obj = obj, getattr(obj, part, None)
        if obj is None:
            return None
    if inspect.ismodule(obj):
        return obj.__name__
    if inspect.isclass(owner):                      # a method or attribute of a class
        return f"{full_name('mt.' + '.'.join(parts[:-1]))}.{parts[-1]}"
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if module is None or qualname is None:
        return None
    return f"{module}.{qualname}"


def resolve_mt(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    name = full_name(node["reftarget"])
    if name is None:
        return None
    return env.get_domain("py").resolve_xref(env, node.get("refdoc", env.docname), app.builder,
                                             node["reftype"], name, node, contnode)


def setup(app):
    app.connect("missing-reference", resolve_mt)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
