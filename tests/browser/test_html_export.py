"""The exported HTML draws its diagrams in chromium with every non-loopback request blocked."""
from __future__ import annotations

import functools
import http.server
import threading
import urllib.parse
from pathlib import Path

import nbformat
import pytest

from helpers import diagrams
from helpers.config import PROJECT_ROOT
from helpers.export import ENTRY, MERMAID_DIST, export_html

CHROMIUM = "/usr/bin/chromium"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} is missing: apt-get install -y chromium fonts-liberation"),
    pytest.mark.skipif(not (MERMAID_DIST / ENTRY).exists(), reason="tools/mermaid not installed (npm ci)"),
]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_exported_html_renders_diagrams_offline(tmp_path):
    from playwright.sync_api import sync_playwright

    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("```mermaid\nflowchart LR\n    A[Pod] --> B[ESO]\n```"))
    cell = nbformat.v4.new_code_cell("diagrams.show('kubernetes-auth-flow', 'role-check')", execution_count=1)
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data=diagrams.show("kubernetes-auth-flow", "role-check").bundle(svg=False))]
    nb.cells.append(cell)
    nbformat.write(nb, tmp_path / "chapter.ipynb")
    page_path = export_html(tmp_path / "chapter.ipynb", tmp_path / "html")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_Quiet, directory=str(page_path.parent)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    blocked: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 1600})

                def only_loopback(route):
                    if route.request.url.startswith(base):
                        return route.continue_()
                    blocked.append(route.request.url)
                    return route.abort()

                page.route("**/*", only_loopback)
                page.goto(f"{base}/{page_path.name}")
                page.wait_for_function(
                    "() => document.querySelectorAll('.jp-RenderedMermaid svg, .jp-RenderedMermaid img').length >= 2",
                    timeout=30_000)
                assert page.locator(".jp-mod-warning").count() == 0
                img = page.locator(".jp-RenderedMermaid").nth(1).locator("img")
                svg = urllib.parse.unquote(img.get_attribute("src").split(",", 1)[1])
                assert 'data-id="role-check"' in svg and "stroke:#e65100" in svg
                out = PROJECT_ROOT / "build" / "browser"
                out.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(out / "html-export.png"), full_page=True)
            finally:
                browser.close()
    finally:
        server.shutdown()
    assert not [u for u in blocked if "mermaid" in u], blocked
