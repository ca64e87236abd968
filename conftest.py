"""Root conftest: notebooks collected by nbval run against a lab of the test session's own, never the
learner's .lab/, and that lab is stopped when the session ends.

A chapter that needs the real stack (helpers.tutorial.CHAPTERS, needs_real_stack) has its committed
outputs from the real ESO controller: its nbval cells and its tests (tests/notebooks/test_chapterN_*.py)
run in the real-stack pass only (`WORKSHOP_LAB_KUBE=apiserver`, what `make test` runs second) and are
skipped, with the reason, in the emulator pass.
"""
from __future__ import annotations

import os
import re
import tempfile

import pytest

CHAPTER_TEST = re.compile(r"test_chapter(\d+)_")


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


def _real_stack_chapter(path) -> bool:
    from helpers.tutorial import CHAPTERS, real_stack_only
    if path.suffix == ".ipynb":
        return real_stack_only(path)
    match = CHAPTER_TEST.match(path.name)
    return bool(match) and any(c.needs_real_stack and c.stem.startswith(f"{int(match.group(1)):02d}_")
                               for c in CHAPTERS)


def real_stack_skip_reason() -> str | None:
    """Why a real-stack chapter's tests cannot run in this pytest process (None: they can)."""
    from helpers.lab import apiserver
    if os.environ.get("WORKSHOP_LAB_KUBE") != "apiserver":
        return ("its committed outputs come from the real ESO controller: it runs in the real-stack pass "
                "(`WORKSHOP_LAB_KUBE=apiserver pytest notebooks/<chapter>.ipynb tests/notebooks/test_chapterN_*.py`, "
                "the second half of `make test`)")
    if not apiserver.real_stack_available():
        return "the real stack is not built: run `make real`"
    return None


def pytest_collection_modifyitems(config, items):
    reason = None
    for item in items:
        if _real_stack_chapter(item.path):
            reason = reason or real_stack_skip_reason() or ""
            if reason:
                item.add_marker(pytest.mark.skip(reason=f"{item.path.name}: {reason}"))
