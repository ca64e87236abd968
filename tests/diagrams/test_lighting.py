"""The lighting logic: which nodes and edges are lit, done and muted; the text that goes out."""
from __future__ import annotations

import re

import pytest

from helpers import diagrams
from helpers.diagrams import FLOW, SEQUENCE, Diagram
from helpers.errors import ConfigError

STEP_IDS = ("jwt-mounted", "auth-request", "token-review", "review-result", "role-check",
            "read-secret", "secret-returned", "k8s-secret-written")


def test_step_ids_are_the_fixed_contract():
    flow = diagrams.load(FLOW)
    assert flow.step_ids == STEP_IDS
    assert [(e.source, e.target) for e in flow.edges] == [
        ("Pod", "ESO"), ("ESO", "AuthMethod"), ("AuthMethod", "API"), ("API", "AuthMethod"),
        ("AuthMethod", "AccessRole"), ("AccessRole", "Vault"), ("Vault", "ESO"), ("ESO", "K8sSecret")]


def test_flowchart_arrows_are_numbered_in_file_order():
    flow = diagrams.load(FLOW)
    for number, edge in enumerate(flow.edges, 1):
        assert edge.label.startswith(f"{number}. ") and flow.step_id(number) == edge.id
    assert flow.nodes == ("Pod", "ESO", "API", "K8sSecret", "AuthMethod", "AccessRole", "Vault")


def test_flowchart_keeps_the_seed_subgraphs_and_colours():
    source = diagrams.load(FLOW).source
    assert 'subgraph AKS["AKS Cluster"]' in source and 'subgraph Akeyless["Akeyless Platform"]' in source
    for node in ("Pod", "ESO", "API", "K8sSecret"):
        assert f"style {node} fill:#c8e6c9,stroke:#2e7d32" in source
    for node in ("AuthMethod", "AccessRole", "Vault"):
        assert f"style {node} fill:#ffe0b2,stroke:#ef6c00" in source


def test_sequence_has_a_block_for_every_step_in_order():
    assert diagrams.load(SEQUENCE).step_ids == STEP_IDS


def test_lit_step_splits_done_and_muted():
    states = diagrams.show(FLOW, "token-review").states()
    assert states["edges"] == {"edgeLit": ("token-review",), "edgeDone": ("jwt-mounted", "auth-request"),
                               "edgeMuted": ("review-result", "role-check", "read-secret", "secret-returned",
                                             "k8s-secret-written")}
    assert states["nodes"]["stepLit"] == ("AuthMethod", "API")
    assert set(states["nodes"]["stepDone"]) == {"Pod", "ESO"}
    assert set(states["nodes"]["stepMuted"]) == {"AccessRole", "Vault", "K8sSecret"}


def test_last_step_has_everything_else_done():
    states = diagrams.show(FLOW, 8).states()
    assert states["edges"]["edgeMuted"] == () and len(states["edges"]["edgeDone"]) == 7
    assert states["nodes"]["stepMuted"] == ()


def test_every_node_gets_exactly_one_state():
    for variant in diagrams.variants(FLOW)[1:]:
        groups = variant.states()["nodes"].values()
        flat = [n for group in groups for n in group]
        assert sorted(flat) == sorted(variant.nodes), variant.describe()


def test_lighting_appends_and_never_edits_the_file_lines():
    base = diagrams.load(FLOW)
    lit = base.light("read-secret")
    assert lit.mermaid.startswith(base.source.rstrip() + "\n")
    tail = lit.mermaid[len(base.source.rstrip()) + 1:]
    assert "class read-secret edgeLit" in tail and "class AccessRole,Vault stepLit" in tail
    assert "read-secret@{ animate: true }" in tail
    assert "style Vault fill:#ffd54f" in tail


def test_sequence_lighting_wraps_only_the_lit_block():
    lit = diagrams.show(SEQUENCE, "token-review").mermaid
    assert lit.count("rect rgba(") == 1
    block = re.search(r"rect rgba\([^)]*\)\n(.*?)\n\s*end\n", lit, re.S).group(1)
    assert "tokenreviews" in block and "POST /auth" not in block


def test_unlit_diagram_is_the_file_as_is():
    base = diagrams.load(FLOW)
    assert base.mermaid == base.source.rstrip() + "\n"
    assert base.describe() == "kubernetes-auth-flow: flowchart, nothing lit"


def test_describe_is_one_stable_line():
    assert diagrams.show(FLOW, "token-review").describe() == (
        "kubernetes-auth-flow: step 3/8 token-review lit (AuthMethod -> API: Validate token via TokenReview API)")


def test_bundle_without_svg_has_mermaid_and_text():
    bundle = diagrams.show(FLOW, 1).bundle(svg=False)
    assert set(bundle) == {"text/vnd.mermaid", "text/plain"}
    assert bundle["text/plain"].startswith("kubernetes-auth-flow: step 1/8 jwt-mounted lit")


def test_svg_policy_off_keeps_svg_out(monkeypatch):
    monkeypatch.setenv("WORKSHOP_DIAGRAM_SVG", "0")
    assert "image/svg+xml" not in diagrams.show(FLOW, 2)._repr_mimebundle_()


@pytest.mark.parametrize("bad, words", [
    ("no-such-step", "has no step no-such-step"),
    (9, "has no step 9"),
])
def test_unknown_steps_name_the_known_ones(bad, words):
    with pytest.raises(ConfigError) as info:
        diagrams.show(FLOW, bad)
    assert words in str(info.value) and "jwt-mounted" in str(info.value)


def test_unknown_diagram_lists_the_known_ones():
    with pytest.raises(ConfigError, match="kubernetes-auth-flow"):
        diagrams.load("nope")


def test_architecture_cannot_be_lit():
    with pytest.raises(ConfigError, match="cannot be lit"):
        diagrams.show("lab-architecture", "jwt-mounted")


def test_mermaid_py_is_never_pointed_at_the_internet(monkeypatch, tmp_path):
    monkeypatch.setenv("MERMAID_INK_SERVER", "https://mermaid.ink")
    monkeypatch.setenv("WORKSHOP_LAB_DIR", str(tmp_path))          # no lab there
    diagrams.load(FLOW)
    import os
    assert os.environ["MERMAID_INK_SERVER"].startswith("http://127.0.0.1:")
    (tmp_path / "endpoints.json").write_text('{"mermaid_ink": "http://127.0.0.1:4567"}')
    assert diagrams.use_local_mermaid_ink() == "http://127.0.0.1:4567"
    monkeypatch.setenv("MERMAID_INK_SERVER", "http://127.0.0.1:9999")   # the learner's own: kept
    diagrams.load(FLOW)
    assert os.environ["MERMAID_INK_SERVER"] == "http://127.0.0.1:9999"


def test_diagram_objects_are_immutable():
    base = diagrams.load(FLOW)
    base.light(3)
    assert base.lit == ()
    assert isinstance(base.light(3), Diagram)
