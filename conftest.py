"""Root conftest: notebooks collected by nbval run against a lab of the test session's own, never the
learner's .lab/, and that lab is stopped when the session ends."""
from __future__ import annotations

import os
import tempfile


def pytest_configure(config):
    if not os.environ.get("WORKSHOP_LAB_DIR"):
        # set before any kernel starts: nbval's kernels inherit this process's environment
        os.environ["WORKSHOP_LAB_DIR"] = tempfile.mkdtemp(prefix="workshop-nb-lab-")
        config._workshop_lab_dir = os.environ["WORKSHOP_LAB_DIR"]


def pytest_unconfigure(config):
    lab_dir = getattr(config, "_workshop_lab_dir", None)
    if lab_dir:
        from helpers import lab
        from helpers.config import Settings
        lab.down(Settings.load(lab_dir=lab_dir))
