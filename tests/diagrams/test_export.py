"""Offline HTML export: the page loads mermaid from the vendored copy beside it, never a CDN."""
from __future__ import annotations

import re

import nbformat
import pytest

from helpers import diagrams
from helpers.export import ENTRY, MERMAID_DIST, ExportFailed, export_html


@pytest.fixture
def notebook(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell("# Flow\n\n```mermaid\nflowchart LR\n    A --> B\n```\n"))
    cell = nbformat.v4.new_code_cell("diagrams.show('kubernetes-auth-flow', 'token-review')", execution_count=1)
    cell.outputs = [nbformat.v4.new_output(
        "display_data", data=diagrams.show("kubernetes-auth-flow", "token-review").bundle(svg=False))]
    nb.cells.append(cell)
    path = tmp_path / "flow.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.skipif(not (MERMAID_DIST / ENTRY).exists(), reason="tools/mermaid not installed (npm ci)")
def test_export_references_the_local_mermaid_only(notebook, tmp_path):
    out = export_html(notebook, tmp_path / "html")
    page = out.read_text()
    assert 'import("./vendor/mermaid/mermaid.esm.min.mjs")' in page
    assert not [u for u in re.findall(r"https?://[^\s\"')]+", page) if "mermaid" in u.lower()]
    assert 'const elkUrl = "";' in page
    assert page.count('<pre class="mermaid">') == 2
    vendored = tmp_path / "html" / "vendor" / "mermaid"
    assert (vendored / ENTRY).is_file()
    chunks = list((vendored / "chunks" / "mermaid.esm.min").glob("*.mjs"))
    assert chunks and not list(vendored.rglob("*.map"))
    # Every chunk the entry imports is there.
    for name in re.findall(r'"\./chunks/mermaid\.esm\.min/([^"]+)"', (vendored / ENTRY).read_text()):
        assert (vendored / "chunks" / "mermaid.esm.min" / name).exists(), name


def test_missing_notebook_is_named(tmp_path):
    with pytest.raises(ExportFailed, match="no notebook at"):
        export_html(tmp_path / "nope.ipynb", tmp_path)
