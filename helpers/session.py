"""What every chapter shares: the target parameters, the live connections (cluster and Akeyless), and the
lab's controls (its clock, its audit and TokenReview logs).

A chapter (helpers/chapters/<name>.py) holds one `Session` and adds its own parameters and steps. The
session talks to the cluster through helpers.cluster and to Akeyless through helpers.akeyless_client only,
so the same chapter runs against the embedded lab or a real cluster and gateway.

A session is opened afresh by every run of a setup cell: the lab may have been restarted on other ports.
"""
from __future__ import annotations

import contextlib
import os
import re
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Callable, Iterator

from . import akeyless_client as ak
from . import cluster as k8s
from .config import TARGETS, Settings
from .display import Note, Result
from .errors import AkeylessError, ConfigError, LabOnly, ParameterError


@dataclass(frozen=True)
class TargetParameters:
    """The parameters every chapter has: where it runs, and whether secrets are shown."""

    target: str = "lab"
    kube: str = ""                      # "": $WORKSHOP_LAB_KUBE, else the lab already running, else the emulator
    kubeconfig: str = ""
    context: str = ""
    akeyless_url: str = ""
    reveal: bool = False

    @classmethod
    def names(cls) -> set[str]:
        return {f.name for f in fields(cls)}

    @classmethod
    def from_namespace(cls, namespace: dict):
        """The parameters among a notebook's variables (papermill's injected values included)."""
        return cls(**{k: v for k, v in namespace.items() if k in cls.names()})

    def validate(self) -> None:
        """Raise ParameterError for the first parameter that cannot work."""
        for problem in self.problems():
            raise problem

    def problems(self) -> Iterator[ParameterError]:
        if self.target not in TARGETS:
            yield ParameterError("target", self.target, f"the target is one of {', '.join(TARGETS)}", "lab")
        if self.kube not in ("", "emulator", "apiserver"):
            yield ParameterError("kube", self.kube, "the lab's Kubernetes is 'emulator' or 'apiserver'", "emulator")
        if self.kubeconfig and not Path(self.kubeconfig).expanduser().is_file():
            yield ParameterError("kubeconfig", self.kubeconfig, "no such file", "")
        if self.akeyless_url and not re.match(r"^https?://[^/\s]+", self.akeyless_url):
            yield ParameterError("akeyless_url", self.akeyless_url, "a gateway URL starts with https:// "
                                 "(e.g. https://gateway.example.com:8000/api/v2)", "")
        if not isinstance(self.reveal, bool):
            yield ParameterError("reveal", self.reveal, "it is True or False", False)

    def settings(self) -> Settings:
        return Settings.load(target=self.target, kube=self.kube or kube_in_use(), kubeconfig=self.kubeconfig or None,
                             context=self.context or None, akeyless_url=self.akeyless_url or None)


def kube_in_use(settings: Settings | None = None) -> str | None:
    """The lab's Kubernetes side when nobody named one: $WORKSHOP_LAB_KUBE (Settings reads it), else the mode of
    the lab already running, so that opening a chapter (or `lab up`) never swaps the real stack for the emulator
    under the learner, else None (Settings' default, the emulator)."""
    if os.environ.get(Settings.ENV["kube"]):
        return None
    from .lab import running_mode
    return running_mode(settings or Settings.load())


class LabClock:
    """The lab's clock, which token checks use: moved forward to expire tokens without waiting. Lab only."""

    def __init__(self, settings: Settings):
        self.settings = settings

    @property
    def offset(self) -> float:
        if not self.settings.is_lab:
            return 0.0
        from . import lab      # the lab is a tool the notebook starts; the client side never needs it
        return lab.clock_offset(self.settings)

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> float:
        """Raises LabOnly on a target whose clock cannot move (a real cluster, the real kube-apiserver)."""
        from . import lab
        return lab.advance_clock(seconds, self.settings)

    def reset(self) -> bool:
        """Back to real time; True when it had been moved."""
        if not self.offset:
            return False
        from . import lab
        lab.reset_clock(self.settings)
        return True

    @contextlib.contextmanager
    def moved(self, seconds: float):
        """The clock `seconds` ahead for the block, and back to real time after it, whatever happens."""
        self.advance(seconds)
        try:
            yield
        finally:
            self.reset()


