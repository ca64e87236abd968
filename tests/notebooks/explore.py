"""A learner exploring the chapter: Run All, then cells re-run alone (bottom-up), or a kernel restart and
one cell. Used by test_exploration.py; run it as a script to print the numbers:

    .venv/bin/python tests/notebooks/explore.py notebooks/02_kubernetes_auth.ipynb
"""
from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.util import run_sync

CELL_TIMEOUT = 180


@dataclass
class CellRun:
    index: int
    source: str
    outputs: list
    reply: dict = field(default_factory=dict)       # the kernel's execute_reply content

    @property
    def error(self) -> dict | None:
        """The cell's error: its error output, or (the expected-error display sends none) the reply's."""
        shown = next((o for o in self.outputs if o.get("output_type") == "error"), None)
        if shown is None and self.reply.get("status") == "error":
            return {k: self.reply.get(k) for k in ("ename", "evalue", "traceback")}
        return shown

    @property
    def kind(self) -> str:
        """ok (no error), note (stopped with the one-line expected-error display), traceback (a bug's)."""
        if self.error is None:
            return "ok"
        if any(o.get("output_type") == "error" and len(o.get("traceback") or []) > 1 for o in self.outputs):
            return "traceback"
        return "note"

    def text(self) -> str:
        parts = []
        for o in self.outputs:
            data = o.get("data", {})
            parts.append(str(data.get("text/plain", "")) + str(data.get("text/html", "")) + str(o.get("text", "")))
            if o.get("output_type") == "error":
                parts.append(f"{o.get('ename')}: {o.get('evalue')}\n" + "\n".join(o.get("traceback") or []))
        return "\n".join(parts)


@dataclass
class Exploration:
    first: list[CellRun] = field(default_factory=list)       # Run All, top to bottom
    again: list[CellRun] = field(default_factory=list)       # then each code cell alone, bottom-up
    second: list[CellRun] = field(default_factory=list)      # then Run All once more, in the same kernel

    def counts(self, runs: list[CellRun]) -> dict[str, int]:
        out = {"ok": 0, "note": 0, "traceback": 0}
        for run in runs:
            out[run.kind] += 1
        return out


def _client(nb, path: Path) -> NotebookClient:
    client = NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(path.parent)}})
    client.replies = {}
    client.on_cell_executed = lambda cell, cell_index, execute_reply: client.replies.__setitem__(
        cell_index, execute_reply["content"])
    return client


def _run(client: NotebookClient, nb, index: int) -> CellRun:
    cell = nb.cells[index]
    cell.outputs = []
    client.execute_cell(cell, index)
    return CellRun(index, cell.source, [dict(o) for o in cell.outputs], dict(client.replies.get(index, {})))


def code_cells(nb) -> list[int]:
    return [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]


@contextlib.contextmanager
def kernel(path: Path):
    nb = nbformat.read(path, as_version=4)
    client = _client(nb, path)
    with client.setup_kernel():
        yield nb, client


def run_all(nb, client) -> list[CellRun]:
    """Like JupyterLab's Run All: stops at the first cell that errs."""
    runs = []
    for index in code_cells(nb):
        runs.append(_run(client, nb, index))
        if runs[-1].error:
            break
    return runs


def explore(path: Path) -> Exploration:
    """Run All, then every code cell again, alone, from the last to the first, then Run All again, all in
    the same kernel."""
    with kernel(path) as (nb, client):
        result = Exploration(first=run_all(nb, client))
        for index in reversed(code_cells(nb)):
            result.again.append(_run(client, nb, index))
        result.second = run_all(nb, client)
    return result


def restart(client) -> None:
    run_sync(client.km.restart_kernel)(now=True)
    run_sync(client.kc.wait_for_ready)(timeout=60)


def explore_and_restart(path: Path, picks) -> tuple[Exploration, list[CellRun]]:
    """explore(), then Kernel > Restart and one click on each cell `picks(code cell indices)` names, in
    the same kernel: the whole learner walk on one Run All's worth of setup."""
    with kernel(path) as (nb, client):
        result = Exploration(first=run_all(nb, client))
        for index in reversed(code_cells(nb)):
            result.again.append(_run(client, nb, index))
        result.second = run_all(nb, client)
        restart(client)
        return result, [_run(client, nb, index) for index in picks(code_cells(nb))]


def with_parameters(path: Path, changes: list[dict]) -> list[list[CellRun]]:
    """For each parameter change: Run All from the top with the change injected after the parameters
    cell (as papermill does), stopping at the first error; all in one kernel (each run re-runs the
    parameters cell, so a change never outlives its run). Meant for changes that stop the run early."""
    with kernel(path) as (nb, client):
        tagged = next(i for i in code_cells(nb) if "parameters" in nb.cells[i].metadata.get("tags", []))
        nb.cells.append(nbformat.v4.new_code_cell(""))
        injected = len(nb.cells) - 1
        results = []
        for change in changes:
            nb.cells[injected].source = "\n".join(f"{k} = {v!r}" for k, v in change.items())
            runs = []
            for index in code_cells(nb)[:-1]:
                runs.append(_run(client, nb, index))
                if not runs[-1].error and index == tagged:
                    runs.append(_run(client, nb, injected))
                if runs[-1].error:
                    break
            results.append(runs)
        return results


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "notebooks/02_kubernetes_auth.ipynb").resolve()
    found = explore(target)
    print("Run All:", found.counts(found.first))
    print("re-run bottom-up:", found.counts(found.again))
    print("Run All again:", found.counts(found.second))
    for run in found.again:
        if run.kind != "ok":
            error = run.error or {}
            print(f"  cell {run.index} {run.kind}: {run.source.splitlines()[-1][:60]!r} -> "
                  f"{error.get('ename')}: {str(error.get('evalue')).splitlines()[0][:100]}")
