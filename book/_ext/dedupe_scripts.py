"""A Sphinx extension that drops repeated script tags from every page.

sphinx-thebe (added by Jupyter Book) registers its inline configuration script each time the
environment is read, and a page that declares ``const THEBE_JS_URL`` twice throws a
JavaScript error in the browser. Keeping the first copy of each identical script fixes it.
"""

from __future__ import annotations


def _drop_repeated_scripts(app, pagename, templatename, context, doctree):
    seen = set()
    unique = []
    for script in context.get("script_files", []):
        attributes = getattr(script, "attributes", {})
        # An inline script is registered with filename None or "": treat them alike.
        key = (getattr(script, "filename", None) or "", tuple(sorted(attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