class Session:
    """The live target: a cluster, an Akeyless admin session, and (on the lab) the lab's controls."""

    def __init__(self, target: TargetParameters):
        target.validate()
        self.target = target
        self.settings = target.settings()
        self.lab = None
        if self.settings.is_lab:
            from . import lab
            self.lab = lab.up(self.settings)
        self.cluster = k8s.connect(self.settings)
        self.akeyless = self._akeyless_session()
        self.ca = self.cluster.ca_certificate()
        self.clock = LabClock(self.settings)

    def _akeyless_session(self) -> ak.AdminSession:
        s = self.settings
        if s.akeyless_url:
            if not (s.akeyless_access_id and s.akeyless_access_key):
                raise ConfigError("a real Akeyless gateway needs admin credentials",
                                  hint="export AKEYLESS_ACCESS_ID and AKEYLESS_ACCESS_KEY (an API key with admin rights)")
            return ak.connect(s.akeyless_url, s.akeyless_access_id, s.akeyless_access_key)
        if self.lab is None:
            from . import lab
            self.lab = lab.up(s.with_(target="lab"))
        return ak.connect_lab(self.lab)

    # --- what the chapters read ------------------------------------------------------------------

    @property
    def reveal(self) -> bool:
        return self.target.reveal

    @property
    def gateway_url(self) -> str:
        return self.akeyless.url

    @property
    def gateway_ca(self) -> str | None:
        return self.akeyless.ca_cert

    def gateway_ca_pem(self) -> str | None:
        return Path(self.gateway_ca).read_text() if self.gateway_ca else None

    @property
    def lab_gateway(self) -> bool:
        """The lab's own gateway, which shows its audit and TokenReview logs."""
        return self.lab is not None and not self.settings.akeyless_url

    @property
    def real_eso(self) -> bool:
        """A real ESO controller watches this cluster: the lab's real stack, or a cluster whose ESO CRDs are
        Established (ESO installed with Helm, or `python -m helpers lab eso --kubeconfig FILE` beside it)."""
        if self.settings.is_lab:
            return self.lab is not None and self.lab.real_eso
        from . import eso_controller
        established = eso_controller.crds_established(self.cluster)
        return bool(established) and all(established.values())

    @property
    def movable_clock(self) -> bool:
        return self.settings.is_lab and self.lab is not None and self.lab.kube_mode == "emulator"

    def now(self) -> float:
        """The time the cluster's token checks use: the lab's clock (which a chapter may move) or real time."""
        return self.clock.now() if self.settings.is_lab else time.time()

    @staticmethod
    def sa_user(namespace: str, name: str) -> str:
        return k8s.service_account_user(namespace, name)

    def recreate(self, delete: Callable, create: Callable):
        """Akeyless objects are re-created on every run, so a chapter can run twice in a row."""
        try:
            delete()
        except AkeylessError as exc:
            if exc.status not in (404, None):
                raise
        return create()

    def exists(self, read: Callable) -> bool:
        """Whether an Akeyless object is there now (`read` raises a 404 when it is not)."""
        try:
            read()
        except AkeylessError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def audit(self, *, limit: int = 15, access_id: str | None = None) -> Result:
        return ak.audit_log(self.akeyless, limit=limit, access_id=access_id)

    def token_reviews(self, *, limit: int = 1, config_name: str | None = None):
        if not self.lab_gateway:
            raise LabOnly("a real gateway does not show the TokenReviews it made")
        return ak.token_reviews(self.akeyless, limit=limit, config_name=config_name)

    # --- what every chapter opens with -------------------------------------------------------------

    def describe(self) -> Note:
        info = self.cluster.info()
        target = self.target.target
        rows = [("target", target + (f" ({self.lab.kube_mode} Kubernetes API)" if self.lab else "")),
                ("stack", self.lab.stack if self.lab and self.settings.is_lab else "your cluster"),
                ("Kubernetes API server", info.server), ("Kubernetes version", info.version),
                ("Akeyless gateway", self.gateway_url)]
        return Note(f"{target}: Kubernetes {info.version} and an Akeyless gateway, both reachable", rows,
                    title="target")

    def cluster_ca(self) -> Result:
        if self.ca is None:
            return Note("the kubeconfig names no CA for this API server", ok=False, title="cluster CA")
        return self.ca
