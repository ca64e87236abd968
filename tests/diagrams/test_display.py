"""The step-through widget and show_failure(): the model, the widget wiring, the headless log."""
from __future__ import annotations

import pytest

from helpers.display import Failure, Result, failure, show_failure, stepper
from helpers.errors import ClusterError, ConfigError


class Reviewed(Result):
    title = "TokenReview"

    def summary(self):
        return "authenticated as system:serviceaccount:akeyless-auth:akeyless-auth-sa"


FORBIDDEN = ClusterError('tokenreviews.authentication.k8s.io is forbidden: User "system:serviceaccount:gw:gw" '
                         'cannot create resource "tokenreviews"', status=403,
                         hint="bind the reviewer to the system:auth-delegator ClusterRole")


def test_log_has_one_line_per_step_with_what_happened():
    s = stepper("kubernetes-auth-flow", {"review-result": Reviewed(), "token-review": FORBIDDEN,
                                         "jwt-mounted": "<b>eyJhbGciOi…</b> mounted"})
    lines = s.log().splitlines()
    assert len(lines) == 8
    assert lines[0] == "Step 1/8: Pod → ESO: JWT token mounted in pod | eyJhbGciOi… mounted"
    assert lines[1].endswith("| not run")
    assert lines[2].endswith("| FAILED ClusterError (403): tokenreviews.authentication.k8s.io is forbidden: "
                             'User "system:serviceaccount:gw:gw" cannot create resource "tokenreviews"')
    assert lines[3].endswith("| ok: authenticated as system:serviceaccount:akeyless-auth:akeyless-auth-sa")


def test_details_for_unknown_steps_are_refused():
    with pytest.raises(ConfigError, match="token-reveiw"):
        stepper("kubernetes-auth-flow", {"token-reveiw": Reviewed()})


def test_detail_html_shows_what_travels_and_the_result():
    s = stepper("kubernetes-auth-flow", {"token-review": FORBIDDEN}, start="token-review",
                notes={"token-review": "TokenReview request: spec.token = the JWT"})
    page = s.detail_html()
    assert "What travels: TokenReview request" in page
    assert "system:auth-delegator" in page and "#c62828" in page
    assert "not run yet" in s.detail_html(0)


def test_widget_buttons_move_the_lit_step():
    s = stepper("kubernetes-auth-flow", {"auth-request": Reviewed()})
    box = s.widget()
    assert s._prev.disabled and not s._next.disabled
    assert s.current.lit == ("jwt-mounted",)
    s._next.click()
    assert s.position == 1 and s._slider.value == 2 and s.current.lit == ("auth-request",)
    assert "ESO → AuthMethod" in s._label.value
    assert "class auth-request edgeLit" in s.drawn["text/vnd.mermaid"]
    assert "image/svg+xml" not in s.drawn
    s.go(8)
    assert s._next.disabled and s._slider.value == 8
    s._next.click()                       # already at the end: stays
    assert s.position == 7
    s._prev.click()
    assert s.current.lit == ("secret-returned",)
    assert box is s.widget()


def test_widget_assigns_its_outputs_and_never_captures(monkeypatch):
    """Capturing with `with output:` makes nbclient (papermill) answer on the shell channel mid-cell,
    which can stall a headless run until the cell timeout (jupyter/nbclient#312)."""
    import ipywidgets

    def refuse(self):
        raise AssertionError("the stepper captured output through an Output widget context")

    monkeypatch.setattr(ipywidgets.Output, "__enter__", refuse)
    s = stepper("kubernetes-auth-flow", {"auth-request": Reviewed()})
    s.widget()
    s._next.click()
    (picture,), (detail,) = s._picture.outputs, s._detail.outputs
    assert picture["output_type"] == "display_data" and picture["data"] == s.drawn
    assert "class auth-request edgeLit" in picture["data"]["text/vnd.mermaid"]
    assert "authenticated as system:serviceaccount" in detail["data"]["text/html"]
    assert "<" not in detail["data"]["text/plain"]


def test_stepper_works_on_the_sequence_diagram():
    s = stepper("kubernetes-auth-sequence", start=3)
    assert "rect rgba(" in s.current.mermaid and s.current.lit == ("token-review",)


def test_bad_start_names_the_range():
    with pytest.raises(ValueError, match="1..8"):
        stepper(start=12)


def test_failure_of_a_lab_error_keeps_message_hint_and_status():
    shown = failure(FORBIDDEN)
    assert shown.summary().startswith("ClusterError (403): tokenreviews.authentication.k8s.io is forbidden")
    assert ("what to do", "bind the reviewer to the system:auth-delegator ClusterRole") in shown.rows()
    assert "💡" in shown._repr_html_() and "&quot;tokenreviews&quot;" in shown._repr_html_()


def test_failure_of_a_plain_exception_and_of_a_failed_result():
    assert failure(ValueError("boom")).summary() == "ValueError: boom"

    class Denied(Result):
        ok = False
        title = "auth"
        hint = "add the namespace to the role's sub-claims"

        def summary(self):
            return "item does not exist"

    shown = failure(Denied())
    assert shown.message == "item does not exist" and shown.hint.startswith("add the namespace")


def test_show_failure_prints_outside_ipython_and_returns_the_view(capsys):
    shown = show_failure(FORBIDDEN)
    assert isinstance(shown, Failure)
    assert "hint: bind the reviewer" in capsys.readouterr().out
