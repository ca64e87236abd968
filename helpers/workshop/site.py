"""The workshop as one offline HTML site: every chapter exported by helpers.export (diagrams drawn by a
local mermaid), the instructor's board, the instructor's notes and the attendee set-up page, and an index
page linking them. Nothing on the pages reaches the internet.

    python -m helpers.workshop.site [--out build/site]
"""
from __future__ import annotations

import argparse
import html
import json
import sys
from pathlib import Path
from typing import Callable

from ..config import PROJECT_ROOT
from ..errors import LabError

NOTEBOOKS = PROJECT_ROOT / "notebooks"
MATERIALS = PROJECT_ROOT / "docs" / "workshop"


def title_of(notebook: Path) -> str:
    """The notebook's first markdown heading, else its file name."""
    for cell in json.loads(notebook.read_text()).get("cells", []):
        if cell.get("cell_type") == "markdown":
            for line in "".join(cell.get("source", "")).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return notebook.stem


def _markdown_page(source: Path, out_dir: Path) -> Path:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    title = source.read_text().splitlines()[0].lstrip("#").strip() if source.read_text() else source.stem
    body = markdown2html_mistune(source.read_text())
    out = out_dir / f"{source.stem}.html"
    out.write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
                   f"<body style='font-family:sans-serif;max-width:60em;margin:auto'>{body}"
                   f"<p><a href='index.html'>back to the index</a></p></body></html>", encoding="utf-8")
    return out


def build(out_dir: str | Path, notebooks: list[Path] | None = None, materials: list[Path] | None = None,
          export: Callable[[Path, Path], Path] | None = None) -> Path:
    """Export the notebooks (chapters first, then the instructor's), render the materials, write index.html."""
    if export is None:
        from ..export import export_html as export
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if notebooks is None:
        notebooks = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")) + sorted((NOTEBOOKS / "instructor").glob("*.ipynb"))
    if materials is None:
        materials = sorted(MATERIALS.glob("*.md"))
    if not notebooks:
        raise LabError(f"no notebooks to export in {NOTEBOOKS}", hint="give the notebooks' paths")
    chapters = [(title_of(nb), export(nb, out_dir).name) for nb in notebooks]
    pages = [(p.read_text().splitlines()[0].lstrip("#").strip(), _markdown_page(p, out_dir).name) for p in materials]

    def links(items):
        return "".join(f"<li><a href='{html.escape(href)}'>{html.escape(label)}</a></li>" for label, href in items)

    index = out_dir / "index.html"
    index.write_text("<!doctype html><html><head><meta charset='utf-8'><title>ESO and Akeyless: the workshop</title>"
                     "</head><body style='font-family:sans-serif;max-width:60em;margin:auto'>"
                     "<h1>ESO on AKS and Akeyless: the executable workshop</h1>"
                     f"<h2>Notebooks</h2><ul>{links(chapters)}</ul>"
                     f"<h2>Materials</h2><ul>{links(pages)}</ul></body></html>", encoding="utf-8")
    return index


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.workshop.site", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "build" / "site")
    args = parser.parse_args(argv)
    try:
        print(f"wrote {build(args.out)}")
    except LabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
