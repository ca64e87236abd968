"""The chapter API other helpers hook into, against the test session's lab: steps run out of order from
typed state or the live target, hooks add to a step, cleanup leaves cells that name what to run."""
from __future__ import annotations

import pytest

from helpers import eso, security
from helpers.chapters.kubernetes_auth import STEPS, Chapter, Parameters
from helpers.errors import NotReady


@pytest.fixture(scope="module")
def chapter():
    ch = Chapter(Parameters(namespace="api-test", service_account="api-test-sa", auth_method="/api-test/k8s",
                            k8s_conf_name="api-test-conf", role="/api-test/reader", k8s_secret="api-test-secret",
                            api_key_auth_method="/api-test/ci", other_team_auth_method="/api-test/other"))
    for cell in (ch.seed_secret, ch.create_auth_method, ch.create_reviewer, ch.create_gateway_config, ch.create_role):
        cell()
    yield ch
    ch.cleanup()


def test_a_late_step_runs_first_and_what_it_needs_is_done_for_it(chapter):
    outcome = chapter.step(4)          # nothing of the flow has run in this chapter object yet
    assert outcome.ok, outcome.parts
    assert chapter.flow.token and chapter.flow.answer.ok
    assert set(chapter.details) == {"review-result"}
    assert chapter.step(7).ok and "secret-returned" in chapter.details


def test_rerunning_a_step_discards_what_came_after_it(chapter):
    chapter.step(6)
    first = chapter.flow.token
    chapter.step(1)
    assert chapter.flow.token != first and chapter.flow.read is None and chapter.flow.answer is None


def test_on_step_adds_results_under_a_step_and_syncer_replaces_the_sync(chapter):
    seen = []
    chapter.on_step(lambda step, ch: seen.append(step.number) or [f"commands of step {step.number}"])
    calls = []

    def syncer(ch, write):
        calls.append(write)
        return eso.sync(ch.cluster, ch.external_secret(), ch.secret_store(), ch.gateway_ca_pem(), write=write)

    chapter.syncer = syncer
    try:
        outcome = chapter.step8_secret_written()
    finally:
        chapter.syncer = None
        chapter._step_hooks.clear()
    assert seen == [8] and outcome.parts[-1] == "commands of step 8"
    assert calls == [True] and outcome.ok


def test_the_expiry_demo_puts_the_clock_back(chapter):
    shown = security.expiry(chapter)
    assert shown.ok, shown.rows()
    assert chapter.session.clock.offset == 0


def test_after_cleanup_a_step_names_the_cell_and_section_to_run():
    ch = Chapter(Parameters(namespace="api-test2", service_account="api-test2-sa", auth_method="/api-test2/k8s",
                            k8s_conf_name="api-test2-conf", role="/api-test2/reader"))
    ch.create_auth_method()
    ch.cleanup()
    with pytest.raises(NotReady) as caught:
        ch.step(2)
    assert caught.value.hint == ("run the cell `chapter.create_auth_method()` in section 4 first, "
                                 "then the cells after it (or Run > Run All Above Selected Cell)")
    assert "needs the auth method and the gateway config" in caught.value.message
    with pytest.raises(NotReady, match="seed_secret"):
        ch.step(6)
    assert [s.number for s in STEPS] == list(range(1, 9))
