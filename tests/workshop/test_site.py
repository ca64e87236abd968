"""The offline site: every notebook exported, the materials rendered, one index page linking them all."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import export
from helpers.workshop import site


def _plain_export(notebook: Path, out_dir: Path) -> Path:
    """nbconvert's own HTML export (what helpers.export does, minus the vendored mermaid)."""
    from nbconvert import HTMLExporter
    body, _ = HTMLExporter(template_name="lab").from_filename(str(notebook))
    out = out_dir / f"{notebook.stem}.html"
    out.write_text(body, encoding="utf-8")
    return out


def _links(index: Path) -> list[str]:
    return re.findall(r"href='([^']+)'", index.read_text())


def test_index_links_every_page_and_every_link_resolves(tmp_path):
    index = site.build(tmp_path, export=_plain_export)
    links = _links(index)
    assert "02_kubernetes_auth.html" in links and "90_instructor_board.html" in links
    assert "instructor-notes.html" in links and "attendee-setup.html" in links
    assert all((tmp_path / link).is_file() for link in links)
    text = index.read_text()
    assert site.title_of(site.NOTEBOOKS / "02_kubernetes_auth.ipynb") in text
    assert "Instructor notes" in text and "http" not in text.replace("href='", "")


def test_materials_render_their_tables(tmp_path):
    site.build(tmp_path, export=_plain_export)
    notes = (tmp_path / "instructor-notes.html").read_text()
    assert "<table>" in notes and "where attendees get stuck" in notes


@pytest.mark.skipif(not export.mermaid_available(), reason="mermaid's browser build not installed (make node-deps)")
def test_with_the_offline_export(tmp_path):
    index = site.build(tmp_path)
    links = _links(index)
    assert all((tmp_path / link).is_file() for link in links)
    chapter = (tmp_path / "02_kubernetes_auth.html").read_text()
    # self-contained: mermaid inlined, no script or stylesheet fetched from anywhere
    assert "mermaid" in chapter and not re.search(r"<script[^>]+src=['\"]https?:", chapter)
