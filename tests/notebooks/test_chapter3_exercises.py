"""Chapter 3's four exercises on the real stack: each check given a right and a wrong answer (two for some),
and the hint it answers the wrong one with; a check before its answer names the cell to run."""
from __future__ import annotations

import pytest

from tests.contract.eso_stack import needs_real_stack

WRONG = {
    1: ("- secretKey: password\n  remoteRef: {key: /demo/app/db-config, property: password}\n",
        "add a second entry whose secretKey is username"),
    2: ("path: /demo/app-shelf\ncapabilities: [read, list]\n", "ends in /*"),
    3: ("postgres://{{ .username }}@{{ .host }}:{{ .port }}/app", "the url lacks password"),
    4: ("- akeyless-auth\n", "add akeyless-auth-team-b to the condition's namespaces"),
}
ALSO_WRONG = {
    1: ("- secretKey: username\n  remoteRef: {key: /demo/app/db-config}\n", "set remoteRef.property: username"),
    2: ("path: /demo/app-shelf/*\ncapabilities: [list]\n", "the rule needs read as well as list"),
    4: ("- akeyless-auth-team-b\n", "keep akeyless-auth in the list"),
}


@pytest.fixture(scope="module")
def chapter(tmp_path_factory):
    patch = pytest.MonkeyPatch()
    patch.setenv("WORKSHOP_LAB_DIR", str(tmp_path_factory.mktemp("exercises") / "lab"))
    from helpers import lab as lab_runtime
    from helpers.chapters import syncing
    found = syncing.Chapter(syncing.Parameters(kube="apiserver", apply_solutions=False))
    found.identity()
    found.seed_json()
    found.exercises.prepare_shelf()
    yield found
    found.cleanup()
    lab_runtime.down(found.session.settings)
    patch.undo()


@needs_real_stack
@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_each_check_answers_a_wrong_answer_with_its_hint_and_passes_the_right_one(chapter, number):
    exercise = chapter.exercise(number)
    for answer, hint in [WRONG[number]] + ([ALSO_WRONG[number]] if number in ALSO_WRONG else []):
        attempt = exercise.attempt(answer)
        assert attempt.ok and attempt.used == "your answer", attempt.summary()
        verdict = exercise.check()
        assert not verdict.passed and hint in verdict.hint, verdict.summary()
    right = exercise.attempt(exercise.solution_text)
    assert right.ok, right.summary()
    verdict = exercise.check()
    assert verdict.passed, verdict.summary()


@needs_real_stack
def test_a_check_before_its_answer_names_the_cell_to_run(chapter):
    chapter.cleanup()
    verdict = chapter.exercise(1).check()
    assert not verdict.passed and verdict.hint == "run the answer cell above first"
