"""Chapter 3 survives a learner on the real stack: after Run All (which ends with cleanup) every cell re-run
alone (bottom-up) works or says in one line which cell to run first, never a traceback."""
from __future__ import annotations

import pytest

from helpers import lab as lab_runtime
from helpers.config import Settings
from helpers.tutorial import NOTEBOOKS_DIR
from tests.contract.eso_stack import needs_real_stack

from explore import explore

NOTEBOOK = NOTEBOOKS_DIR / "03_syncing_with_eso.ipynb"


@needs_real_stack
def test_every_cell_reruns_alone_after_run_all(tmp_path, monkeypatch):
    lab_dir = tmp_path / "lab"
    monkeypatch.setenv("WORKSHOP_LAB_DIR", str(lab_dir))       # the kernel inherits it: a real stack of its own
    try:
        found = explore(NOTEBOOK)
    finally:
        lab_runtime.down(Settings.load(lab_dir=str(lab_dir)))
    assert [r.kind for r in found.first] == ["ok"] * len(found.first), "Run All must pass first"
    counts = found.counts(found.again)
    print(f"chapter 3 re-run bottom-up after Run All: {counts}")
    assert counts["traceback"] == 0, [(r.index, r.source, r.error) for r in found.again if r.kind == "traceback"]
    unexplained = [(r.source, r.text()[:300]) for r in found.again if r.kind == "note"
                   and not ("run the cell" in r.text() and len(r.error["traceback"]) <= 1)]
    assert unexplained == []
