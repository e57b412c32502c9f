"""A Sphinx extension that says in every page's footer what built and tested the book.

The versions are not typed by hand: Python's comes from the interpreter running the build,
the packages' from their exact pins in ``requirements.txt`` (what ``make book`` and ``make
test`` install). If the interpreter's minor version differs from the one the pins name
("Python 3.11" on the file's first line), or an installed package differs from its pin, the
build warns (an error under ``-W``): the footer would otherwise state something untrue.
"""

from __future__ import annotations

import platform
import re
from importlib import metadata
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import Version
from sphinx.util import logging

logger = logging.getLogger(__name__)

#: Distribution name -> how the footer names it, in the footer's order.
SHOWN = {"torch": "PyTorch", "numpy": "NumPy", "jupyter-book": "Jupyter Book", "sphinx": "Sphinx"}


def read_pins(requirements: Path) -> tuple[str | None, dict[str, str]]:
    """``(python "X.Y" named in the comments or None, {canonical name: pinned version})``."""
    text = requirements.read_text(encoding="utf8")
    python = re.search(r"#.*\bPython (\d+\.\d+)\b", text)
    pins = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[canonicalize_name(name.split("[", 1)[0])] = version.strip()
    return (python.group(1) if python else None), pins


def footer_line(requirements: Path) -> str:
    """The footer's sentence; warns where the running environment contradicts the pins."""
    pinned_python, pins = read_pins(requirements)
    running = platform.python_version()
    if pinned_python is not None and not running.startswith(pinned_python + "."):
        logger.warning(f"build_info: {requirements.name} pins Python {pinned_python}, "
                       f"the book is being built with {running}")
    parts = [f"Python {running}"]
    for name, label in SHOWN.items():
        pin = pins.get(canonicalize_name(name))
        if pin is None:
            logger.warning(f"build_info: {name} is not pinned in {requirements.name}")
            continue
        installed = metadata.version(name)
        if Version(installed).public != Version(pin).public:  # torch's "+cpu" is not a change
            logger.warning(f"build_info: {requirements.name} pins {name}=={pin}, "
                           f"the book is being built with {installed}")
        parts.append(f"{label} {pin}")
    return (f'<p class="build-info">Built and tested with {", ".join(parts)} '
            f"(the pins in <code>requirements.txt</code>).</p>")


def _add_to_footer(app, config):
    requirements = Path(app.srcdir) / "requirements.txt"
    options = config.html_theme_options
    options["extra_footer"] = (options.get("extra_footer") or "") + footer_line(requirements)


def setup(app):
    app.connect("config-inited", _add_to_footer)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
