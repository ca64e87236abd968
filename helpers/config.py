"""Settings: which target the notebooks face and the names they use.

Precedence is argument > environment variable > default, so a notebook's parameters cell,
a shell's exported WORKSHOP_* variables and the defaults below compose predictably.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import ConfigError

TARGETS = ("lab", "kubeconfig")
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_lab_dir() -> Path:
    return PROJECT_ROOT / ".lab"


@dataclass(frozen=True)
class Settings:
    target: str = "lab"
    lab_dir: Path = field(default_factory=_default_lab_dir)
    kube: str = "emulator"              # the lab's Kubernetes side: "emulator" or "apiserver"
    kubeconfig: str | None = None       # target=kubeconfig: path, default ~/.kube/config
    context: str | None = None          # target=kubeconfig: context name, default current
    akeyless_url: str | None = None     # None: the lab's gateway
    akeyless_access_id: str | None = None
    akeyless_access_key: str | None = None

    ENV = {
        "target": "WORKSHOP_TARGET",
        "lab_dir": "WORKSHOP_LAB_DIR",
        "kube": "WORKSHOP_LAB_KUBE",
        "kubeconfig": "KUBECONFIG",
        "context": "WORKSHOP_CONTEXT",
        "akeyless_url": "AKEYLESS_URL",
        "akeyless_access_id": "AKEYLESS_ACCESS_ID",
        "akeyless_access_key": "AKEYLESS_ACCESS_KEY",
    }

    @classmethod
    def load(cls, **overrides) -> "Settings":
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}",
                              hint=f"known settings: {', '.join(f.name for f in fields(cls))}")
        values = {}
        for f in fields(cls):
            if overrides.get(f.name) not in (None, ""):
                values[f.name] = overrides[f.name]
            elif os.environ.get(cls.ENV[f.name]):
                values[f.name] = os.environ[cls.ENV[f.name]]
        if "lab_dir" in values:
            values["lab_dir"] = Path(values["lab_dir"]).expanduser().resolve()
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.target not in TARGETS:
            raise ConfigError(f"unknown target {self.target!r}",
                              hint=f"use one of: {', '.join(TARGETS)}")
        if self.kube not in ("emulator", "apiserver"):
            raise ConfigError(f"unknown lab Kubernetes {self.kube!r}", hint="use 'emulator' or 'apiserver'")

    @property
    def is_lab(self) -> bool:
        return self.target == "lab"

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)
