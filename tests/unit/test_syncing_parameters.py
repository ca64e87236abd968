"""Chapter 3's parameters: chapter 2's names and checks, its own (refresh_interval, extra_namespace,
apply_solutions), `kube = ""` taken from the environment, and the names it derives; its step table and diagram."""
from __future__ import annotations

import pytest

from helpers import diagrams
from helpers.chapters import kubernetes_auth, syncing
from helpers.chapters.syncing.parameters import duration_seconds
from helpers.errors import ParameterError


def _problems(**values) -> dict[str, ParameterError]:
    return {p.parameter: p for p in syncing.Parameters(**values).problems()}


def test_defaults_are_valid_and_keep_chapter_2s_names():
    assert _problems() == {}
    ch2 = syncing.Parameters(namespace="payments").chapter2()
    assert isinstance(ch2, kubernetes_auth.Parameters) and ch2.namespace == "payments"


@pytest.mark.parametrize("value,problem", [("5", "Go duration"), ("fast", "Go duration"), ("0s", "between 1s and 60s"),
                                           ("2m", "between 1s and 60s")])
def test_refresh_interval_must_be_a_short_go_duration(value, problem):
    found = _problems(refresh_interval=value)["refresh_interval"]
    assert problem in found.message and "use refresh_interval = '5s'" in found.hint


def test_chapter_2s_checks_still_apply_and_its_own_too():
    assert "namespace" in _problems(namespace="Not_A_Name")
    assert "extra_namespace" in _problems(extra_namespace="Team B")
    assert "apply_solutions" in _problems(apply_solutions="yes")


def test_an_empty_kube_is_the_environments(monkeypatch):
    assert "kube" not in _problems(kube="")
    monkeypatch.setenv("WORKSHOP_LAB_KUBE", "apiserver")
    assert syncing.Parameters().target_parameters().settings().kube == "apiserver"
    assert syncing.Parameters(kube="emulator").target_parameters().settings().kube == "emulator"
    assert "kube" in _problems(kube="docker")


def test_derived_names_follow_secret_path_and_namespace():
    p = syncing.Parameters(secret_path="/payments/prod/stripe-key", namespace="payments")
    assert (p.folder, p.json_secret, p.catalog, p.pushed) == (
        "/payments/prod", "/payments/prod/db-config", "/payments/prod-catalog", "/payments/prod-pushed")
    assert p.team_b == "payments-team-b" and syncing.Parameters(extra_namespace="b").team_b == "b"
    assert duration_seconds("1m30s") == 90 and p.refresh_seconds == 5


def test_the_step_table_is_the_diagrams_steps_in_order():
    diagram = diagrams.load(syncing.steps.DIAGRAM)
    assert diagram.step_ids == tuple(s.id for s in syncing.STEPS)
    assert [s.number for s in syncing.STEPS] == list(range(1, len(syncing.STEPS) + 1))
    assert syncing.step_of("auth") is syncing.step_of(2)
    with pytest.raises(ParameterError, match="steps 1..6"):
        syncing.step_of(7)
