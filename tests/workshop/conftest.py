"""One room of three attendees on a lab of this test session's own (its own directory, so the chapter
runs that papermill starts find it through WORKSHOP_LAB_DIR and nobody else's lab is touched)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import lab as lab_runtime
from helpers import workshop
from helpers.config import PROJECT_ROOT, Settings
from helpers.workshop import provision

ATTENDEES = 3


@pytest.fixture(scope="session")
def room_settings(tmp_path_factory) -> Settings:
    return Settings.load(target="lab", lab_dir=str(tmp_path_factory.mktemp("room-lab")),
                         kube=os.environ.get("WORKSHOP_LAB_KUBE", "emulator"))


@pytest.fixture(scope="session")
def room(room_settings):
    """(settings, connections) of a provisioned room of three; removed and the lab stopped at the end."""
    workshop.up(room_settings, ATTENDEES)
    yield room_settings, provision.connect(room_settings)
    workshop.down(room_settings)
    lab_runtime.down(room_settings)


@pytest.fixture
def at_start(room):
    """The room with every attendee at the start (a chapter's cleanup removes their baseline)."""
    settings, conn = room
    for attendee in workshop.roster.require(settings.lab_dir).attendees:
        workshop.reset(settings, attendee.id)
    return settings, conn


def helper_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    """`python -m helpers --lab-dir <room> ...` as a person types it."""
    return subprocess.run([sys.executable, "-m", "helpers", "--lab-dir", str(settings.lab_dir), *args],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=240)


def room_env(settings: Settings) -> dict:
    return {**os.environ, "WORKSHOP_LAB_DIR": str(settings.lab_dir)}


def papermill(notebook: Path, output: Path, settings: Settings, parameters_file: Path | None = None):
    """`.venv/bin/python -m papermill` as an attendee runs it, started in the background."""
    cmd = [sys.executable, "-m", "papermill", str(notebook), str(output), "--cwd", str(notebook.parent),
           "--no-progress-bar"]
    if parameters_file:
        cmd += ["-f", str(parameters_file)]
    return subprocess.Popen(cmd, env=room_env(settings), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
