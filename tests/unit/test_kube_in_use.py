"""An empty `kube` (a chapter's default, `lab up` without --kube) keeps the lab that runs: a learner who started
the real stack and then opens a chapter, or types `make lab`, must not get the emulator swapped in under them."""
from __future__ import annotations

import pytest

from helpers import session
from helpers.lab import runtime
from helpers.session import TargetParameters


@pytest.fixture
def running(monkeypatch):
    monkeypatch.delenv("WORKSHOP_LAB_KUBE", raising=False)

    def set_mode(mode):
        monkeypatch.setattr(runtime, "_running", lambda lab_dir: {"kube_mode": mode, "pid": 1} if mode else None)
    return set_mode


def test_an_empty_kube_keeps_the_running_real_stack(running):
    running("apiserver")
    assert TargetParameters().settings().kube == "apiserver"
    assert session.kube_in_use() == "apiserver"


def test_an_empty_kube_with_no_lab_running_is_the_emulator(running):
    running(None)
    assert session.kube_in_use() is None
    assert TargetParameters().settings().kube == "emulator"


def test_the_environment_and_an_explicit_kube_win_over_the_running_lab(running, monkeypatch):
    running("apiserver")
    assert TargetParameters(kube="emulator").settings().kube == "emulator"
    monkeypatch.setenv("WORKSHOP_LAB_KUBE", "emulator")
    assert TargetParameters().settings().kube == "emulator"


def test_an_unknown_kube_is_still_a_parameter_error():
    assert [p.parameter for p in TargetParameters(kube="docker").problems()] == ["kube"]
