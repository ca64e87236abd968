"""The export's index page: one row per chapter with its title, what it teaches and the stack its outputs
came from, relative links that work from file://, skipped chapters marked with how to run them."""
from __future__ import annotations

import re

import nbformat

from helpers.export import INDEX, IndexEntry, export_index
from helpers.tutorial import CHAPTERS


def _executed(path, title: str, stack: str | None) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(f"# {title}\n\nWhat you'll do."))
    if stack:
        nb.metadata["workshop"] = {"stack": stack}
    nbformat.write(nb, path)


def test_index_links_every_chapter_and_marks_the_skipped_one(tmp_path, monkeypatch):
    from helpers.lab import apiserver
    monkeypatch.setattr(apiserver, "real_stack_available", lambda: False)
    _executed(tmp_path / "02_kubernetes_auth.ipynb", "Chapter 2 <auth> & co", "emulator")
    _executed(tmp_path / "03_syncing_with_eso.ipynb", "Chapter 3 title", None)
    out = export_index([IndexEntry(tmp_path / "02_kubernetes_auth.ipynb"),
                        IndexEntry(tmp_path / "03_syncing_with_eso.ipynb", "chapter 3 needs a real ESO controller")],
                       tmp_path / "html")
    assert out == tmp_path / "html" / INDEX
    page = out.read_text()
    assert re.findall(r"href='([^']+)'", page) == ["02_kubernetes_auth.html"]     # relative: works from disk
    assert "Chapter 2 &lt;auth&gt; &amp; co" in page and "outputs from the emulator" in page
    assert "<b>skipped</b>: needs the real stack (make real" in page
    assert "Chapter 3 title" in page
    for chapter in CHAPTERS:
        assert chapter.teaches and chapter.teaches.split(":")[0] in page
    assert "<script" not in page and "http" not in page                          # nothing to fetch, offline


def test_a_chapter_run_on_the_real_stack_says_so(tmp_path):
    _executed(tmp_path / "03_syncing_with_eso.ipynb", "Chapter 3", "real stack")
    page = export_index([IndexEntry(tmp_path / "03_syncing_with_eso.ipynb")], tmp_path).read_text()
    assert "href='03_syncing_with_eso.html'" in page and "outputs from the real stack" in page


def test_a_skipped_chapter_whose_notebook_is_absent_is_named_by_its_file(tmp_path):
    page = export_index([IndexEntry(tmp_path / "03_syncing_with_eso.ipynb", "skipped")], tmp_path).read_text()
    assert "<span class='skipped'>03_syncing_with_eso</span>" in page
