"""Fixtures shared by every test: one embedded lab per test session, in a private directory."""
from __future__ import annotations

import os
import shutil

import pytest

from helpers import lab as lab_runtime
from helpers.config import Settings


@pytest.fixture(scope="session")
def lab_settings(tmp_path_factory) -> Settings:
    """Settings pointing at a lab directory of this test session's own (never the learner's .lab/)."""
    return Settings.load(target="lab", lab_dir=str(tmp_path_factory.mktemp("lab")),
                         kube=os.environ.get("WORKSHOP_LAB_KUBE", "emulator"))


@pytest.fixture(scope="session")
def lab(lab_settings):
    """The running lab (LabInfo); stopped when the session ends."""
    info = lab_runtime.up(lab_settings)
    yield info
    lab_runtime.down(lab_settings)


@pytest.fixture(scope="session")
def kubectl():
    path = shutil.which("kubectl")
    if not path:
        pytest.skip("kubectl is not on PATH (install it to run the kubectl tests)")
    return path
