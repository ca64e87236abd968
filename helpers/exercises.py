"""Exercises in a chapter: the learner writes a manifest fragment or a rule, the chapter applies it to the
live target, a check reads the live state back and answers with a hint that names what is wrong, and a
solution waits folded until the learner opens it.

An `Exercise` is data plus three callables a chapter supplies:
- `parse(text) -> value` turns the learner's answer into what `apply` takes; it raises AnswerError (one
  line naming the mistake) for an answer that cannot even be applied (bad YAML, a wrong type);
- `apply(value) -> Result` puts it on the target, under names of the exercise's own, so that a wrong answer
  never changes what the chapter's later cells use;
- `check() -> Verdict` inspects the target (never the answer text), so it also judges a fix made by hand.

`attempt(answer, use_solution=True)` applies the solution instead (headless runs set the notebook's
`apply_solutions`), and says so. Nothing here raises for a learner's mistake: every outcome is a result.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any, Callable

import yaml

from .display import Result
from .errors import LabError


class AnswerError(LabError):
    """An answer that cannot be applied as written."""

    hint = "fix the answer cell and run it again (the solution cell shows one that works)"


@dataclass
class Verdict(Result):
    """The check's answer: passed or not, what it saw, and the hint that names the fix."""

    exercise: str
    passed: bool
    said: str
    hint: str = ""
    evidence: list = field(default_factory=list)

    title = "check"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return self.passed

    def summary(self) -> str:
        if self.passed:
            return f"{self.exercise}: correct: {self.said}"
        return f"{self.exercise}: not yet: {self.said}" + (f". Hint: {self.hint}" if self.hint else "")

    def rows(self):
        return list(self.evidence)


@dataclass
class Solution(Result):
    """A solution, folded: a <details> block, which opens with a click in JupyterLab and in exported HTML
    alike (no widget needed, so it degrades to nothing worse than a closed box)."""

    exercise: str
    answer: str
    why: str

    title = "solution"

    def summary(self) -> str:
        return f"{self.exercise}: solution folded (open the block to read it)"

    def _repr_html_(self) -> str:
        return (f"<details style='border-left:4px solid #1565c0;padding:4px 8px'><summary><b>Solution</b>: "
                f"{html.escape(self.exercise)} (click to reveal)</summary>"
                f"<pre style='background:#f6f8fa;padding:6px;white-space:pre-wrap'>{html.escape(self.answer)}</pre>"
                f"<p>{html.escape(self.why)}</p></details>")


@dataclass
class Attempt(Result):
    """What applying an answer did: whose answer it was, and the target's reply (or why it could not apply)."""

    exercise: str
    used: str                 # "your answer" or "the solution"
    applied: Any = None
    error: str = ""

    title = "exercise"

    @property
    def ok(self) -> bool:  # type: ignore[override]
        return not self.error

    def summary(self) -> str:
        if self.error:
            return f"{self.exercise}: {self.used} was not applied: {self.error}"
        done = self.applied.summary() if hasattr(self.applied, "summary") else "applied"
        return f"{self.exercise}: {self.used} applied: {done}. Now run the check cell"

    def rows(self):
        rows = [("applied", self.used)]
        if self.used == "the solution":
            rows.append(("why", "apply_solutions = True in the parameters cell; set it to False to apply yours"))
        return rows


@dataclass
class Exercise:
    number: int
    title: str
    task: str
    solution_text: str
    why: str
    parse: Callable[[Any], Any]
    apply: Callable[[Any], Any]
    judge: Callable[[], Verdict]
    default_to_solution: bool = True

    @property
    def name(self) -> str:
        return f"exercise {self.number} ({self.title})"

    def attempt(self, answer: Any, *, use_solution: bool | None = None) -> Attempt:
        use = self.default_to_solution if use_solution is None else use_solution
        used = "the solution" if use else "your answer"
        try:
            value = self.parse(self.solution_text if use else answer)
            applied = self.apply(value)
        except LabError as exc:           # a wrong answer is a result to read, never an error that stops the run
            return Attempt(self.name, used, error=exc.message)
        return Attempt(self.name, used, applied)

    def check(self) -> Verdict:
        return self.judge()

    def solution(self) -> Solution:
        return Solution(self.name, self.solution_text.strip("\n"), self.why)


def parse_yaml(text: Any, expected: type, what: str) -> Any:
    """The learner's YAML answer as `expected` (list or dict); AnswerError naming the problem otherwise."""
    if isinstance(text, expected):
        return text
    if not isinstance(text, str):
        raise AnswerError(f"the answer is a {type(text).__name__}; write {what} as YAML text")
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise AnswerError(f"the answer is not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(value, expected):
        raise AnswerError(f"the answer should be {what}, and it is a {type(value).__name__}")
    return value
