"""The errors the workshop raises, each with a one-line hint that tells the learner what to do.

LabError                    every expected error (display.install_error_handler shows these as one line)
  ConfigError               a setting or argument that cannot work
    ParameterError          a notebook parameter: names it, says what is wrong and a value to use
  NotReady                  a cell needs what an earlier cell creates: names that cell (and its section)
  NeedsRealStack            a chapter that needs the real ESO controller, opened on a target without one
  LabNotRunning, LabStartFailed, LabOnly   the embedded lab
  ClusterError              a Kubernetes API call failed (HTTP status and the Status reason)
  AkeylessError             an Akeyless API call failed (HTTP status and the gateway's text)
Anything else is a bug and keeps its traceback.
"""
from __future__ import annotations


class LabError(Exception):
    """Base of every workshop error: a message that names the problem and a hint that names the fix."""

    hint = ""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        text = self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class ConfigError(LabError):
    hint = "check the parameters cell or the WORKSHOP_* environment variables"


class LabNotRunning(LabError):
    hint = "start it with `python -m helpers lab up` (or `helpers.lab.up()` in a notebook)"


class LabStartFailed(LabError):
    hint = "read .lab/lab.log, then try `python -m helpers lab reset` and `lab up` again"


class LabOnly(LabError):
    hint = "this only exists in the embedded lab; on a real cluster, follow the notebook's note instead"


class ClusterError(LabError):
    """A Kubernetes API call failed; carries the HTTP status and the Status reason of the API server."""

    def __init__(self, message: str, *, status: int | None = None, reason: str = "", hint: str | None = None):
        super().__init__(message, hint)
        self.status = status
        self.reason = reason


class AkeylessError(LabError):
    """An Akeyless API call failed; carries the HTTP status and the gateway's error text."""

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None):
        super().__init__(message, hint)
        self.status = status


class ParameterError(ConfigError):
    """A notebook parameter with a value that cannot work: names the parameter and a value to use."""

    def __init__(self, parameter: str, value, problem: str, suggestion=None):
        fix = f"use {parameter} = {suggestion!r}" if suggestion not in (None, "") else f"change {parameter}"
        super().__init__(f"parameter {parameter} = {value!r}: {problem}", hint=f"{fix} in the parameters cell")
        self.parameter = parameter
        self.suggestion = suggestion


class NotReady(LabError):
    """A cell needs something an earlier cell creates (and that is not there now): names that cell."""

    def __init__(self, message: str, cell: str, section: int | str | None = None, then: str = ""):
        where = f" in section {section}" if section is not None else ""
        super().__init__(message, hint=f"run the cell `{cell}`{where} first" + (f", then {then}" if then else ""))
        self.cell = cell


class NeedsRealStack(LabError):
    """A chapter that shows what the real ESO controller does, run where no controller watches the cluster.

    `helpers run` reports a notebook that stops on this as skipped, not failed."""

    hint = ("build the real stack once with `make real`, then `python -m helpers lab down` and "
            "`python -m helpers lab up --kube apiserver` (or install ESO in your own cluster) and run the chapter again")

    def __init__(self, chapter: str, hint: str | None = None):
        super().__init__(f"{chapter} needs a real ESO controller watching the cluster, and this target has none", hint)
        self.chapter = chapter
