"""Chapter 3 executed headless by papermill: on the real stack with two parameter sets (each run on a lab of
its own, the outputs checked for what must never be in them), and on the emulator, where its first cell stops
with NeedsRealStack in one line. The committed notebook's outputs come from the real stack."""
from __future__ import annotations

import json
import re
import secrets

import pytest

from helpers import lab as lab_runtime
from helpers.config import Settings
from helpers.tutorial import NOTEBOOKS_DIR, run_notebook
from tests.contract.eso_stack import needs_real_stack

NOTEBOOK = NOTEBOOKS_DIR / "03_syncing_with_eso.ipynb"
WHOLE_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{20,}")
SECOND_SET = dict(namespace="payments", service_account="payments-api", audience="akeyless-payments",
                  auth_method="/workshop/payments-k8s", k8s_conf_name="payments-conf", role="/workshop/payments-reader",
                  secret_path="/payments/prod/stripe-key", secret_rule="/payments/prod/*",
                  other_secret_path="/payments/staging/stripe-key", k8s_secret="stripe-key", refresh_interval="3s")


def _outputs(nb: dict) -> str:
    return json.dumps([cell.get("outputs", []) for cell in nb["cells"] if cell["cell_type"] == "code"])


@pytest.fixture(scope="module")
def real_lab(tmp_path_factory):
    """A real-stack lab of the module's own (the kernel inherits WORKSHOP_LAB_DIR)."""
    patch = pytest.MonkeyPatch()
    lab_dir = tmp_path_factory.mktemp("chapter3") / "lab"
    patch.setenv("WORKSHOP_LAB_DIR", str(lab_dir))
    patch.setenv("WORKSHOP_LAB_KUBE", "apiserver")
    yield Settings.load(lab_dir=str(lab_dir))
    lab_runtime.down(Settings.load(lab_dir=str(lab_dir)))
    patch.undo()


@needs_real_stack
@pytest.mark.parametrize("params", [{}, SECOND_SET], ids=["default-parameters", "second-parameter-set"])
def test_runs_on_the_real_stack_without_leaking(real_lab, params, tmp_path):
    value = "canary-" + secrets.token_hex(12)
    run = run_notebook(NOTEBOOK, tmp_path / NOTEBOOK.name, {**params, "secret_value": value})
    assert run.ok, run.error
    print(f"chapter 3 {'with ' + params['namespace'] if params else 'defaults'}: {run.seconds:.1f} s")
    text = _outputs(json.loads(run.output.read_text()))
    assert '"output_type": "error"' not in text
    assert value not in text, "the secret value reached an output"
    assert not WHOLE_JWT.search(text), "a whole JWT (signature included) reached an output"
    admin = json.loads((real_lab.lab_dir / "akeyless-admin.json").read_text())
    assert admin["access_key"] not in text
    assert "PRIVATE KEY" not in text
    for exercise in range(1, 5):
        assert f"exercise {exercise} (" in text and "correct:" in text
    assert text.count("not yet:") == 0, "an exercise's solution did not pass its own check"
    assert "Secret followed after" in text and "ReadOnly" in text
    assert "chapter 2 had not run here: set up" in text, "a fresh lab: the identity is set up with chapter 2's cells"
    if params:
        assert params["secret_path"] in text and "/demo/app" not in text, "a default leaked into the second set"


@needs_real_stack
def test_the_learners_wrong_answers_never_break_the_cells_after_them(real_lab, tmp_path):
    """apply_solutions=False applies the answer cells as committed (each a wrong first try): every check says
    "not yet" with its hint, and the rest of the chapter runs to the end."""
    run = run_notebook(NOTEBOOK, tmp_path / NOTEBOOK.name, {"apply_solutions": False})
    assert run.ok, run.error
    text = _outputs(json.loads(run.output.read_text()))
    assert text.count("not yet:") >= 4 * 2, "each of the four checks (text and HTML) says not yet"
    assert "Hint: " in text and "correct:" not in text
    assert "removed " in text and "ESO pushed the Secret to Akeyless" in text, "the cells after the exercises ran"


@needs_real_stack
def test_the_identity_is_checked_live_and_only_what_is_missing_is_set_up(real_lab):
    from helpers import akeyless_client as ak
    from helpers.chapters import syncing
    chapter = syncing.Chapter(syncing.Parameters(kube="apiserver"))
    chapter.identity()
    assert chapter.identity().result.text == "chapter 2's identity is in place"
    ak.delete_role(chapter.akeyless, chapter.p.role)
    assert chapter.identity().result.text.endswith(": set up the role with chapter 2's own cells")
    ak.delete_gateway_k8s_config(chapter.akeyless, chapter.p.k8s_conf_name)
    said = chapter.identity().result.text
    assert "the auth method, the token reviewer, the gateway config, the role" in said, said
    assert chapter.sync().ok


def test_stops_on_the_emulator_in_one_line(tmp_path, monkeypatch):
    lab_dir = tmp_path / "lab"
    monkeypatch.setenv("WORKSHOP_LAB_DIR", str(lab_dir))
    try:
        run = run_notebook(NOTEBOOK, tmp_path / NOTEBOOK.name, {"kube": "emulator"})
    finally:
        lab_runtime.down(Settings.load(lab_dir=str(lab_dir)))
    assert run.skipped.startswith("Chapter 3 needs a real ESO controller") and not run.error, (run.skipped, run.error)
    executed = json.loads(run.output.read_text())
    code = [c for c in executed["cells"] if c["cell_type"] == "code"
            and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    errors = [(i, o) for i, c in enumerate(code) for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert len(errors) == 1
    index, error = errors[0]
    assert "Chapter.from_notebook" in "".join(code[index]["source"]) and index == 2, "not the chapter's first cell"
    lines = "".join(error["traceback"]).splitlines()
    assert len(lines) == 2 and "Chapter 3 needs a real ESO controller" in lines[0] and "make real" in lines[1]


def test_committed_notebook_comes_from_the_real_stack():
    nb = json.loads(NOTEBOOK.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code), "committed with unexecuted cells"
    text = _outputs(nb)
    assert "(apiserver Kubernetes API)" in text and "real stack (" in text
    assert '"output_type": "error"' not in text
    assert not WHOLE_JWT.search(text) and "PRIVATE KEY" not in text
    assert "headless run on the lab's real stack" in "".join(nb["cells"][-1]["source"])
