"""Chapter 3's parameters: chapter 2's names (so the same parameter sets work for both chapters) plus
what only this chapter uses, and the names of everything it creates, derived from them."""
from __future__ import annotations

import re
from dataclasses import dataclass, fields
from typing import Iterator

from ...errors import ParameterError
from .. import kubernetes_auth

_DURATION = re.compile(r"^(\d+(ms|s|m|h))+$")


def duration_seconds(text: str) -> float:
    """A Go duration as ESO's refreshInterval takes it (`5s`, `1m30s`, `1h`) in seconds."""
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(int(n) * scale[u] for n, u in re.findall(r"(\d+)(ms|s|m|h)", text))


@dataclass(frozen=True)
class Parameters(kubernetes_auth.Parameters):
    """Chapter 2's parameters and chapter 3's own."""

    refresh_interval: str = "5s"        # small, so a change in Akeyless shows up in the Secret while you watch
    extra_namespace: str = ""           # "" = <namespace>-team-b: the namespace exercise 3 admits to the shared store
    apply_solutions: bool = True        # headless runs: each exercise applies its solution instead of your answer

    def problems(self) -> Iterator[ParameterError]:
        yield from super().problems()
        if not isinstance(self.refresh_interval, str) or not _DURATION.match(self.refresh_interval):
            yield ParameterError("refresh_interval", self.refresh_interval, "a refreshInterval is a Go duration "
                                 "such as 5s, 30s or 1m", "5s")
        elif not 1 <= duration_seconds(self.refresh_interval) <= 60:
            yield ParameterError("refresh_interval", self.refresh_interval, "between 1s and 60s, so the refresh "
                                 "can be watched in the cell", "5s")
        if self.extra_namespace and (not isinstance(self.extra_namespace, str) or len(self.extra_namespace) > 63
                                     or not kubernetes_auth._DNS_LABEL.match(self.extra_namespace)):
            yield ParameterError("extra_namespace", self.extra_namespace, "not a namespace name (a DNS-1123 label)",
                                 "")
        if not isinstance(self.apply_solutions, bool):
            yield ParameterError("apply_solutions", self.apply_solutions, "it is True or False", True)

    def chapter2(self) -> kubernetes_auth.Parameters:
        """The same names as chapter 2's Parameters (the identity chapter 2 built)."""
        names = {f.name for f in fields(kubernetes_auth.Parameters)}
        return kubernetes_auth.Parameters(**{k: getattr(self, k) for k in names})

    def target_parameters(self):
        return self.chapter2().target_parameters()

    # --- the names this chapter creates, all derived from the parameters ---------------------------

    @property
    def folder(self) -> str:
        """The folder of secret_path (what secret_rule grants): /demo/app."""
        return self.secret_path.rsplit("/", 1)[0] or "/"

    @property
    def json_secret(self) -> str:
        return self.folder + "/db-config"

    @property
    def catalog(self) -> str:
        """A folder beside the rule's, that `find` lists: outside secret_rule, so it needs its own rule."""
        return self.folder + "-catalog"

    @property
    def pushed(self) -> str:
        """Where the PushSecret writes: outside secret_rule too (pushing needs create and update there)."""
        return self.folder + "-pushed"

    @property
    def team_b(self) -> str:
        return self.extra_namespace or (self.namespace[:55] + "-team-b")

    @property
    def refresh_seconds(self) -> float:
        return duration_seconds(self.refresh_interval)

    @property
    def find_tag(self) -> str:
        return "eso-find"
