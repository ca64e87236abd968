"""The notebooks: chapter 2 executed headless by papermill against the lab, twice over (default parameters
and a second parameter set) and against a kubeconfig; every committed notebook checked for what must never
be in it and for the shape of its cells. Chapter 3's runs are its own tests (test_chapter3_*.py, on the real
stack); helpers.tutorial.CHAPTERS is the list every notebook must be in."""
from __future__ import annotations

import ast
import json
import re
import secrets

import pytest

from helpers.config import Settings
from helpers.tutorial import CHAPTERS, notebooks, run_notebook

NOTEBOOKS = notebooks()
CHAPTER_2 = notebooks(["02_kubernetes_auth"])        # the parameter sets and texts below are chapter 2's
WHOLE_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}")
SECOND_SET = dict(namespace="payments", service_account="payments-api", audience="akeyless-payments",
                  auth_method="/workshop/payments-k8s", k8s_conf_name="payments-conf", role="/workshop/payments-reader",
                  secret_path="/payments/prod/stripe-key", secret_rule="/payments/prod/*",
                  other_secret_path="/payments/staging/stripe-key", k8s_secret="stripe-key")


def _outputs_text(nb: dict) -> str:
    return json.dumps([cell.get("outputs", []) for cell in nb["cells"] if cell["cell_type"] == "code"])


def test_notebooks_exist():
    """One notebook per chapter of the catalog (README table, index page, test wiring), in order."""
    assert [p.name for p in NOTEBOOKS] == ["02_kubernetes_auth.ipynb", "03_syncing_with_eso.ipynb"]
    assert [p.stem for p in NOTEBOOKS] == [c.stem for c in CHAPTERS]


@pytest.mark.parametrize("params", [{}, SECOND_SET], ids=["default-parameters", "second-parameter-set"])
@pytest.mark.parametrize("path", CHAPTER_2, ids=lambda p: p.stem)
def test_runs_headless_without_leaking(path, params, tmp_path):
    value = "canary-" + secrets.token_hex(12)
    run = run_notebook(path, tmp_path / path.name, {**params, "secret_value": value})
    assert run.ok, run.error
    print(f"{path.name} {'with ' + params['namespace'] if params else 'defaults'}: {run.seconds:.1f} s")
    executed = json.loads(run.output.read_text())
    text = _outputs_text(executed)
    assert '"output_type": "error"' not in text
    assert value not in text, "the secret value reached an output"
    assert not WHOLE_JWT.search(text), "a whole JWT (signature included) reached an output"
    admin = json.loads((Settings.load().lab_dir / "akeyless-admin.json").read_text())
    assert admin["access_key"] not in text
    assert "PRIVATE KEY" not in text
    if params:
        assert params["secret_path"] in text and "/demo/app" not in text, "a default leaked into the second set"


@pytest.mark.parametrize("path", CHAPTER_2, ids=lambda p: p.stem)
def test_runs_against_a_cluster_from_a_kubeconfig(path, tmp_path):
    """target="kubeconfig": the helpers see only a kubeconfig (here the lab's, standing in for kind or AKS),
    with the lab's Akeyless; lab-only demos say so instead of running."""
    kubeconfig = Settings.load().lab_dir / "kubeconfig"
    if not kubeconfig.exists():
        from helpers import lab
        lab.up(Settings.load())
    run = run_notebook(path, tmp_path / path.name, {"target": "kubeconfig", "kubeconfig": str(kubeconfig)})
    assert run.ok, run.error
    text = _outputs_text(json.loads(run.output.read_text()))
    assert "kubeconfig: Kubernetes" in text
    assert "expiry: not run on this target" in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_is_clean(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code), "committed with unexecuted cells (nbval: unrun reference cell)"
    text = _outputs_text(nb)
    assert '"output_type": "error"' not in text
    assert not WHOLE_JWT.search(text)
    assert "PRIVATE KEY" not in text


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_holds_only_literals(path):
    nb = json.loads(path.read_text())
    tagged = [c for c in nb["cells"] if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1
    tree = ast.parse("".join(tagged[0]["source"]))
    for node in tree.body:
        assert isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant), ast.dump(node)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code.index(tagged[0]) == 1, "the parameters cell is the second code cell"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_cells_are_short_and_flat(path):
    """One visible step per cell: no def, loops or try in a cell (a long cell is a missing helper)."""
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] != "code" or "parameters" in cell.get("metadata", {}).get("tags", []):
            continue
        source = "".join(cell["source"])
        tree = ast.parse(source)
        banned = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.For, ast.While, ast.Try,
                                                               ast.ClassDef, ast.With))]
        assert not banned, source
        assert len(source.splitlines()) <= 6, source
