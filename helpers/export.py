"""Export notebooks to HTML that works opened from disk (file://) with no network at all.

nbconvert's lab template loads require.js, MathJax, the widget manager and mermaid (an ES module)
from CDNs when the page opens, and ES modules do not load from file:// anyway. The `offline`
template (helpers/templates/offline) drops the CDN scripts and inlines mermaid's classic build
(`mermaid.min.js`), so every diagram is drawn by the page itself whether or not mmdc rendered
images at run time. Widgets show the HTML they carry for frontends that cannot run them.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from .config import PROJECT_ROOT
from .errors import LabError

TOOLS_DIR = PROJECT_ROOT / "tools" / "mermaid"
TEMPLATES = Path(__file__).parent / "templates"
SCRIPT = "mermaid.min.js"
# `make mermaid-js` unpacks the mermaid package alone here when tools/mermaid's full install is absent.
CACHE = PROJECT_ROOT / ".cache" / "mermaid-js"


class ExportFailed(LabError):
    hint = "fetch mermaid's browser build with `make mermaid-js` (or install tools/mermaid with `make node-deps`)"


def mermaid_version() -> str:
    """The mermaid version tools/mermaid/package.json pins (the one mmdc and the export use)."""
    return json.loads((TOOLS_DIR / "package.json").read_text())["dependencies"]["mermaid"]


def mermaid_script() -> Path:
    """mermaid's classic (non-module) browser build: from tools/mermaid's install, else from the cache."""
    candidates = [TOOLS_DIR / "node_modules" / "mermaid" / "dist" / SCRIPT,
                  CACHE / f"mermaid-{mermaid_version()}" / "package" / "dist" / SCRIPT]
    for path in candidates:
        if path.is_file():
            return path
    raise ExportFailed(f"mermaid's browser build ({SCRIPT}) is missing: looked in " + ", ".join(map(str, candidates)))


def mermaid_available() -> bool:
    try:
        mermaid_script()
        return True
    except ExportFailed:
        return False


def _inline_safe(script: str) -> str:
    # A "</script" inside the code would end the inline <script> element early.
    return script.replace("</script", "<\\/script")


def export_html(notebook_path: str | Path, out_dir: str | Path) -> Path:
    """Write out_dir/<notebook>.html: self-contained, drawing its diagrams with the inlined mermaid."""
    import nbformat
    from nbconvert import HTMLExporter

    notebook_path, out_dir = Path(notebook_path), Path(out_dir)
    if not notebook_path.is_file():
        raise ExportFailed(f"no notebook at {notebook_path}", hint="give the path of an .ipynb file")
    notebook = nbformat.read(notebook_path, as_version=4)
    # The saved widget state is for JupyterLab; the page shows each widget's HTML fallback instead.
    notebook.metadata.pop("widgets", None)
    exporter = HTMLExporter(template_name="offline", extra_template_basedirs=[str(TEMPLATES)])
    resources = {"metadata": {"name": notebook_path.stem}, "offline_mermaid": ""}
    if _has_mermaid(notebook):
        resources["offline_mermaid"] = _inline_safe(mermaid_script().read_text(encoding="utf-8"))
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{notebook_path.stem}.html"
    out.write_text(body, encoding="utf-8")
    return out


INDEX = "index.html"


@dataclass(frozen=True)
class IndexEntry:
    notebook: Path           # the executed notebook (or, when skipped, the chapter's source)
    skipped: str = ""        # why it did not run: it gets no page, the index says what to do


def title_of(notebook) -> str:
    """The chapter's title: its first markdown heading, else the file name."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return ""


def export_index(entries, out_dir: str | Path) -> Path:
    """Write out_dir/index.html: one row per chapter (title, what it teaches, the stack its outputs
    came from, a relative link to its page), skipped chapters marked with how to run them. Plain
    HTML with no script, so it opens from file:// offline."""
    import html

    import nbformat

    from .tutorial import chapter_info, real_stack_steps

    out_dir = Path(out_dir)
    rows = []
    for entry in entries:
        source, skipped = Path(entry.notebook), entry.skipped
        notebook = nbformat.read(source, as_version=4) if source.is_file() else None
        info = chapter_info(source)
        title = html.escape((notebook and title_of(notebook)) or source.stem)
        stack = (notebook.metadata.get("workshop") or {}).get("stack", "") if notebook else ""
        if skipped:
            link = f"<span class='skipped'>{title}</span>"
            state = f"<b>skipped</b>: needs the real stack ({html.escape(real_stack_steps())})"
        else:
            link = f"<a href='{html.escape(source.stem)}.html'>{title}</a>"
            state = f"outputs from the {html.escape(stack)}" if stack else "outputs from a headless run"
        rows.append(f"<tr><td>{link}</td><td>{html.escape(info.teaches)}</td><td>{state}</td></tr>")
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<title>Akeyless and ESO on Kubernetes: the chapters</title>"
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.5em;"
        "text-align:left;vertical-align:top}.skipped{color:#777}</style></head><body>"
        "<h1>Akeyless and ESO on Kubernetes: the chapters</h1>"
        "<p>Each page is a chapter as it ran headless, opened from disk; it needs no network.</p>"
        "<table><thead><tr><th>chapter</th><th>what it teaches</th><th>run</th></tr></thead><tbody>"
        + "".join(rows) + "</tbody></table></body></html>\n")
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / INDEX
    out.write_text(page, encoding="utf-8")
    return out


def _has_mermaid(notebook) -> bool:
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and "```mermaid" in cell.source:
            return True
        for output in cell.get("outputs", []):
            if "text/vnd.mermaid" in output.get("data", {}):
                return True
    return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.export",
                                     description="Export notebooks to HTML that opens from disk, offline (diagrams included).")
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "build" / "html")
    args = parser.parse_args(argv)
    try:
        for notebook in args.notebooks:
            print(f"wrote {export_html(notebook, args.out)}")
        print(f"wrote {export_index([IndexEntry(n) for n in args.notebooks], args.out)}")
    except ExportFailed as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
