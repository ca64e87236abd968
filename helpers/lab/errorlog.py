"""Bugs of the lab's emulators, written to lab.log without letting a client flood it.

A request that trips a bug answers a bare 500 (never the exception's text: it may hold a secret value); the
traceback goes to the log once per distinct bug (exception type and the line that raised it), at most
BUDGET tracebacks a minute, and lab.log is kept under MAX_LOG bytes by moving it to lab.log.1. The lab
process's stdout and stderr are lab.log opened in append mode, so truncating it in place is safe.
"""
from __future__ import annotations

import logging
import os
import shutil
import time
import traceback
from pathlib import Path

MAX_LOG = 4 * 1024 * 1024
BUDGET = 10                 # tracebacks per WINDOW seconds
WINDOW = 60.0

log = logging.getLogger("helpers.lab")


class ErrorLog:
    def __init__(self, path: Path | None = None, clock=time.monotonic):
        self.path = Path(path) if path else None
        self._clock = clock
        self.seen: dict[tuple, int] = {}
        self._window_start = clock()
        self._written = 0

    def bound(self) -> None:
        """Keep the log file under MAX_LOG: the older half of the history moves to lab.log.1."""
        if self.path is None:
            return
        try:
            if self.path.stat().st_size <= MAX_LOG:
                return
            shutil.copyfile(self.path, self.path.with_name(self.path.name + ".1"))
            os.truncate(self.path, 0)
        except OSError:
            pass

    def admit(self, key: tuple) -> bool:
        """True the first time `key` is seen, while this minute's budget lasts."""
        count = self.seen.get(key, 0) + 1
        self.seen[key] = count
        if len(self.seen) > 1000:           # distinct bugs are few; a flood of "distinct" ones is bounded too
            self.seen = {key: count}
        now = self._clock()
        if now - self._window_start >= WINDOW:
            self._window_start, self._written = now, 0
        if count > 1 or self._written >= BUDGET:
            return False
        self._written += 1
        self.bound()
        return True

    def report(self, exc: BaseException, where: str) -> bool:
        """Log `exc`'s traceback if it is new and the budget allows; True when it was written."""
        frames = traceback.extract_tb(exc.__traceback__)
        last = frames[-1] if frames else None
        if not self.admit((type(exc).__name__, last.filename if last else "", last.lineno if last else 0)):
            return False
        log.error("bug in the lab while handling %s (logged once; later occurrences are counted)", where,
                  exc_info=(type(exc), exc, exc.__traceback__))
        return True


class Budget(logging.Filter):
    """For the web server's own loggers (aiohttp logs a traceback for every malformed request line or
    header it refuses): each distinct message passes once, within the same budget as the lab's bugs."""

    def __init__(self, errors: "ErrorLog"):
        super().__init__()
        self.errors = errors

    def filter(self, record: logging.LogRecord) -> bool:
        key = (record.name, str(record.msg)[:80], record.exc_info[0].__name__ if record.exc_info else "")
        return self.errors.admit(key)


_default = ErrorLog()


def configure(path: Path) -> None:
    """Called once by the lab process: the log file to bound, and a handler for the lab's own messages."""
    global _default
    _default = ErrorLog(path)
    _default.bound()
    for name in ("aiohttp.server", "aiohttp.web", "aiohttp.access", "asyncio"):
        logging.getLogger(name).addFilter(Budget(_default))
    if not log.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False


def report(exc: BaseException, where: str) -> bool:
    return _default.report(exc, where)


def bound() -> None:
    _default.bound()
