"""The headless tutorial run: every notebook executed with papermill against the chosen target."""
from __future__ import annotations

import base64
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from .config import PROJECT_ROOT

NOTEBOOKS_DIR = PROJECT_ROOT / "notebooks"
# Per cell, and below the tests' 300 s pytest-timeout, so a stuck cell is reported by its number.
# The slowest honest cell starts the real kube-apiserver (up to 120 s on a loaded machine).
CELL_TIMEOUT = 180


@dataclass
class NotebookRun:
    name: str
    output: Path
    seconds: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass
class RunReport:
    runs: list[NotebookRun] = field(default_factory=list)
    html: list[Path] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.runs) and all(run.ok for run in self.runs)

    def lines(self) -> list[str]:
        if not self.runs:
            return [f"FAIL  no notebooks found in {NOTEBOOKS_DIR}"]
        out = [f"{'PASS' if r.ok else 'FAIL'}  {r.name:<40} {r.seconds:6.1f} s  -> {_short(r.output)}"
               + (f"\n      {r.error}" if r.error else "") for r in self.runs]
        out += [f"HTML  {_short(path)}" for path in self.html]
        return out + self.next_steps()

    def next_steps(self) -> list[str]:
        """What to do after the run, so the output does not end on a file list."""
        if not self.ok:
            return ["", "Next: read the failing cell above in its output notebook; `python -m helpers doctor` "
                        "checks the lab link by link."]
        first = self.runs[0].name
        steps = ["", "Next:",
                 f"  make lab      JupyterLab on 127.0.0.1; open the URL it prints ({first} opens)"]
        if self.html:
            steps.append(f"  or open {_short(self.html[0])} in a browser: it works from disk, offline")
        return steps


def notebooks(names: list[str] | None = None) -> list[Path]:
    found = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    if names:
        found = [p for p in found if p.name in names or p.stem in names]
    return found


def _short(path: Path) -> str:
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def run_notebook(path: Path, output: Path, parameters: dict | None = None, timeout: int = CELL_TIMEOUT) -> NotebookRun:
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    output.parent.mkdir(parents=True, exist_ok=True)
    # The kernel talks over Unix sockets in a private directory rather than unencrypted loopback TCP
    # (which any local user can connect to, and which makes ipykernel print a warning).
    sockets = tempfile.mkdtemp(prefix="workshop-kernel-")
    config = Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(sockets, "kernel")}})
    start = time.monotonic()
    try:
        papermill.execute_notebook(str(path), str(output), parameters=parameters or {}, kernel_name="python3",
                                   cwd=str(path.parent), progress_bar=False, execution_timeout=timeout,
                                   config=config)
        error = ""
    except PapermillExecutionError as exc:
        error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    if not error:
        images_for_untrusted_viewers(output)
    return NotebookRun(path.name, output, time.monotonic() - start, error)


def images_for_untrusted_viewers(path: Path) -> int:
    """Turn every Mermaid output of an executed notebook into a PNG (one mmdc run for all); returns
    how many. A notebook opened before it is run is untrusted: JupyterLab then shows no SVG, and
    its Mermaid renderer writes the SVG it draws back into the output, so the freshly opened tab
    is marked unsaved. PNG is shown untrusted and never rewritten. Without mmdc + chromium the
    Mermaid text stays (JupyterLab still draws it)."""
    import nbformat

    from .mmdc import PNG_SCALE, MermaidCLI, RendererMissing

    notebook = nbformat.read(path, as_version=4)
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
               if "text/vnd.mermaid" in output.get("data", {})]
    if not outputs:
        return 0
    try:
        renderer = MermaidCLI.find()
    except RendererMissing:
        return 0
    pictures = renderer.render_many([output.data["text/vnd.mermaid"] for output in outputs], "png")
    for output, png in zip(outputs, pictures):
        # Shown at its CSS size, not PNG_SCALE times as wide (the PNG header holds the pixel width).
        width = int.from_bytes(png[16:20], "big") // PNG_SCALE
        output.data = {"image/png": base64.b64encode(png).decode(), "text/plain": output.data.get("text/plain", "")}
        output.metadata = {"image/png": {"width": width}}
    nbformat.write(notebook, path)
    return len(outputs)


def run_all(output_dir: str | Path = "build/executed", parameters: dict | None = None,
            names: list[str] | None = None, html: bool = True, in_place: bool = False) -> RunReport:
    """Execute the notebooks in order. `in_place` writes the outputs back into notebooks/ (how the
    committed outputs are produced)."""
    output_dir = Path(output_dir)
    if not output_dir.is_absolute():
        output_dir = PROJECT_ROOT / output_dir
    report = RunReport()
    for path in notebooks(names):
        target = path if in_place else output_dir / path.name
        report.runs.append(run_notebook(path, target, parameters))
    if html and report.ok:
        from .export import export_html
        for run in report.runs:
            report.html.append(export_html(run.output, output_dir.parent / "html"))
    return report

