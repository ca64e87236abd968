"""The exported HTML opened as people open a file (file://), with every request blocked: it draws
all its diagrams, keeps the line breaks in their labels and shows the step-through as steps."""
from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from helpers import diagrams
from helpers.config import PROJECT_ROOT
from helpers.display import stepper
from helpers.export import export_html, mermaid_available

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = PROJECT_ROOT / "build" / "browser"


pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} is missing: apt-get install -y chromium fonts-liberation"),
    pytest.mark.skipif(not mermaid_available(), reason="mermaid's browser build is missing: make mermaid-js"),
]


def _chapter_like_notebook(path: Path) -> Path:
    """Every diagram the chapter shows (Mermaid text only: no renderer ran), a mermaid fence in a
    markdown cell, and the step-through's output as a headless run stores it."""
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("```mermaid\nflowchart LR\n    A[Pod<br/>starts] --> B[ESO]\n```"))
    shown = [diagrams.show(name) for name in diagrams.names()] + [diagrams.show(diagrams.FLOW, "role-check")]
    for count, diagram in enumerate(shown, start=1):
        cell = nbformat.v4.new_code_cell(f"diagrams.show({diagram.name!r})", execution_count=count)
        cell.outputs = [nbformat.v4.new_output("display_data", data=diagram.bundle(svg=False))]
        nb.cells.append(cell)
    walk = stepper(diagrams.FLOW, {"auth-request": "<b>POST /auth</b> sent with the akeyless-auth-sa token"})
    cell = nbformat.v4.new_code_cell("stepper()", execution_count=len(shown) + 1)
    cell.outputs = [nbformat.v4.new_output("display_data", data=walk.fallback_bundle("model-id-from-a-run"))]
    nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def _offline_page(browser, folder: Path, requests: list[str], height: int):
    """A page that may load files of `folder` only: any other request is recorded and aborted."""
    page = browser.new_page(viewport={"width": 1280, "height": height})

    def nothing_leaves(route):
        if route.request.url.startswith(folder.as_uri()):
            return route.continue_()
        requests.append(route.request.url)
        return route.abort()

    page.route("**/*", nothing_leaves)
    return page


def test_exported_html_draws_every_diagram_from_disk_with_the_network_cut(tmp_path):
    from playwright.sync_api import sync_playwright

    page_path = export_html(_chapter_like_notebook(tmp_path / "chapter.ipynb"), tmp_path / "html")
    expected = page_path.read_text().count('<pre class="mermaid">')
    assert expected == len(diagrams.names()) + 2
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = _offline_page(browser, page_path.parent, requests, height=1000)
            page.goto(page_path.as_uri())
            page.wait_for_function(f"() => document.querySelectorAll('.jp-RenderedMermaid').length >= {expected}",
                                   timeout=60_000)
            assert page.locator(".jp-mod-warning").count() == 0
            assert page.locator(".jp-RenderedMermaid figure svg").count() == expected
            labels = page.locator(".jp-RenderedMermaid").first.inner_text()
            assert "Pod" in labels and "starts" in labels and "Podstarts" not in labels
            flow = page.locator(".jp-RenderedMermaid").nth(len(diagrams.names()) + 1).inner_html()
            assert 'data-id="role-check"' in flow and "e65100" in flow
            steps = page.locator("ol.workshop-steps li")
            assert steps.count() == 8
            assert "POST /auth sent with the akeyless-auth-sa token" in steps.nth(1).inner_text()
            assert "VBox(" not in page.inner_text("body")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / "html-export.png"), full_page=True)
        finally:
            browser.close()
    assert requests == []


def test_the_index_opens_from_disk_and_its_link_opens_the_chapter(tmp_path):
    from playwright.sync_api import sync_playwright

    from helpers.export import IndexEntry, export_index

    chapter = _chapter_like_notebook(tmp_path / "02_kubernetes_auth.ipynb")
    nb = nbformat.read(chapter, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell("# Chapter 2: the stand-in"))
    nb.metadata["workshop"] = {"stack": "emulator"}
    nbformat.write(nb, chapter)
    export_html(chapter, tmp_path / "html")
    index = export_index([IndexEntry(chapter), IndexEntry(tmp_path / "03_syncing_with_eso.ipynb", "needs ESO")],
                         tmp_path / "html")
    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            page = _offline_page(browser, index.parent, requests, height=800)
            page.goto(index.as_uri())
            rows = page.locator("tbody tr")
            assert rows.count() == 2
            assert "outputs from the emulator" in rows.nth(0).inner_text()
            assert "skipped" in rows.nth(1).inner_text() and rows.nth(1).locator("a").count() == 0
            page.get_by_role("link", name="Chapter 2: the stand-in").click()
            page.wait_for_url("**/02_kubernetes_auth.html")
            page.wait_for_function("() => document.querySelectorAll('.jp-RenderedMermaid').length >= 1",
                                   timeout=60_000)
            assert page.title() and page.locator(".jp-RenderedMermaid figure svg").count() >= 1
            assert requests == []
        finally:
            browser.close()
