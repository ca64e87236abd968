"""The lab's own controls under bad input: the clock refuses NaN, infinity and absurd offsets and never
persists them; `lab reset` wipes only a lab's directory; bug tracebacks reach lab.log once, within a
budget, and the log stays bounded."""
from __future__ import annotations

import json
import logging
import math
import os

import pytest

from helpers import lab as lab_runtime
from helpers.config import Settings
from helpers.errors import LabError
from helpers.lab import errorlog
from helpers.lab.clock import MAX_OFFSET, ClockError, LabClock
from helpers.lab.runtime import MARKER


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, "10", True, None, MAX_OFFSET + 1, -5])
def test_clock_refuses_and_keeps_its_offset(tmp_path, bad):
    clock = LabClock(tmp_path / "clock.json")
    clock.advance(60)
    with pytest.raises(ClockError):
        clock.advance(bad)
    assert clock.offset == 60 and json.loads((tmp_path / "clock.json").read_text()) == {"offset_seconds": 60.0}


@pytest.mark.parametrize("stored", ['{"offset_seconds": NaN}', '{"offset_seconds": Infinity}', '[1]', "junk",
                                    '{"offset_seconds": 1e300}'])
def test_clock_ignores_a_file_it_did_not_write(tmp_path, stored):
    (tmp_path / "clock.json").write_text(stored)
    assert LabClock(tmp_path / "clock.json").offset == 0.0


@pytest.mark.skipif(os.environ.get("WORKSHOP_LAB_KUBE", "emulator") != "emulator",
                    reason="lab-only: the real kube-apiserver's clock cannot be moved")
def test_running_lab_refuses_nan_clock(lab, lab_settings):
    before = lab_runtime.clock_offset(lab_settings)
    for bad in (math.nan, math.inf):
        with pytest.raises(LabError, match="finite number"):
            lab_runtime.advance_clock(bad, lab_settings)
    assert lab_runtime.clock_offset(lab_settings) == before


def test_reset_refuses_a_directory_that_is_not_a_lab(tmp_path, monkeypatch):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    monkeypatch.setenv("WORKSHOP_LAB_DIR", str(precious))
    with pytest.raises(LabError, match="WORKSHOP_LAB_DIR") as info:
        lab_runtime.reset(Settings.load())
    assert "\n" not in str(info.value)
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_reset_wipes_a_lab_directory(tmp_path):
    settings = Settings.load(lab_dir=str(tmp_path / "lab"))
    lab_runtime.up(settings)
    assert (tmp_path / "lab" / MARKER).exists()
    assert "wiped" in lab_runtime.reset(settings).summary()
    assert [p.name for p in (tmp_path / "lab").iterdir()] == [".lock"]


def _raise_at(line: int):
    try:
        exec(compile("\n" * line + "raise KeyError('secret-value')", "where.py", "exec"))
    except KeyError as exc:
        return exc


def test_tracebacks_are_logged_once_per_bug_within_a_budget(tmp_path, caplog):
    now = [0.0]
    log = errorlog.ErrorLog(tmp_path / "lab.log", clock=lambda: now[0])
    with caplog.at_level(logging.ERROR, logger="helpers.lab"):
        written = [log.report(_raise_at(1), "GET /x") for _ in range(50)]
        assert written.count(True) == 1
        distinct = [log.report(_raise_at(line), "GET /y") for line in range(2, 40)]
        assert distinct.count(True) == errorlog.BUDGET - 1
        now[0] += errorlog.WINDOW
        assert log.report(_raise_at(100), "GET /z")
    assert len(caplog.records) == errorlog.BUDGET + 1


def test_log_is_bounded(tmp_path):
    path = tmp_path / "lab.log"
    path.write_bytes(b"x" * (errorlog.MAX_LOG + 10))
    errorlog.ErrorLog(path).bound()
    assert path.stat().st_size == 0 and (tmp_path / "lab.log.1").stat().st_size == errorlog.MAX_LOG + 10


def test_journal_never_writes_what_it_cannot_read_back(tmp_path):
    from helpers.lab.journal import MAX_RECORD_DEPTH, Journal
    journal = Journal(tmp_path / "j.jsonl")
    deep: object = "x"
    for _ in range(MAX_RECORD_DEPTH):
        deep = [deep]
    for bad in ({"obj": deep}, {"obj": math.nan}, {"obj": math.inf}):
        with pytest.raises(ValueError):
            journal.append(bad)
    journal.append({"obj": "kept"})
    journal.close()
    # a record written by an older lab, nested too deep to read: skipped at replay, never fatal
    with (tmp_path / "j.jsonl").open("a") as fh:
        fh.write('{"obj":' + "[" * 900 + "]" * 900 + "}\n")
    assert list(journal.replay()) == [{"obj": "kept"}]
