"""The pytest wiring of a chapter that needs the real stack: in the emulator pass its nbval cells and its
tests/notebooks/test_chapterN_*.py are skipped with the reason (not failed, not silently uncollected);
in the real-stack pass (WORKSHOP_LAB_KUBE=apiserver) they run. Stand-ins in a temporary directory play
chapter 3's notebook and tests; the project's root conftest is loaded as a plugin."""
from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import pytest

from helpers.config import PROJECT_ROOT
from helpers.lab import apiserver


@pytest.fixture
def stand_ins(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    cell = nbformat.v4.new_code_cell("print('chapter 3 stand-in ran')", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="chapter 3 stand-in ran\n")]
    nb.cells.append(cell)
    nbformat.write(nb, tmp_path / "03_syncing_with_eso.ipynb")
    nbformat.write(nb, tmp_path / "02_kubernetes_auth.ipynb")
    (tmp_path / "test_chapter3_standin.py").write_text("def test_it_ran():\n    assert True\n")
    (tmp_path / "test_chapter2_standin.py").write_text("def test_it_ran():\n    assert True\n")
    return tmp_path


def _pytest(paths, **env) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "WORKSHOP_LAB_KUBE"} | env
    run = subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "-rs", "-q", "-p", "no:cacheprovider",
                          "--nbval-lax", "--nbval-current-env", "--rootdir", str(paths[0].parent), *map(str, paths)],
                         cwd=PROJECT_ROOT, env=environ, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return run.stdout


def test_the_emulator_pass_skips_chapter_three_with_its_reason(stand_ins):
    out = _pytest([stand_ins / "02_kubernetes_auth.ipynb", stand_ins / "03_syncing_with_eso.ipynb",
                   stand_ins / "test_chapter2_standin.py", stand_ins / "test_chapter3_standin.py"])
    assert "2 passed, 2 skipped" in out, out
    skips = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert len(skips) == 2 and all("runs in the real-stack pass" in line for line in skips), skips
    assert any("03_syncing_with_eso.ipynb" in line for line in skips)
    assert any("test_chapter3_standin.py" in line for line in skips)


@pytest.mark.skipif(not apiserver.real_stack_available(), reason="the real stack is not built: make real")
def test_the_real_stack_pass_runs_them(stand_ins):
    out = _pytest([stand_ins / "03_syncing_with_eso.ipynb", stand_ins / "test_chapter3_standin.py"],
                  WORKSHOP_LAB_KUBE="apiserver")
    assert "2 passed" in out and "skipped" not in out, out
