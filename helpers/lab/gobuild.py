"""Where the binaries built from the Go module proxy live: one rule for tools/k8s/build.sh and
tools/eso/build.sh, read from the scripts themselves so that a version has one place to be bumped."""
from __future__ import annotations

import os
import re
from pathlib import Path

from ..errors import LabStartFailed


def pinned_version(script: Path, variable: str) -> str:
    """The `VARIABLE=vX.Y.Z` line of a build script."""
    match = re.search(rf"^{variable}=(v[0-9.]+)$", script.read_text(), re.M)
    if not match:
        raise LabStartFailed(f"{script} has no {variable}=vX.Y.Z line")
    return match.group(1)


def cache_dir(override_variable: str, name: str) -> Path:
    """`$override_variable`, else `${WORKSHOP_CACHE:-~/.cache/akeyless-workshop}/<name>`: outside the
    clone, so a fresh clone on the same machine reuses what an earlier one built."""
    if os.environ.get(override_variable):
        return Path(os.environ[override_variable])
    cache = Path(os.environ.get("WORKSHOP_CACHE") or Path.home() / ".cache" / "akeyless-workshop")
    return cache / name
