"""The headless tutorial run: every notebook executed with papermill against the chosen target.

A chapter that needs the real ESO controller stops on helpers.errors.NeedsRealStack in its first code
cell when the target has none: the run reports it SKIP (one line, with how to run it) and still passes.
"""
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
SKIPPED_ON = "NeedsRealStack"          # the error class a chapter raises where no real ESO watches
REAL_STACK_STEPS = ("make real, then `python -m helpers lab down` and `make run` "
                    "(the run takes the real stack once it is built)")
BUILT_STEPS = "it is built: `python -m helpers lab down`, then `make run` (or `lab up --kube apiserver`)"
STACKS = {"emulator": "emulator", "apiserver": "real stack", "kubeconfig": "your cluster (kubeconfig)"}


@dataclass(frozen=True)
class ChapterInfo:
    """What the README, the index page and the test wiring say about one notebook."""

    stem: str
    teaches: str
    needs_real_stack: bool = False      # committed outputs from the real stack; its tests run in CI's second pass


CHAPTERS = (
    ChapterInfo("02_kubernetes_auth", "how ESO on AKS authenticates to Akeyless with Kubernetes auth: the "
                                      "ServiceAccount token, TokenReview, the auth method, the role and the first sync"),
    ChapterInfo("03_syncing_with_eso", "what the real ESO controller does over time: refresh and rotation, versions, "
                                       "find, templates, policies, shared stores, PushSecret, with exercises",
                needs_real_stack=True),
)


def chapter_info(path: str | Path) -> ChapterInfo:
    stem = Path(path).stem
    return next((c for c in CHAPTERS if c.stem == stem), ChapterInfo(stem, ""))


def real_stack_only(path: str | Path) -> bool:
    """Does this notebook need the real ESO controller (so it is skipped on the emulator)?"""
    return chapter_info(path).needs_real_stack


def real_stack_steps() -> str:
    """How to run a chapter that needs the real stack, from where this machine is."""
    from .lab import apiserver
    return BUILT_STEPS if apiserver.real_stack_available() else REAL_STACK_STEPS


@dataclass
class NotebookRun:
    name: str
    output: Path
    seconds: float
    error: str = ""
    skipped: str = ""        # why the chapter did not run here (it needs the real stack)

    @property
    def ok(self) -> bool:
        return not self.error

    def line(self) -> str:
        if self.skipped:
            return f"SKIP  {Path(self.name).stem:<40} ... needs the real stack: {real_stack_steps()}"
        line = f"{'PASS' if self.ok else 'FAIL'}  {self.name:<40} {self.seconds:6.1f} s  -> {_short(self.output)}"
        return line + (f"\n      {self.error}" if self.error else "")


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
        out = [r.line() for r in self.runs]
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
        skipped = [Path(r.name).stem for r in self.runs if r.skipped]
        if skipped:
            from .lab import apiserver
            build = "" if apiserver.real_stack_available() else \
                "  make real     builds the real stack once (Go, ~5 min cold); then "
            steps.append((build or "  ") + f"`python -m helpers lab down` and `make run` runs {', '.join(skipped)} "
                         "too, on the real stack")
        return steps


def notebooks(names: list[str] | None = None) -> list[Path]:
    found = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
    if names is not None:
        found = [p for p in found if p.name in names or p.stem in names]
    return found


def real_stack_test_paths() -> list[str]:
    """What the real-stack pass of `make test` adds for the chapters that need it: each one's notebook
    (nbval) and its tests/notebooks/test_chapterN_*.py, relative to the project root."""
    paths = []
    for chapter in CHAPTERS:
        notebook = NOTEBOOKS_DIR / f"{chapter.stem}.ipynb"
        if chapter.needs_real_stack and notebook.is_file():
            number = int(chapter.stem.split("_", 1)[0])
            tests = sorted((PROJECT_ROOT / "tests" / "notebooks").glob(f"test_chapter{number}_*.py"))
            paths += [_short(p) for p in [notebook, *tests]]
    return paths


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
    error = skipped = ""
    try:
        papermill.execute_notebook(str(path), str(output), parameters=parameters or {}, kernel_name="python3",
                                   cwd=str(path.parent), progress_bar=False, execution_timeout=timeout,
                                   config=config)
    except PapermillExecutionError as exc:
        if exc.ename == SKIPPED_ON:
            skipped = _plain(exc.evalue).splitlines()[0]
        else:
            error = f"cell {exc.exec_count}: {exc.ename}: {exc.evalue}"
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    seconds = time.monotonic() - start
    if not error and not skipped:
        images_for_untrusted_viewers(output)
        record_stack(output, stack_of(parameters or {}))
    return NotebookRun(path.name, output, seconds, error, skipped)


def _plain(text: str) -> str:
    import re
    return re.sub(r"\x1b\[[0-9;]*m", "", text or "")


def stack_of(parameters: dict) -> str:
    """Which stack a run with these parameters executes on, in the words of the index page."""
    if parameters.get("target", "lab") != "lab":
        return STACKS["kubeconfig"]
    kube = parameters.get("kube")
    if kube in (None, "", "auto"):
        from .errors import LabError
        from .lab.runtime import info
        try:
            kube = info().kube_mode
        except LabError:        # no lab running yet: the notebook starts the default one
            kube = "emulator"
    return STACKS.get(kube, str(kube))


def record_stack(path: Path, stack: str) -> None:
    """Note in the executed notebook which stack produced its outputs (the index page shows it; papermill's
    own metadata has the duration)."""
    import nbformat
    notebook = nbformat.read(path, as_version=4)
    notebook.metadata["workshop"] = {"stack": stack}
    nbformat.write(notebook, path)


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
        if not in_place:
            report.runs.append(run_notebook(path, output_dir / path.name, parameters))
            continue
        # papermill writes its output even when a cell fails: run beside, replace the committed
        # notebook only with a complete run (a skipped or failed one leaves it as it was)
        run = run_notebook(path, output_dir / "in-place" / path.name, parameters)
        if run.ok and not run.skipped:
            shutil.copyfile(run.output, path)
            run.output = path
        report.runs.append(run)
    if html and report.ok:
        from .export import IndexEntry, export_html, export_index
        html_dir = output_dir.parent / "html"
        for run in report.runs:
            if not run.skipped:
                report.html.append(export_html(run.output, html_dir))
        report.html.insert(0, export_index([IndexEntry(NOTEBOOKS_DIR / run.name if run.skipped else run.output,
                                                       run.skipped) for run in report.runs], html_dir))
    return report

