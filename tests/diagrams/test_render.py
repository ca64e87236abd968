"""Every diagram, and every lit variant helpers.diagrams can emit, parses and renders with the real
mermaid engine (mermaid-cli + chromium); the SVG holds the labels and the lit style."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import namedtuple

import pytest

from helpers import diagrams
from helpers.diagrams import FLOW, LIT_COLOUR, SEQUENCE
from helpers.mmdc import RenderFailed

Arrow = namedtuple("Arrow", "number id source target label")
STEPS = tuple(Arrow(n, e.id, e.source, e.target, e.label.split(". ", 1)[1])
              for n, e in enumerate(diagrams.load(FLOW).edges, 1))

VARIANTS = [v for name in diagrams.names() for v in diagrams.variants(name)]


@pytest.fixture(scope="module")
def rendered(mmdc) -> dict[str, str]:
    """describe() -> SVG text, all variants rendered with one browser start."""
    images = mmdc.render_many([v.mermaid for v in VARIANTS], "svg")
    return {v.describe(): image.decode() for v, image in zip(VARIANTS, images)}


def _edge_style(svg: str, edge_id: str) -> str:
    match = re.search(rf'<path [^>]*data-id="{re.escape(edge_id)}"[^>]*>', svg)
    assert match, f"edge {edge_id} not in the SVG"
    style = re.search(r'style="([^"]*)"', match.group(0))
    return style.group(1) if style else ""


def _node_classes(svg: str, node: str) -> str:
    match = re.search(rf'<g class="([^"]*)" id="[^"]*flowchart-{re.escape(node)}-\d+"', svg)
    assert match, f"node {node} not in the SVG"
    return match.group(1)


def test_variants_cover_every_step():
    names = {v.describe() for v in VARIANTS}
    assert len(names) == len(VARIANTS)
    assert len([v for v in VARIANTS if v.name == FLOW]) == 1 + 8
    assert len([v for v in VARIANTS if v.name == SEQUENCE]) == 1 + 8


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.describe().split(":")[0] + ":" + ",".join(v.lit))
def test_variant_renders_to_valid_svg(rendered, variant):
    svg = rendered[variant.describe()]
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    assert 'aria-roledescription="' + ("sequence" if variant.kind == "sequence" else "flowchart-v2") in svg


def test_flowchart_svg_has_every_label(rendered):
    svg = rendered[diagrams.load(FLOW).describe()]
    for s in STEPS:
        assert f"{s.number}. " in svg and s.label.split()[0] in svg
        assert f'data-id="{s.id}"' in svg
    for label in ("AKS Cluster", "Akeyless Platform", "Pod with ServiceAccount", "External Secrets Operator",
                  "AKS API Server", "Kubernetes Secret", "Kubernetes Auth Method", "Access Roles", "Secrets Vault"):
        assert label in svg


@pytest.mark.parametrize("s", STEPS, ids=lambda s: s.id)
def test_lit_step_is_styled_in_the_svg(rendered, s):
    svg = rendered[diagrams.show(FLOW, s.id).describe()]
    assert f"stroke:{LIT_COLOUR}" in _edge_style(svg, s.id)
    for other in STEPS:
        if other.number > s.number:
            assert LIT_COLOUR not in _edge_style(svg, other.id), other.id
    assert "stepLit" in _node_classes(svg, s.source) and "stepLit" in _node_classes(svg, s.target)
    assert re.search(r"\.stepLit&gt;\*\{fill:rgb\(255, 213, 79\)!important", svg)
    # the lit fill wins over the diagram's own `style` line (both are inlined; the later one counts)
    node = re.search(rf'<g class="[^"]*stepLit[^"]*" id="[^"]*flowchart-{s.target}-\d+".*?<rect [^>]*style="([^"]*)"',
                     svg, re.S)
    assert node and node.group(1).rfind("fill:#ffd54f") > node.group(1).rfind("fill:#c8e6c9")


def test_unlit_flowchart_has_no_lit_style(rendered):
    svg = rendered[diagrams.load(FLOW).describe()]
    assert "stepLit" not in svg and "edgeLit" not in svg


def test_lit_sequence_step_draws_its_rect(rendered):
    svg = rendered[diagrams.show(SEQUENCE, "review-result").describe()]
    assert re.search(r'<rect [^>]*fill="rgba\(255, 213, 79, 0.45\)"', svg)
    assert "TokenReview status" in svg and "token = t-" in svg


def test_committed_svgs_are_current(mmdc):
    """diagrams/*.svg are rendered from diagrams/*.mmd (tools/mermaid/render.sh); rendering is deterministic."""
    files = sorted(diagrams.DIAGRAMS_DIR.glob("*.mmd"))
    fresh = mmdc.render_many([f.read_text() for f in files], "svg")
    for mmd, svg in zip(files, fresh):
        committed = mmd.with_suffix(".svg")
        assert committed.exists(), f"{committed} is missing: run tools/mermaid/render.sh"
        assert committed.read_bytes() == svg, f"{committed} is stale: run tools/mermaid/render.sh"


def test_broken_diagram_fails_with_the_parser_message(mmdc):
    with pytest.raises(RenderFailed) as info:
        mmdc.render("flowchart LR\n    A -->\n")
    assert "Parse error" in str(info.value) and " at " not in str(info.value).split("hint:")[0]


def test_png_renders(mmdc):
    png = mmdc.render(diagrams.show(FLOW, 3).mermaid, "png")
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_cache_serves_the_second_render(mmdc):
    source = diagrams.show(FLOW, 5).mermaid + "    %% cache probe\n"
    first = mmdc.render(source)
    assert mmdc.cached(source) is not None
    assert mmdc.render(source) == first


def test_bundle_carries_svg_when_asked_and_a_renderer_exists(mmdc, monkeypatch):
    monkeypatch.setattr(diagrams, "_renderer", lambda quiet=False: mmdc)
    assert "image/svg+xml" not in diagrams.show(FLOW, "role-check")._repr_mimebundle_()     # off by default
    monkeypatch.setenv("WORKSHOP_DIAGRAM_SVG", "1")
    bundle = diagrams.show(FLOW, "role-check")._repr_mimebundle_()
    assert set(bundle) == {"text/vnd.mermaid", "text/plain", "image/svg+xml"}
    assert 'data-id="role-check"' in bundle["image/svg+xml"]
