"""Who is in the room: each attendee's names, derived from one prefix and a number, and where their files live.

Every name the chapter uses is derived here, so two attendees never share an object on either side:
their namespace, the reviewer's namespace (which they may not touch), their Akeyless paths, roles, auth
methods and gateway config. The roster is stored in the lab directory (0600) so `status`, `reset` and
the instructor's board find the room again.
"""
from __future__ import annotations

import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import ConfigError

ATTENDEE_SA = "attendee"            # the identity in the attendee's own kubeconfig (not the workload's)
WORKLOAD_SA = "akeyless-auth-sa"
REVIEWER_SA = "akeyless-token-reviewer"
ESO_NAMESPACE = "external-secrets"  # one ESO per cluster, as in a real one
_PREFIX = re.compile(r"^[a-z][a-z0-9]{0,11}$")


@dataclass(frozen=True)
class Attendee:
    """One attendee's names. `parameters()` is what their chapter opens with."""

    id: str                      # e.g. ws-01: also their namespace
    prefix: str
    number: int

    @classmethod
    def of(cls, prefix: str, number: int) -> "Attendee":
        return cls(f"{prefix}-{number:02d}", prefix, number)

    @property
    def namespace(self) -> str:
        return self.id

    @property
    def reviewer_namespace(self) -> str:
        """Not the attendee's namespace: who can mint the reviewer's token can review anyone's tokens."""
        return f"{self.id}-gateway"

    @property
    def other_namespace(self) -> str:
        return f"{self.id}-other"

    @property
    def auth_method(self) -> str:
        return f"/workshop/{self.id}/aks-eso-k8s"

    @property
    def k8s_conf_name(self) -> str:
        return f"{self.id}-conf"

    @property
    def role(self) -> str:
        return f"/workshop/{self.id}/eso-app-reader"

    @property
    def secret_path(self) -> str:
        return f"/{self.id}/app/db-password"

    @property
    def secret_rule(self) -> str:
        return f"/{self.id}/app/*"

    @property
    def other_secret_path(self) -> str:
        return f"/{self.id}/other/api-token"

    @property
    def api_key_auth_method(self) -> str:
        return f"/workshop/{self.id}/ci-api-key"

    @property
    def other_team_auth_method(self) -> str:
        return f"/workshop/{self.id}/other-team"

    def parameters(self, *, target: str = "lab", kube: str = "emulator", kubeconfig: str = "",
                   context: str = "") -> dict:
        """The chapter's parameters for this attendee: the parameters cell's names, plus the chapter's
        other per-run names (reviewer, API-key and other-team methods), which must differ per attendee
        for concurrent runs not to delete each other's objects."""
        return {"target": target, "kube": kube, "kubeconfig": kubeconfig, "context": context,
                "namespace": self.namespace, "service_account": WORKLOAD_SA, "audience": "akeyless",
                "auth_method": self.auth_method, "k8s_conf_name": self.k8s_conf_name, "role": self.role,
                "secret_path": self.secret_path, "secret_rule": self.secret_rule,
                "other_secret_path": self.other_secret_path, "k8s_secret": "app-db-secret",
                "reviewer_namespace": self.reviewer_namespace, "reviewer_service_account": REVIEWER_SA,
                "other_namespace": self.other_namespace, "api_key_auth_method": self.api_key_auth_method,
                "other_team_auth_method": self.other_team_auth_method, "eso_namespace": ESO_NAMESPACE}

    def owns_path(self, path: str) -> bool:
        """Whether an Akeyless path (item, role, auth method, config) is one of this attendee's."""
        path = path or ""
        return (path.startswith(f"/{self.id}/") or path.startswith(f"/workshop/{self.id}/")
                or path in (self.k8s_conf_name, self.k8s_conf_name + "-wrong-ca", self.k8s_conf_name + "-typo"))


@dataclass
class Roster:
    """The room: the prefix, the target the attendees use, and when each attendee last started afresh."""

    prefix: str
    target: str
    kube: str
    kubeconfig: str                     # the admin kubeconfig for target=kubeconfig ("" for the lab)
    context: str
    started: dict                       # attendee id -> lab-clock time of their last `up`/`reset`
    quiet: list = field(default_factory=list)   # [start, end] of the instructor's `up` and `check`: not the room's

    def in_quiet(self, ts: float) -> bool:
        return any(start <= ts <= end for start, end in self.quiet)

    @property
    def attendees(self) -> list[Attendee]:
        return [Attendee.of(self.prefix, int(a.rsplit("-", 1)[1])) for a in sorted(self.started)]

    def attendee(self, name: str) -> Attendee:
        for attendee in self.attendees:
            if name in (attendee.id, str(attendee.number), f"{attendee.number:02d}"):
                return attendee
        known = ", ".join(a.id for a in self.attendees) or "none"
        raise ConfigError(f"no attendee {name!r} in this workshop", hint=f"attendees: {known}")


def check_prefix(prefix: str) -> str:
    if not _PREFIX.match(prefix or ""):
        raise ConfigError(f"prefix {prefix!r} cannot start a namespace name",
                          hint="use 1-12 lowercase letters or digits, starting with a letter (e.g. --prefix ws)")
    return prefix


def workshop_dir(lab_dir: Path) -> Path:
    return Path(lab_dir) / "workshop"


def attendee_dir(lab_dir: Path, attendee: Attendee) -> Path:
    return workshop_dir(lab_dir) / attendee.id


def _roster_path(lab_dir: Path) -> Path:
    return workshop_dir(lab_dir) / "roster.json"


def load(lab_dir: Path) -> Roster | None:
    path = _roster_path(lab_dir)
    if not path.exists():
        return None
    return Roster(**json.loads(path.read_text()))


def require(lab_dir: Path) -> Roster:
    roster = load(lab_dir)
    if roster is None:
        raise ConfigError(f"no workshop is provisioned in {lab_dir}",
                          hint="start one with `python -m helpers workshop up --attendees N`")
    return roster


def save(lab_dir: Path, roster: Roster) -> None:
    write_private(_roster_path(lab_dir), json.dumps(asdict(roster), indent=2, sort_keys=True))


def remove(lab_dir: Path) -> None:
    _roster_path(lab_dir).unlink(missing_ok=True)


def write_private(path: Path, text: str) -> Path:
    """Write a file only its owner can read (credentials, and what points at them)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)
    return path


def now() -> float:
    """The time the lab's audit log stamps (real time: `workshop up` sets a moved lab clock back and locks it)."""
    return time.time()
