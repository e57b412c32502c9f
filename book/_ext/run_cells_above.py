"""A Sphinx extension: in inline execution, every cell above a Markdown cell runs before it.

The chapters' prose shows computed numbers with inline ``{eval}`` expressions, which MyST-NB
evaluates in the chapter's kernel while it renders the page (``execute_notebooks: inline``
in _config.yml), and which jupyterlab-myst evaluates when a reader runs the cell. MyST-NB's
inline mode runs a code cell only when it renders that cell, so a cell it does not render
(tagged ``remove-cell``, as the cells that only compute the prose's numbers are) runs late:
at the next rendered code cell, after the prose below it was evaluated. Here each Markdown
cell first runs every cell above it, in order, as Run All does in JupyterLab; glue data (a
glued figure) is collected as it runs. At the end of the page the cells below the last
rendered one run too, so a removed cell's ``assert`` still fails the build.

Other execution modes (cache, force, off) are left as they are: their client already holds
every output, and running cells "up to" an index is a lookup there.
"""

from __future__ import annotations

from myst_nb.core.execute.inline import NotebookClientInline
from myst_nb.core.render import MditRenderMixin

_render_markdown = MditRenderMixin.render_nb_cell_markdown
_render_finalise = MditRenderMixin.render_nb_finalise


def _run_up_to(renderer, index: int) -> None:
    client = getattr(renderer, "nb_client", None)
    if isinstance(client, NotebookClientInline):
        client.code_cell_outputs(index)     # runs every cell up to `index` not yet run


def render_nb_cell_markdown(self, token) -> None:
    _run_up_to(self, token.meta["index"])
    _render_markdown(self, token)


def render_nb_finalise(self, token) -> None:
    client = getattr(self, "nb_client", None)
    if isinstance(client, NotebookClientInline):
        _run_up_to(self, len(client.notebook.cells) - 1)
    _render_finalise(self, token)


def setup(app):
    MditRenderMixin.render_nb_cell_markdown = render_nb_cell_markdown
    MditRenderMixin.render_nb_finalise = render_nb_finalise
    return {"parallel_read_safe": True, "parallel_write_safe": True}
