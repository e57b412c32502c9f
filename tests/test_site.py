"""The built website, opened in headless Chromium as a reader would open it.

Run after `jupyter-book build` (``make site``; ``make test`` runs it last). Every page in the
table of contents must load with no console error and no failed request (a missing favicon
counts), MathJax (served from the site itself) must typeset the math, and every chapter's
figures must be present and decoded. Without Chromium the tests skip locally; CI sets
``MINITRANSFORMER_REQUIRE_BROWSER=1``, which turns that skip into a failure.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.site

ROOT = Path(__file__).resolve().parent.parent
HTML = ROOT / "_build" / "html"
# A Markdown table's rule line (|---|---| or | :--- | ---: |) seen as text on a page.
RAW_TABLE_RULE = re.compile(r"\|\s*:?-{3,}:?\s*\|")


def toc_pages() -> list[str]:
    """Every document named in _toc.yml, in reading order (root first)."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                pages.append(entry["file"])
            walk(entry.get("sections"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return pages


def is_chapter(page: str) -> bool:
    return Path(page).name[:2].isdigit()


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        pytest.fail(f"no built site at {HTML}: run `make book` first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def open_page(browser, url: str):
    """Load ``url``; return the page and every problem the browser reported."""
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("requestfailed", lambda request: problems.append(
        f"request failed: {request.url} ({request.failure})"))
    page.on("response", lambda response: problems.append(
        f"HTTP {response.status}: {response.url}") if response.status >= 400 else None)
    response = page.goto(url, wait_until="load")
    assert response is not None and response.ok, f"{url} answered {response and response.status}"
    page.wait_for_load_state("networkidle")
    return page, problems


def is_reference(page: str) -> bool:
    return page.startswith("book/reference/")


def test_toc_lists_intro_chapters_reference_and_references():
    pages = toc_pages()
    assert pages[0] == "book/intro"
    assert "book/references" in pages
    assert sum(is_chapter(p) for p in pages) >= 1
    assert "book/reference/index" in pages and sum(is_reference(p) for p in pages) >= 2


@pytest.mark.parametrize("page_name", toc_pages())
def test_page_loads_without_console_errors(server, browser, page_name):
    page, problems = open_page(browser, f"{server}/{page_name}.html")
    try:
        assert page.locator("main h1").count() >= 1, "page has no title"
        assert problems == [], "\n".join(problems)
    finally:
        page.close()


@pytest.mark.parametrize("page_name", [p for p in toc_pages() if is_chapter(p)])
def test_chapter_math_is_typeset_and_figures_present(server, browser, page_name):
    page, problems = open_page(browser, f"{server}/{page_name}.html")
    try:
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
        page.evaluate("MathJax.startup.promise")
        rendered = page.locator("mjx-container").count()
        assert rendered >= 3, f"only {rendered} formulas typeset by MathJax"
        assert page.locator("mjx-merror").count() == 0, "MathJax reported a TeX error"
        images = page.locator(".cell_output img")
        assert images.count() >= 1, "no figure in the chapter's outputs"
        decoded = page.evaluate(
            "Array.from(document.querySelectorAll('.cell_output img'))"
            ".every(img => img.complete && img.naturalWidth > 0)")
        assert decoded, "a figure failed to load"
        assert problems == [], "\n".join(problems)
    finally:
        page.close()


def test_mathjax_is_served_by_the_site_itself(server):
    """Math must render offline: the page loads MathJax from _static, not from a CDN."""
    html = (HTML / "book" / "01_perceptrons.html").read_text()
    assert "_static/mathjax/tex-chtml.js" in html
    assert "cdn.jsdelivr.net" not in html
    assert (HTML / "_static" / "mathjax" / "tex-chtml.js").exists()


@pytest.mark.parametrize("page_name", toc_pages())
def test_tables_render_and_code_fits_the_page(server, browser, page_name):
    """No Markdown table left as raw pipes; no code or output block that scrolls sideways."""
    page, _ = open_page(browser, f"{server}/{page_name}.html")
    try:
        # The page's prose and rendered outputs, without code (code may build a table's text).
        text = page.evaluate(
            "(() => { const main = document.querySelector('main').cloneNode(true);"
            " main.querySelectorAll('pre, code, .cell_input').forEach(el => el.remove());"
            " document.body.appendChild(main); const t = main.innerText; main.remove();"
            " return t; })()")
        raw = [line for line in text.splitlines() if RAW_TABLE_RULE.search(line)]
        assert not raw, f"a Markdown table shows as raw text: {raw[:3]}"
        wide = page.evaluate(
            "Array.from(document.querySelectorAll('main pre'))"
            ".filter(el => el.scrollWidth > el.clientWidth + 1)"
            ".map(el => el.textContent.split('\\n').reduce("
            "(a, b) => (b.length > a.length ? b : a), '').slice(0, 120))")
        assert not wide, f"{len(wide)} code/output block(s) scroll sideways; longest lines: {wide[:3]}"
    finally:
        page.close()


def test_reference_documents_every_public_name(server):
    """Each module's page has an entry (an anchor a chapter can link to) for every name in
    the module's ``__all__`` and every documented public method of those classes."""
    from test_api import documented_objects

    missing = []
    for name, _ in documented_objects():
        module = name.split(".")[1]
        html = (HTML / "book" / "reference" / f"{module}.html").read_text()
        if f'id="{name}"' not in html:
            missing.append(name)
    assert missing == []


def test_reference_renders_shape_sections(server):
    """The docstrings' "Shape:" sections come out as sections (napoleon's custom section)."""
    html = (HTML / "book" / "reference" / "attention.html").read_text()
    assert html.count('<p class="rubric">Shape</p>') >= 3


@pytest.mark.parametrize("page_name", toc_pages())
def test_footer_states_licences_and_the_pinned_versions(server, page_name):
    """Every page says how it may be reused and what built it, with the versions in
    requirements.txt (written into the footer at build time by book/_ext/build_info.py)."""
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements.txt").read_text(),
                           flags=re.MULTILINE))
    html = (HTML / f"{page_name}.html").read_text()
    footer = html[html.index('<footer class="bd-footer-content'):]
    assert "CC BY 4.0" in footer and "MIT" in footer
    for label, name in (("PyTorch", "torch"), ("Jupyter Book", "jupyter-book")):
        assert f"{label} {pins[name]}" in footer, f"the footer lacks {label} {pins[name]}"
    assert re.search(r"Python 3\.\d+\.\d+", footer)


@pytest.mark.parametrize("page_name", [p for p in toc_pages() if is_chapter(p)]
                         + ["book/appendix_performance"])
def test_chapter_prose_shows_numbers_and_links_to_the_reference(server, page_name):
    """Every {eval} came out as a number (not its expression, not a NumPy repr), and every
    ``{py:func}`mt.name``` of the notebook links to an entry of the package reference."""
    import json

    html = (HTML / f"{page_name}.html").read_text()
    prose = re.sub(r"<(pre|script|style)\b.*?</\1>", "", html, flags=re.S)
    prose = re.sub(r"<[^>]+>", "", prose)
    assert "{eval}" not in prose and 'f"{' not in prose and "f&quot;{" not in prose
    values = re.findall(r'<span class="output text_plain">(.*?)</span>', html, flags=re.S)
    reprs = [v for v in values if re.search(r"\b(?:np|numpy|torch)\.\w+\(|tensor\(", v)]
    assert not reprs, f"numbers shown as reprs: {reprs[:3]}"
    assert all(v.strip() for v in values), "an {eval} came out empty"
    notebook = json.loads((ROOT / f"{page_name}.ipynb").read_text())
    roles = sum(len(re.findall(r"\{py:\w+\}`", "".join(c["source"])))
                for c in notebook["cells"] if c["cell_type"] == "markdown")
    links = re.findall(r'<a class="reference internal" href="reference/\w+\.html'
                       r'#(?:module-)?minitransformer\.', html)
    assert len(links) >= roles, f"{roles} reference roles, {len(links)} links to the reference"
