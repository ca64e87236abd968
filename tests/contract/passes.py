"""Which of `make test`'s two passes runs a contract module.

`make test` runs tests/contract twice: against the emulator, then with WORKSHOP_LAB_KUBE=apiserver. A module
that starts labs of its own (the real kube-apiserver among them) whatever the pass would only repeat itself
in the second, so it runs once, in the real-stack pass. Where the real kube-apiserver is not
built there is no second pass, and such a module skips itself with what to build.
"""
from __future__ import annotations

import os

import pytest

from helpers.lab import apiserver

in_the_real_stack_pass = pytest.mark.skipif(
    apiserver.available() and os.environ.get("WORKSHOP_LAB_KUBE") != "apiserver",
    reason="starts labs of its own (the real kube-apiserver among them), so it runs once, in the real-stack pass: "
           "WORKSHOP_LAB_KUBE=apiserver pytest tests/contract")
