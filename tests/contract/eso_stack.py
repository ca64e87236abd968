"""The real stack with the real ESO controller, set up once per test module as the chapter sets it up
(Akeyless items, the Kubernetes auth method, the reviewer, the gateway config, the role).

Skipped, with one line saying what to build, when a binary of the real stack is missing.
"""
from __future__ import annotations

import os

import pytest

from helpers.chapters import kubernetes_auth
from helpers import lab as lab_runtime
from helpers.lab import apiserver

NOT_BUILT = (f"the real stack is not built (kube-apiserver, kube-controller-manager, etcd in {apiserver.bin_dir()}, "
             f"ESO in {apiserver.eso.bin_dir()}): run `make real`")

# `make test` runs tests/contract twice (emulator, then WORKSHOP_LAB_KUBE=apiserver); these start labs of
# their own on the real stack whatever the pass, so they run in the real-stack pass only.
if not apiserver.real_stack_available():
    needs_real_stack = pytest.mark.skip(reason=NOT_BUILT)
elif os.environ.get("WORKSHOP_LAB_KUBE") != "apiserver":
    needs_real_stack = pytest.mark.skip(reason="real-ESO tests run in the real-stack pass: "
                                               "WORKSHOP_LAB_KUBE=apiserver pytest tests/contract")
else:
    needs_real_stack = pytest.mark.apiserver


def open_chapter(tmp_path_factory, name: str):
    """A chapter on a real-stack lab of its own, configured up to the role; (chapter, monkeypatch)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("WORKSHOP_LAB_DIR", str(tmp_path_factory.mktemp(name) / "lab"))
    chapter = kubernetes_auth.Chapter.open(kube="apiserver", secret_value="first-value")
    for step in (chapter.seed_secret, chapter.request_token, chapter.create_auth_method, chapter.create_reviewer,
                 chapter.create_gateway_config, chapter.create_role):
        step()
    return chapter, patch


def close_chapter(chapter, patch) -> None:
    lab_runtime.down(chapter.settings)
    patch.undo()
