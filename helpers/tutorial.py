"""The headless tutorial run: every notebook executed with papermill against the chosen target."""
from __future__ import annotations

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
        out = [f"{'PASS' if r.ok else 'FAIL'}  {r.name:<40} {r.seconds:6.1f} s  -> {r.output}"
               + (f"\n      {r.error}" if r.error else "") for r in self.runs]
        out += [f"HTML  {path}" for path in self.html]
        return out


def notebooks(names: list[str] | None = None) -> list[Path]:
    found = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    if names:
        found = [p for p in found if p.name in names or p.stem in names]
    return found


def run_notebook(path: Path, output: Path, parameters: dict | None = None, timeout: int = CELL_TIMEOUT) -> NotebookRun:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    output.parent.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    try:
        papermill.execute_notebook(str(path), str(output), parameters=parameters or {}, kernel_name="python3",
                                   cwd=str(path.parent), progress_bar=False, execution_timeout=timeout)
        error = ""
    except PapermillExecutionError as exc:
        error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    return NotebookRun(path.name, output, time.monotonic() - start, error)


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

