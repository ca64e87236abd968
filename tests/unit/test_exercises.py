"""helpers.exercises (answers applied, checks, hints, folded solutions) and chapter 3's four exercises on the
real stack: each check given a right and a wrong answer, and the hint it answers the wrong one with."""
from __future__ import annotations

import pytest

from helpers.exercises import AnswerError, Attempt, Exercise, Solution, Verdict, parse_yaml
from tests.contract.eso_stack import needs_real_stack


def _exercise(applied: list, verdict: Verdict | None = None, solution: str = "- a\n- b\n") -> Exercise:
    return Exercise(7, "a list", "write a list", solution, "because",
                    lambda text: parse_yaml(text, list, "a YAML list"), lambda v: applied.append(v) or Verdict(
                        "applied", True, f"{len(v)} items"), lambda: verdict or Verdict("exercise 7", False, "no"),
                    default_to_solution=False)


def test_a_malformed_answer_is_a_result_naming_the_mistake_not_an_error():
    applied: list = []
    attempt = _exercise(applied).attempt("- [unclosed")
    assert isinstance(attempt, Attempt) and not attempt.ok and applied == []
    assert "not valid YAML at line 1" in attempt.summary()
    wrong_type = _exercise(applied).attempt("just: a mapping")
    assert "should be a YAML list, and it is a dict" in wrong_type.error


def test_use_solution_applies_the_solution_and_says_so():
    applied: list = []
    attempt = _exercise(applied).attempt("- mine", use_solution=True)
    assert applied == [["a", "b"]] and attempt.used == "the solution"
    assert "apply_solutions = True" in str(attempt.rows())
    mine = _exercise(applied).attempt("- mine")
    assert applied[-1] == ["mine"] and "your answer applied" in mine.summary()


def test_verdict_carries_the_hint_only_when_wrong():
    wrong = Verdict("exercise 7", False, "the Secret has keys []", "add an entry")
    assert wrong.summary() == "exercise 7: not yet: the Secret has keys []. Hint: add an entry" and not wrong.ok
    right = Verdict("exercise 7", True, "both keys", "never shown")
    assert right.summary() == "exercise 7: correct: both keys" and right.ok


def test_solution_is_folded_and_degrades_to_a_details_block():
    shown = Solution("exercise 7", "- a <b>", "why")._repr_mimebundle_()
    assert shown["text/html"].startswith("<details") and " open" not in shown["text/html"].split(">")[0]
    assert "- a &lt;b&gt;" in shown["text/html"], "the answer is escaped"
    assert "- a" not in shown["text/plain"], "the plain text (nbval, logs) does not give the answer away"


def test_parse_yaml_accepts_the_value_itself():
    assert parse_yaml(["x"], list, "a list") == ["x"]
    with pytest.raises(AnswerError, match="write a list as YAML text"):
        parse_yaml(3, list, "a list")


# --- chapter 3's exercises on the real stack ----------------------------------------------------------

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
