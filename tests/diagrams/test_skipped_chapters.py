"""`helpers run` with a chapter that needs the real stack, on a target without it: the chapter stops on
helpers.errors.NeedsRealStack, the run reports it SKIP in one line and says how to run it, exits 0, keeps
the committed notebook as it was, and the index page marks it; any other error is still a FAIL.
Stand-in notebooks in a temporary notebooks/ directory play the chapters."""
from __future__ import annotations

import json

import nbformat
import pytest

import helpers.tutorial as tutorial
from helpers import cli

SETUP = "from helpers.display import install_error_handler\ninstall_error_handler(restarts=False)"


def _notebook(path, *cells: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {path.stem} stand-in")] + [nbformat.v4.new_code_cell(c) for c in cells]
    nbformat.write(nb, path)


@pytest.fixture
def chapters(tmp_path, monkeypatch):
    book = tmp_path / "notebooks"
    book.mkdir()
    _notebook(book / "02_kubernetes_auth.ipynb", "print('chapter two ran')")
    _notebook(book / "03_syncing_with_eso.ipynb", SETUP,
              "from helpers.errors import NeedsRealStack\nraise NeedsRealStack('chapter 3 (syncing with ESO)')",
              "print('never reached')")
    monkeypatch.setattr(tutorial, "NOTEBOOKS_DIR", book)
    return book


def test_a_chapter_that_needs_the_real_stack_is_skipped_and_the_run_passes(chapters, tmp_path, monkeypatch, capsys):
    from helpers.lab import apiserver
    monkeypatch.setattr(apiserver, "real_stack_available", lambda: False)
    monkeypatch.setattr(cli, "_stack", lambda kube: "emulator")
    args = cli.build_parser().parse_args(["run", "--no-html", "--output", str(tmp_path / "build" / "executed")])
    assert cli._run(args) == 0
    out = capsys.readouterr().out
    [skip] = [line for line in out.splitlines() if line.startswith("SKIP")]
    assert skip.startswith("SKIP  03_syncing_with_eso") and "needs the real stack: make real, then" in skip
    assert "PASS  02_kubernetes_auth.ipynb" in out
    assert "make real" in out.split("Next:")[1] and "03_syncing_with_eso too" in out


def test_the_skip_says_lab_down_and_make_run_when_the_real_stack_is_built(tmp_path, monkeypatch):
    from helpers.lab import apiserver
    run = tutorial.NotebookRun("03_syncing_with_eso.ipynb", tmp_path / "x.ipynb", 4.0, skipped="needs ESO")
    monkeypatch.setattr(apiserver, "real_stack_available", lambda: True)
    report = tutorial.RunReport([run])
    assert report.lines()[0] == ("SKIP  03_syncing_with_eso                      ... needs the real stack: it is built: "
                                 "`python -m helpers lab down`, then `make run` (or `lab up --kube apiserver`)")
    assert "make real" not in "\n".join(report.next_steps())
    monkeypatch.setattr(apiserver, "real_stack_available", lambda: False)
    assert "make real, then" in report.lines()[0]


def test_a_skipped_in_place_run_leaves_the_committed_notebook_alone(chapters, tmp_path):
    before = (chapters / "03_syncing_with_eso.ipynb").read_text()
    report = tutorial.run_all(tmp_path / "build" / "executed", names=["03_syncing_with_eso"], html=False, in_place=True)
    assert report.ok and report.runs[0].skipped.startswith("chapter 3 (syncing with ESO) needs a real ESO controller")
    assert (chapters / "03_syncing_with_eso.ipynb").read_text() == before


def test_any_other_error_is_still_a_failure(chapters, tmp_path):
    _notebook(chapters / "03_syncing_with_eso.ipynb", SETUP,
              "from helpers.errors import LabNotRunning\nraise LabNotRunning('the lab is down')")
    before = (chapters / "03_syncing_with_eso.ipynb").read_text()
    report = tutorial.run_all(tmp_path / "build" / "executed", names=["03_syncing_with_eso"], html=False, in_place=True)
    assert not report.ok and not report.runs[0].skipped
    assert report.lines()[0].startswith("FAIL  03_syncing_with_eso.ipynb") and "LabNotRunning" in report.lines()[0]
    assert (chapters / "03_syncing_with_eso.ipynb").read_text() == before     # a failed run replaces nothing


def test_a_complete_in_place_run_records_its_stack(chapters, tmp_path):
    report = tutorial.run_all(tmp_path / "build" / "executed", parameters={"kube": "emulator"},
                              names=["02_kubernetes_auth"], html=False, in_place=True)
    assert report.ok and report.runs[0].output == chapters / "02_kubernetes_auth.ipynb"
    committed = json.loads((chapters / "02_kubernetes_auth.ipynb").read_text())
    assert committed["metadata"]["workshop"]["stack"] == "emulator"
    assert "chapter two ran" in json.dumps(committed["cells"])


@pytest.mark.parametrize("stack, expected", [("emulator", ["PASS  02_kubernetes_auth"]),
                                             ("real", ["SKIP  03_syncing_with_eso"])])
def test_make_notebooks_runs_each_chapter_on_the_stack_of_its_committed_outputs(chapters, tmp_path, monkeypatch,
                                                                               capsys, stack, expected):
    monkeypatch.setattr(cli, "_stack", lambda kube: "emulator")
    args = cli.build_parser().parse_args(["run", "--no-html", "--chapters", stack, "-p", "kube=emulator",
                                          "--output", str(tmp_path / "build" / "executed")])
    assert cli._run(args) == 0
    ran = [line[:30].rstrip() for line in capsys.readouterr().out.splitlines() if line[:4] in ("PASS", "SKIP", "FAIL")]
    assert [r.replace(".ipynb", "") for r in ran] == expected
