"""The headless run (`make run`, `make notebooks`): its kernel, its diagrams as PNGs for untrusted
viewers, and what it says at the end."""
from __future__ import annotations

import base64
from pathlib import Path

import nbformat

from helpers import diagrams
from helpers.tutorial import NotebookRun, RunReport, images_for_untrusted_viewers, run_notebook


def test_kernel_runs_over_private_sockets_without_the_tcp_warning(tmp_path, capfd):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells.append(nbformat.v4.new_code_cell("import os\nprint(sorted(k for k in os.environ if k == 'JPY_SESSION_NAME'))"))
    nbformat.write(nb, tmp_path / "tiny.ipynb")
    run = run_notebook(tmp_path / "tiny.ipynb", tmp_path / "out" / "tiny.ipynb")
    assert run.ok, run.error
    printed = capfd.readouterr()
    assert "without encryption" not in printed.out + printed.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "tiny.ipynb"]     # no socket files left behind


def test_mermaid_outputs_become_pngs_at_their_css_size(tmp_path, mmdc, monkeypatch):
    from helpers import mmdc as mmdc_module
    monkeypatch.setattr(mmdc_module.MermaidCLI, "find", classmethod(lambda cls, cache_dir=None: mmdc))
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("diagrams.show(diagrams.FLOW, 'role-check')", execution_count=1)
    lit = diagrams.show(diagrams.FLOW, "role-check")
    cell.outputs = [nbformat.v4.new_output("display_data", data=lit.bundle(svg=False)),
                    nbformat.v4.new_output("stream", name="stdout", text="kept as it is\n")]
    nb.cells.append(cell)
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    assert images_for_untrusted_viewers(path) == 1
    picture, stream = nbformat.read(path, as_version=4).cells[0].outputs
    assert set(picture.data) == {"image/png", "text/plain"}           # no Mermaid text for JupyterLab to rewrite
    assert picture.data["text/plain"] == lit.describe()
    png = base64.b64decode(picture.data["image/png"])
    assert png.startswith(b"\x89PNG") and picture.metadata["image/png"]["width"] == int.from_bytes(png[16:20], "big") // 2
    assert stream.text == "kept as it is\n"
    assert images_for_untrusted_viewers(path) == 0                     # nothing left to convert


def test_the_run_ends_with_what_to_do_next(tmp_path):
    report = RunReport([NotebookRun("02_kubernetes_auth.ipynb", tmp_path / "02.ipynb", 12.0)],
                       [Path("build/html/02_kubernetes_auth.html")])
    lines = report.lines()
    assert lines[-3:] == ["Next:",
                          "  make lab      JupyterLab on 127.0.0.1; open the URL it prints (02_kubernetes_auth.ipynb opens)",
                          "  or open build/html/02_kubernetes_auth.html in a browser: it works from disk, offline"]
    failed = RunReport([NotebookRun("02_kubernetes_auth.ipynb", tmp_path / "02.ipynb", 3.0, "cell 4: LabError: x")])
    assert "helpers doctor" in failed.lines()[-1]
