"""The cells INTEGRATION.md asks the lead to add, inserted into the committed chapter exactly as written
there and run under papermill with both parameter sets: they run, they leak nothing, they show the commands."""
from __future__ import annotations

import json
import os
import re
import secrets

import pytest

from helpers.config import PROJECT_ROOT
from helpers.tutorial import NOTEBOOKS_DIR, run_notebook

CELL = re.compile(r"<!-- after: (?P<after>.+?) -->\n(?:<!-- or after: (?P<alt>.+?) -->\n)?"
                  r"(?:<!-- tags: (?P<tags>.+?) -->\n)?"
                  r"```(?P<kind>python|markdown)\n(?P<source>.*?)\n```", re.S)
SECOND_SET = dict(namespace="payments", service_account="payments-api", audience="akeyless-payments",
                  auth_method="/workshop/payments-k8s", k8s_conf_name="payments-conf", role="/workshop/payments-reader",
                  secret_path="/payments/prod/stripe-key", secret_rule="/payments/prod/*",
                  other_secret_path="/payments/staging/stripe-key", k8s_secret="stripe-key")
WHOLE_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}")


def integration_cells() -> list[dict]:
    text = (PROJECT_ROOT / "INTEGRATION.md").read_text()
    block = text.split("<!-- issue13 cells -->", 1)[1].split("<!-- /issue13 cells -->", 1)[0]
    return [m.groupdict() for m in CELL.finditer(block)]


def chapter_with_cells() -> dict:
    nb = json.loads((NOTEBOOKS_DIR / "02_kubernetes_auth.ipynb").read_text())
    cells = nb["cells"]
    for number, new in enumerate(integration_cells()):
        # the anchor as on main, or as issue10a words the same cell
        anchor = next(i for i, c in enumerate(cells) if "".join(c["source"]).strip() in (new["after"], new["alt"]))
        # after the anchor and after the cells already inserted behind it
        at = anchor + 1
        while at < len(cells) and cells[at].get("metadata", {}).get("issue13_after") == new["after"]:
            at += 1
        cell = {"id": f"issue13-{number}", "cell_type": "code" if new["kind"] == "python" else "markdown",
                "source": new["source"],
                "metadata": {"issue13_after": new["after"], "tags": (new["tags"] or "").split()}}
        if cell["cell_type"] == "code":
            cell.update(outputs=[], execution_count=None)
        cells.insert(at, cell)
    return nb


def test_every_anchor_is_a_cell_of_the_chapter():
    cells = integration_cells()
    assert len(cells) >= 30
    chapter_with_cells()        # raises StopIteration on an anchor the chapter does not have


@pytest.mark.parametrize("params", [{}, SECOND_SET, {"target": "kubeconfig"}],
                         ids=["default-parameters", "second-parameter-set", "kubeconfig-target"])
def test_the_cells_run_under_papermill(params, lab, lab_settings, tmp_path):
    if params.get("target") == "kubeconfig":     # the lab's cluster seen only through a kubeconfig, as AKS is
        params = {**params, "kubeconfig": str(lab.kubeconfig)}
    source = tmp_path / "02_with_issue13.ipynb"
    source.write_text(json.dumps(chapter_with_cells()))
    value = "canary-" + secrets.token_hex(12)
    saved = os.environ.get("WORKSHOP_LAB_DIR")
    os.environ["WORKSHOP_LAB_DIR"] = str(lab_settings.lab_dir)
    try:
        run = run_notebook(source, tmp_path / "out.ipynb", {**params, "secret_value": value,
                                                            "kube": lab_settings.kube})
    finally:
        if saved is None:
            os.environ.pop("WORKSHOP_LAB_DIR", None)
        else:
            os.environ["WORKSHOP_LAB_DIR"] = saved
    assert run.ok, run.error
    executed = json.loads(run.output.read_text())
    mine = [c for c in executed["cells"] if c.get("metadata", {}).get("issue13_after") and c["cell_type"] == "code"]
    text = json.dumps([c.get("outputs", []) for c in executed["cells"]])
    assert '"output_type": "error"' not in text
    assert value not in text and not WHOLE_JWT.search(text) and "PRIVATE KEY" not in text
    plain = [("".join(c["source"]), "".join(o.get("data", {}).get("text/plain", "")))
             for c in mine for o in c.get("outputs", []) if o.get("output_type") == "execute_result"]
    shown = dict(plain)
    ns = params.get("namespace", "akeyless-auth")
    assert "the Kubernetes auth method: 3 commands (akeyless)" in shown['commands.for_step(chapter.p, "create_auth_method")']
    assert shown['failures.run(chapter, "issuer mismatch")'].startswith("issuer mismatch: authentication failed:")
    assert f'serviceaccounts "{params.get("service_account", "akeyless-auth-sa")}" not found' in \
        shown['failures.run(chapter, "ClusterSecretStore without serviceAccountRef.namespace")']
    assert "python -m helpers runbook" in shown["runbook.for_notebook(chapter.p)"]
    if params.get("namespace"):
        assert f"--namespace {ns}" in shown["runbook.for_notebook(chapter.p)"]
    if params.get("target") == "kubeconfig":
        assert "not run on this target" in shown['failures.run(chapter, "expired reviewer JWT")']
    assert "NOT ready" not in shown["doctor.run_akeyless_doctor(chapter.settings, chapter.p)"]
