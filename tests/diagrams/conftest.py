"""Fixtures for the diagram tests: the real mermaid engine (mmdc + chromium), with a private cache."""
from __future__ import annotations

import pytest

from helpers.mmdc import MermaidCLI, RendererMissing


@pytest.fixture(scope="session")
def mmdc(tmp_path_factory) -> MermaidCLI:
    try:
        found = MermaidCLI.find()
    except RendererMissing as exc:
        pytest.skip(f"no Mermaid renderer: {exc.message} ({exc.hint})")
    # A private cache: every render in this session really runs the engine.
    return MermaidCLI(found.mmdc, found.puppeteer_config, found.chromium, tmp_path_factory.mktemp("mmdc-cache"))
