"""The chapter survives a learner: after Run All (which ends with cleanup) any cell re-run alone works or
says in one line which cell to run first; after a kernel restart a middle cell says to run the setup
cells; a parameter that cannot work stops the run in the first code cells with one message naming it."""
from __future__ import annotations

import json

import pytest

from helpers.chapters import kubernetes_auth
from helpers.errors import ParameterError
from helpers.tutorial import notebooks, run_notebook

from explore import explore_and_restart, with_parameters

CHAPTER = next(p for p in notebooks() if p.stem == "02_kubernetes_auth")


def _after_restart_picks(cells):
    """A cell in the middle of the chapter, and the first diagram cell."""
    nb = json.loads(CHAPTER.read_text())
    diagram = next(i for i in cells if "".join(nb["cells"][i]["source"]).startswith("diagrams."))
    return [cells[len(cells) // 2], diagram]


@pytest.fixture(scope="module")
def walked():
    """One kernel walks the chapter as a learner does: Run All, every cell again alone (bottom-up), Run
    All again, then a restart and a click on a middle cell and on a diagram cell."""
    return explore_and_restart(CHAPTER, _after_restart_picks)


def _explained(run) -> bool:
    """A stopped cell showed the expected-error display (naming what to run or change), no traceback."""
    text = run.text()
    return run.kind == "note" and "Traceback" not in text and ("run the cell" in text or "run the setup" in text)


def test_every_cell_reruns_alone_after_run_all(walked):
    found, _ = walked
    assert [r.kind for r in found.first] == ["ok"] * len(found.first), "Run All must pass first"
    counts = found.counts(found.again)
    print(f"re-run bottom-up after Run All: {counts}")
    assert counts["traceback"] == 0, [(r.index, r.error) for r in found.again if r.kind == "traceback"]
    for run in found.again:
        if run.kind == "note":
            assert _explained(run), (run.index, run.source, run.text()[:500])
            assert len(run.error["traceback"]) <= 1
    # the cells that need nothing from the rest of the chapter just work
    worked = {r.source.strip().splitlines()[-1] for r in found.again if r.kind == "ok"}
    for cell in ("chapter.cleanup()", "chapter.request_token()", "chapter.expiry()", "chapter.create_auth_method()",
                 "chapter.create_reviewer()", "chapter.seed_secret()", "chapter.step1_pod_token()"):
        assert cell in worked
    # and after all that (the cleanup included), Run All in the same kernel passes again
    assert [r.kind for r in found.second] == ["ok"] * len(found.first)


@pytest.mark.parametrize("which", [0, 1], ids=["a chapter cell", "a diagram cell"])
def test_a_middle_cell_after_a_kernel_restart_says_to_run_the_setup_cells(walked, which):
    found, after_restart = walked
    assert found.second[-1].kind == "ok"
    middle = after_restart[which]
    assert middle.kind == "note", middle.text()
    assert "is not defined: the kernel was restarted" in middle.text() and "run the setup cells" in middle.text()


INVALID = {
    "namespace": "Akeyless_Auth",
    "service_account": "ESO SA",
    "k8s_secret": "app_db_secret",
    "audience": "",
    "auth_method": "workshop/aks-eso-k8s",
    "secret_rule": "/demo/other/*",
    "target": "cloud",
}


def test_an_invalid_parameter_stops_a_headless_run_in_the_first_cells(tmp_path):
    """The learner's headless path once (papermill, a fresh kernel); the other parameters in one kernel below."""
    name = "namespace"
    run = run_notebook(CHAPTER, tmp_path / CHAPTER.name, {name: INVALID[name]})
    assert not run.ok
    assert name in run.error, run.error
    executed = json.loads((tmp_path / CHAPTER.name).read_text())
    code = [c for c in executed["cells"] if c["cell_type"] == "code"]
    stopped = [i for i, c in enumerate(code) if c.get("execution_count")][-1]
    assert stopped <= 3, f"stopped at code cell {stopped}, not in the first cells"
    outputs = code[stopped]["outputs"]
    assert [len(o["traceback"]) for o in outputs if o["output_type"] == "error"] == [1], outputs
    assert "Traceback" not in json.dumps(outputs)
    assert f"parameter {name}" in outputs[-1]["traceback"][0] and "in the parameters cell" in outputs[-1]["traceback"][0]


@pytest.fixture(scope="module")
def invalid_runs():
    names = sorted(INVALID)
    return dict(zip(names, with_parameters(CHAPTER, [{name: INVALID[name]} for name in names])))


@pytest.mark.parametrize("name", sorted(INVALID))
def test_an_invalid_parameter_stops_the_first_cells_with_one_message(invalid_runs, name):
    runs = invalid_runs[name]
    stopped = runs[-1]
    assert stopped.error, f"{name}: Run All went through"
    assert len(runs) <= 4, f"stopped at code cell {len(runs) - 1} (papermill's injected cell counted), not in the first cells"
    assert stopped.kind == "note" and len(stopped.error["traceback"]) == 1, stopped.outputs
    assert "Traceback" not in stopped.text()
    line = stopped.error["traceback"][0]
    assert f"parameter {name}" in line and "in the parameters cell" in line, line


@pytest.mark.parametrize("changes", [
    {"reviewer_namespace": "Gateway"}, {"other_namespace": "akeyless-auth"}, {"role": "/eso//reader"},
    {"other_secret_path": "/demo/app/other"}, {"k8s_conf_name": "aks/eso"}, {"secret_path": "demo/app/x"},
    {"reveal": "yes"}, {"akeyless_url": "gateway:8000"},
])
def test_each_parameter_rule_names_the_parameter_and_a_value_that_works(changes):
    name = next(iter(changes))
    with pytest.raises(ParameterError) as caught:
        kubernetes_auth.Parameters(**changes).validate()
    assert caught.value.parameter == name
    suggestion = caught.value.suggestion
    if suggestion not in (None, ""):
        kubernetes_auth.Parameters(**{**changes, name: suggestion}).validate()


def test_the_defaults_and_the_suggestions_are_valid():
    kubernetes_auth.Parameters().validate()
    for name, value in INVALID.items():
        problems = list(kubernetes_auth.Parameters(**{name: value}).problems())
        assert [p.parameter for p in problems] == [name]
        if problems[0].suggestion:
            kubernetes_auth.Parameters(**{name: problems[0].suggestion}).validate()


def test_steps_match_the_diagram_arrows_one_to_one():
    from helpers import diagrams
    flow = diagrams.load(diagrams.FLOW)
    assert tuple(s.id for s in kubernetes_auth.STEPS) == flow.step_ids
    for step, edge in zip(kubernetes_auth.STEPS, flow.edges):
        assert edge.label.startswith(f"{step.number}. ")
        assert hasattr(kubernetes_auth.Chapter, step.method)
    nb = json.loads(CHAPTER.read_text())
    cells = ["".join(c["source"]) for c in nb["cells"]]
    for step in kubernetes_auth.STEPS:
        assert any(f"**Step {step.number}:" in c for c in cells), f"no markdown heading for step {step.number}"
        assert any(c.strip() == f"chapter.{step.method}()" for c in cells), f"no cell runs step {step.number}"
