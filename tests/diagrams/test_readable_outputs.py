"""Outputs that read well: tables with headers that fit the page, masked values as characters, the
step-through's fallback (untrusted notebooks, the HTML export) as readable steps."""
from __future__ import annotations

import json
import re

from helpers.display import Note, html_table, readable_json, stepper, value_html

JWT = "eyJhbGciOiJSUzI1NiJ9." + "eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6YWtleWxlc3MtYXV0aCJ9" * 3 + ".••••••••"


def test_every_table_has_a_header_row():
    assert "<th style='text-align:left;vertical-align:top'>field</th>" in html_table([("a", 1)])
    three = html_table([("a", 1, "why")])
    assert re.findall(r"<th[^>]*>([^<]*)</th>", three) == ["field", "value", "detail"]
    assert re.findall(r"<th[^>]*>([^<]*)</th>", html_table([("a", 1)], header=("claim", "value"))) == ["claim", "value"]
    assert "<th" in Note("text", table=[("k", "v")])._repr_html_()


def test_tokens_break_anywhere_and_words_only_at_spaces():
    token = value_html(JWT)
    assert token.startswith("<code") and f"<span style='word-break:break-all'>{JWT}</span>" in token
    name = value_html("akeyless-auth-sa")
    assert "word-break" not in name and "white-space:pre-wrap" in name
    sentence = value_html("where the gateway sends TokenReview: must be reachable")
    assert sentence.startswith("<span") and "word-break" not in sentence
    # Only the token breaks anywhere: the words around it keep breaking at their spaces.
    mixed = value_html(f"sub-claims service_account_name=akeyless-auth-sa token {JWT} end")
    assert mixed.count("word-break:break-all") == 1
    assert "sub-claims service_account_name=akeyless-auth-sa token <span" in mixed


def test_json_values_show_masked_characters_not_escapes():
    body = json.dumps({"k8s-service-account-token": JWT, "access-type": "k8s"})
    assert "\\u2022" in body                          # what json.dumps gives callers by default
    cell = value_html(body)
    assert "\\u2022" not in cell and "••••••••" in cell
    assert cell.startswith("<pre") and '\n "access-type": "k8s"' in cell.replace("&quot;", '"')
    assert readable_json("not json {") is None and readable_json("[1, 2") is None


def test_only_styles_the_jupyterlab_sanitizer_keeps():
    # Untrusted outputs keep only listed CSS values: overflow-wrap normal|break-word, word-break
    # normal|keep-all|break-all, white-space ...|pre-wrap|nowrap. "anywhere" would be dropped.
    page = html_table([("token", JWT), ("json", json.dumps({"a": JWT})), ("why", "a b c d")])
    for prop, value in re.findall(r"(overflow-wrap|word-break|white-space):([\w-]+)", page):
        assert value in {"overflow-wrap": {"normal", "break-word"}, "word-break": {"normal", "keep-all", "break-all"},
                         "white-space": {"normal", "pre", "nowrap", "pre-wrap", "pre-line"}}[prop], (prop, value)


def test_stepper_fallback_lists_every_step_as_html_and_text():
    walk = stepper("kubernetes-auth-flow", {"auth-request": "<b>POST /auth</b> sent with " + JWT})
    bundle = walk.fallback_bundle("model-1")
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == "model-1"
    steps = re.findall(r"<li[^>]*>(.*?)</li>", bundle["text/html"])
    assert len(steps) == 8
    assert "Step 2/8: ESO → AuthMethod" in steps[1] and "POST /auth sent with" in steps[1]
    assert "word-break" not in steps[1]                   # a list item wraps at spaces (break-word for the rest)
    assert "not run yet in this notebook" in steps[0]
    assert "VBox" not in bundle["text/plain"] and len(bundle["text/plain"].splitlines()) == 9


def test_displaying_the_stepper_shows_one_output_and_prints_nothing(capsys, monkeypatch):
    shown = []
    import IPython.display
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    stepper("kubernetes-auth-flow")._ipython_display_()
    assert capsys.readouterr().out == ""                  # no plain-text copy under the live widget
    [(bundle, raw)] = shown
    assert raw and set(bundle) == {"application/vnd.jupyter.widget-view+json", "text/html", "text/plain"}
