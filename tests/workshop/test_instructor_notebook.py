"""The instructor's notebook executes headless (papermill) and under nbval with no error output, against a
provisioned room and against a lab with no room; the committed copy holds a headless run's outputs."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from helpers.config import PROJECT_ROOT

from .conftest import papermill, room_env

BOARD = PROJECT_ROOT / "notebooks" / "instructor" / "90_instructor_board.ipynb"


def _outputs(path: Path) -> str:
    nb = json.loads(path.read_text())
    return json.dumps([c.get("outputs", []) for c in nb["cells"] if c["cell_type"] == "code"])


def test_runs_headless_on_a_room(at_start, tmp_path):
    settings, _ = at_start
    run = papermill(BOARD, tmp_path / "board.ipynb", settings)
    log = run.communicate(timeout=600)[0]
    assert run.returncode == 0, log[-3000:]
    text = _outputs(tmp_path / "board.ipynb")
    assert '"output_type": "error"' not in text
    assert "workshop ws: 3 attendees on the embedded lab" in text
    assert "workshop ws: 3 attendees, 0 finished, 0 may need a hand" in text
    assert "27 of 27 cross-attendee attempts refused" in text
    assert "application/vnd.jupyter.widget-view+json" in text, "the live board is a widget"


def test_nbval_on_a_room(room):
    settings, _ = room
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
                          "--nbval-current-env", str(BOARD)], env=room_env(settings), cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]
    assert " passed" in run.stdout and "failed" not in run.stdout


def test_a_lab_without_a_room_says_how_to_start_one(tmp_path, lab_settings, lab):
    run = papermill(BOARD, tmp_path / "board.ipynb", lab_settings)
    assert run.communicate(timeout=600) and run.returncode == 0
    text = _outputs(tmp_path / "board.ipynb")
    assert "no workshop is provisioned" in text and "workshop up --attendees N" in text
    assert '"output_type": "error"' not in text


def test_committed_outputs_come_from_a_run():
    nb = json.loads(BOARD.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(c.get("execution_count") for c in code)
    text = _outputs(BOARD)
    assert '"output_type": "error"' not in text
    assert "cross-attendee attempts refused" in text and "attendees on the embedded lab" in text
