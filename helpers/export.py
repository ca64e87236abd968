"""Export notebooks to HTML that shows its diagrams with no internet.

nbconvert's lab template loads mermaid from a CDN when the page opens, and its `mermaid_js_url`
trait is not configurable from the command line, so this sets it through the Python API and copies
mermaid's ESM build (tools/mermaid/node_modules/mermaid) next to the HTML. The ELK layout URL is
emptied: the template awaits that import before drawing anything, and offline it never resolves.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from .config import PROJECT_ROOT
from .errors import LabError

MERMAID_DIST = PROJECT_ROOT / "tools" / "mermaid" / "node_modules" / "mermaid" / "dist"
VENDOR_DIR = "vendor/mermaid"
ENTRY = "mermaid.esm.min.mjs"
CHUNKS = Path("chunks") / "mermaid.esm.min"


class ExportFailed(LabError):
    hint = "install the vendored mermaid with `cd tools/mermaid && PUPPETEER_SKIP_DOWNLOAD=1 npm ci`"


def vendor_mermaid(out_dir: Path, dist: Path = MERMAID_DIST) -> Path:
    """Copy mermaid's ESM entry and its chunks (no source maps) to out_dir/vendor/mermaid."""
    entry = dist / ENTRY
    if not entry.is_file() or not (dist / CHUNKS).is_dir():
        raise ExportFailed(f"mermaid's ESM build is missing: {entry}")
    target = out_dir / VENDOR_DIR
    (target / CHUNKS).mkdir(parents=True, exist_ok=True)
    shutil.copy2(entry, target / ENTRY)
    for chunk in (dist / CHUNKS).glob("*.mjs"):
        destination = target / CHUNKS / chunk.name
        if not destination.exists() or destination.stat().st_mtime < chunk.stat().st_mtime:
            shutil.copy2(chunk, destination)
    return target / ENTRY


def export_html(notebook_path: str | Path, out_dir: str | Path) -> Path:
    """Write out_dir/<notebook>.html (lab template) with mermaid served from out_dir/vendor/mermaid."""
    import nbformat
    from nbconvert import HTMLExporter

    notebook_path, out_dir = Path(notebook_path), Path(out_dir)
    if not notebook_path.is_file():
        raise ExportFailed(f"no notebook at {notebook_path}", hint="give the path of an .ipynb file")
    out_dir.mkdir(parents=True, exist_ok=True)
    vendor_mermaid(out_dir)
    exporter = HTMLExporter(template_name="lab")
    # Relative, so the folder can be moved or served from anywhere.
    exporter.mermaid_js_url = f"./{VENDOR_DIR}/{ENTRY}"
    exporter.mermaid_layout_elk_js_url = ""
    notebook = nbformat.read(notebook_path, as_version=4)
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": notebook_path.stem}})
    out = out_dir / f"{notebook_path.stem}.html"
    out.write_text(body, encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.export",
                                     description="Export notebooks to offline HTML (diagrams included).")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "build" / "html")
    args = parser.parse_args(argv)
    try:
        for notebook in args.notebooks:
            print(f"wrote {export_html(notebook, args.out)}")
    except ExportFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
