"""helpers.exercises: answers applied (or the solution), checks with hints, folded solutions, and a malformed
answer turned into a result instead of an error. Chapter 3's four exercises on the real stack are in
tests/notebooks/test_chapter3_exercises.py (the real-stack pass runs that folder's test_chapter3_* files)."""
from __future__ import annotations

import pytest

from helpers.exercises import AnswerError, Attempt, Exercise, Solution, Verdict, parse_yaml


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
