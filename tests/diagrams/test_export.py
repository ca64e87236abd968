"""Offline HTML export: one self-contained page, mermaid inlined as a classic script, no CDN at all."""
from __future__ import annotations

import re

import nbformat
import pytest

from helpers import diagrams
from helpers.export import ExportFailed, export_html, mermaid_available


needs_mermaid = pytest.mark.skipif(not mermaid_available(), reason="mermaid's browser build is missing: make mermaid-js")


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Flow\n\n```mermaid\nflowchart LR\n    A[JWT<br/>mounted] --> B\n```\n"))
    cell = nbformat.v4.new_code_cell("diagrams.show('kubernetes-auth-flow', 'token-review')", execution_count=1)
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data=diagrams.show("kubernetes-auth-flow", "token-review").bundle(svg=False))]
    nb.cells.append(cell)
    widget = nbformat.v4.new_code_cell("stepper()", execution_count=2)
    widget.outputs = [nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0},
        "text/html": "<ol class='steps'><li>Step 1/8: Pod → ESO</li></ol>", "text/plain": "Step 1/8: Pod → ESO"})]
    nb.cells.append(widget)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2,
                                                                              "version_minor": 0}}
    path = tmp_path / "flow.ipynb"
    nbformat.write(nb, path)
    return path


@needs_mermaid
def test_export_needs_nothing_from_the_network(notebook, tmp_path):
    out = export_html(notebook, tmp_path / "html")
    page = out.read_text()
    assert [p.name for p in (tmp_path / "html").iterdir()] == [out.name]      # one self-contained file
    scripts = re.findall(r"<script[^>]*\bsrc=[\"']([^\"']+)", page)
    assert scripts == [], scripts                                              # nothing loaded, inlined only
    assert 'type="module"' not in page                                         # ES modules do not load from file://
    assert "globalThis[\"mermaid\"]" in page and "mermaid.render(" in page
    assert page.count('<pre class="mermaid">') == 2
    for cdn in ("require.js", "MathJax.js", "mathjax@", "html-manager", "embed-amd", "cdnjs", "jsdelivr", "unpkg"):
        assert cdn not in page.replace("mermaid.min.js", ""), cdn


@needs_mermaid
def test_mermaid_text_is_escaped_so_line_breaks_survive(notebook, tmp_path):
    page = export_html(notebook, tmp_path / "html").read_text()
    flow = page.split('<pre class="mermaid">')[2]
    assert "&lt;br/&gt;" in flow.split("</pre>")[0]       # the output's labels, escaped
    assert "<br/>" not in flow.split("</pre>")[0]


@needs_mermaid
def test_widgets_show_their_html_fallback(notebook, tmp_path):
    page = export_html(notebook, tmp_path / "html").read_text()
    assert '<ol class="steps"><li>Step 1/8: Pod → ESO</li></ol>' in page
    assert "application/vnd.jupyter.widget-state+json" not in page
    assert "application/vnd.jupyter.widget-view+json" not in page


def test_a_notebook_without_diagrams_gets_no_mermaid(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("no diagrams here"))
    nbformat.write(nb, tmp_path / "plain.ipynb")
    page = export_html(tmp_path / "plain.ipynb", tmp_path / "html").read_text()
    assert "globalThis[\"mermaid\"]" not in page and "<script src" not in page


def test_missing_notebook_is_named(tmp_path):
    with pytest.raises(ExportFailed, match="no notebook at"):
        export_html(tmp_path / "nope.ipynb", tmp_path)
