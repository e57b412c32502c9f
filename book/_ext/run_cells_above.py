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

Each ``{eval}`` is evaluated as jupyterlab-myst evaluates it, as a ``user_expressions`` entry
of a silent execute request, rather than by MyST-NB's own way, which runs the expression as
code and reads its displayed result: IPython shows no result while the last cell in its
history ends with ``;`` (``ax.legend();``), so every {eval} below such a cell came back empty.
A silent request also leaves the namespace alone (no ``_``, no history entry).
"""

from __future__ import annotations

import re

import nbformat
from myst_nb.core.execute.base import EvalNameError
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


def eval_variable(self, name: str) -> list:
    """The value of the expression ``name`` in the chapter's kernel, as one output."""
    if not re.match(self.nb_config.eval_name_regex, name):
        raise EvalNameError(name)
    client = self._client
    msg_id = client.kc.execute("", silent=True, store_history=False,
                               user_expressions={"value": name})
    reply = client.wait_for_reply(msg_id)
    if reply is None:
        raise RuntimeError(f"no reply from the kernel evaluating {name!r}")
    result = reply["content"].get("user_expressions", {}).get("value", {})
    if result.get("status") != "ok":
        return [nbformat.v4.new_output("error", ename=result.get("ename", "Error"),
                                       evalue=result.get("evalue", ""),
                                       traceback=result.get("traceback", []))]
    return [nbformat.v4.new_output("execute_result", data=result["data"],
                                   metadata=result.get("metadata", {}), execution_count=None)]


def setup(app):
    MditRenderMixin.render_nb_cell_markdown = render_nb_cell_markdown
    MditRenderMixin.render_nb_finalise = render_nb_finalise
    NotebookClientInline.eval_variable = eval_variable
    return {"parallel_read_safe": True, "parallel_write_safe": True}
